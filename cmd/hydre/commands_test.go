package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestEveryCommandHasHelp runs 'hydre help PATH' for every command and
// subcommand of commands(): each prints its usage line and its help, and
// 'hydre help' lists every top-level command.
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

// TestOperandsChecked gives commands too many or too few operands: each
// exits 2 with what it wants, before doing anything.
func TestOperandsChecked(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"version", "x"}, "unexpected arguments: x"},
		{[]string{"ls", "a", "b"}, "unexpected arguments: a b"},
		{[]string{"daemon", "x"}, "unexpected arguments: x"},
		{[]string{"bridge", "status", "x"}, "unexpected arguments: x"},
		{[]string{"get"}, "want exactly one LINK"},
		{[]string{"stream", "a", "b"}, "want exactly one LINK"},
		{[]string{"bridge", "fetch"}, "want exactly one magnet link or .torrent file"},
		{[]string{"testnet", "down"}, "want exactly one directory"},
		{[]string{"share"}, "want at least one FILE"},
		{[]string{"rm", "--delete"}, "want at least one ID or LINK"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			args := append([]string{"--data-dir", t.TempDir()}, tt.args...)
			if code := run(args, &out, &out); code != 2 || !strings.Contains(out.String(), tt.want) {
				t.Errorf("exit %d, output %q; want 2 and %q", code, out.String(), tt.want)
			}
		})
	}
}
