package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestEveryCommandHasHelp runs 'hydre help PATH' for every command and
// subcommand of commands(): each prints its usage line and its help (a
// run function asking newFlagSet for a path the table lacks prints an
// empty one), and 'hydre help' lists every top-level command.
func TestEveryCommandHasHelp(t *testing.T) {
	var list bytes.Buffer
	if code := run([]string{"help"}, &list, &list); code != 0 {
		t.Fatalf("hydre help: exit %d: %s", code, list.String())
	}
	var walk func(prefix string, cs []command)
	walk = func(prefix string, cs []command) {
		for _, c := range cs {
			path := strings.TrimSpace(prefix + " " + c.name)
			if prefix == "" && (c.summary == "" || !strings.Contains(list.String(), c.summary)) {
				t.Errorf("hydre help does not list %s with a summary", path)
			}
			if c.help == "" || (c.run == nil) == (len(c.subs) == 0) {
				t.Errorf("%s: want a help text and either run or subcommands", path)
			}
			args := append([]string{"--data-dir", t.TempDir(), "help"}, strings.Fields(path)...)
			var out bytes.Buffer
			if code := run(args, &out, &out); code != 0 {
				t.Errorf("hydre help %s: exit %d: %s", path, code, out.String())
			}
			usage := strings.TrimSpace("Usage: hydre " + path + " " + c.args)
			if !strings.Contains(out.String(), usage) || !strings.Contains(out.String(), c.help) {
				t.Errorf("hydre help %s printed %q, want %q and its help", path, out.String(), usage)
			}
			walk(path, c.subs)
		}
	}
	walk("", commands())
}
