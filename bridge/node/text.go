package node

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxRemoteText bounds the bytes of a node's text (its error line, a
// path) shown to a user.
const maxRemoteText = 512

// Printable returns text that came from a bridge node (its error line, a
// file's path in a stranger's torrent) fit to show in a terminal or a
// window: every control character (C0, DEL, C1: terminal escape sequences
// begin with ESC or CSI), Unicode format character (bidi overrides,
// zero-width marks), line or paragraph separator and invalid byte is
// written as a visible escape (\x1b, \u202e), and text over 512 bytes is
// cut with "…". Printable text comes back unchanged.
func Printable(s string) string {
	var b strings.Builder
	for i, r := range s {
		if b.Len() >= maxRemoteText {
			b.WriteString("…")
			break
		}
		switch {
		case r == utf8.RuneError && isInvalidAt(s, i):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && (r < 0x20 || r == 0x7f):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == '\u2028', r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isInvalidAt reports whether s holds an invalid UTF-8 byte at i (rather
// than a real U+FFFD).
func isInvalidAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 1
}
