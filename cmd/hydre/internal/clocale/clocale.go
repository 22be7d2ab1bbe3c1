// Package clocale keeps the GUI toolkit quiet under the C locale.
//
// Fyne reads the user's locale while its packages initialise, before main
// runs, and logs an error for "C.UTF-8", the locale of most servers and CI
// machines, on every hydre command. Imported for its side effect by main,
// this package runs first (Go initialises ready packages in import-path
// order, and this path sorts before the locale library Fyne uses): under a C
// or POSIX locale with no LANGUAGE, it sets LANGUAGE=en for this process.
// LANGUAGE only chooses the language of translated messages; it changes no
// formatting and nothing else.
package clocale

import (
	"os"
	"strings"
)

func init() {
	if os.Getenv("LANGUAGE") != "" {
		return
	}
	loc := ""
	for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc = os.Getenv(env); loc != "" {
			break
		}
	}
	base, _, _ := strings.Cut(loc, ".")
	if base == "C" || base == "POSIX" {
		os.Setenv("LANGUAGE", "en")
	}
}
