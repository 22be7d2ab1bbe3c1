package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLimitCommand: 'hydre limit' sets a content's own rate limits on a
// stopped node (named by its ID or its link), shows them, keeps the one
// not given, and refuses a rate it cannot take.
func TestLimitCommand(t *testing.T) {
	home, link, _ := downloadedNode(t)
	hydre := hydreIn(home)
	out, _, _ := hydre("ls")
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	limits := func() map[string]int64 {
		out, errb, code := hydre("ls", "--json")
		if code != 0 {
			t.Fatalf("ls: %d %s", code, errb)
		}
		var s struct{ Limits map[string]int64 }
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("ls --json %q: %v", out, err)
		}
		return s.Limits
	}
	tests := []struct {
		args     []string
		code     int
		out, err string
		up, down int64
	}{
		{args: []string{id}, out: "talk.webm: up none, down none"},
		{args: []string{"--up", "1M", "--down", "500K/s", id}, out: "talk.webm: up 1.0 MiB/s, down 500.0 KiB/s", up: 1 << 20, down: 500 << 10},
		{args: []string{"--up", "0", link}, out: "up none, down 500.0 KiB/s", down: 500 << 10},
		{args: []string{"--down", "5K", id}, code: 2, err: `rate "5K" is under the least limit, 16K`, down: 500 << 10},
		{args: []string{"--down", "fast", id}, code: 2, err: `bad rate "fast"`, down: 500 << 10},
		{args: []string{"--down", "none", id}, out: "up none, down none"},
		{args: []string{"--up", "1M"}, code: 2, err: "want at least one ID or LINK"},
	}
	for _, tt := range tests {
		out, errb, code := hydre(append([]string{"limit"}, tt.args...)...)
		if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errb, tt.err) {
			t.Errorf("limit %v: exit %d, %q %q; want %d, %q %q", tt.args, code, out, errb, tt.code, tt.out, tt.err)
		}
		if got := limits(); got["up"] != tt.up || got["down"] != tt.down {
			t.Errorf("after limit %v, ls --json says %v", tt.args, got)
		}
	}
}

// TestRateFlagsChecked: --up-rate and --down-rate of share, get and daemon
// refuse a rate they cannot take before tor starts.
func TestRateFlagsChecked(t *testing.T) {
	ran := fakeTor(t)
	file := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"share", "--up-rate", "1K", file},
		{"get", "--down-rate", "lots", "hydre:x"},
		{"daemon", "--down-rate", "-1"},
		{"share", "--stop-after", "soon", file},
		{"share", "--stop-after", "-2h", file},
	} {
		var out bytes.Buffer
		if code := run(append([]string{"--data-dir", t.TempDir()}, args...), &out, &out); code != 2 || !strings.Contains(out.String(), "bad") && !strings.Contains(out.String(), "under the least") {
			t.Errorf("hydre %v: exit %d, want 2: %s", args, code, out.String())
		}
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("tor was started")
	}
}
