package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// TestJSONThrottle: 60 idle contents repeating their status print one line
// each; a content changing many times within a second prints its first
// change and, once the second has passed, its latest; a new state is
// printed at once.
func TestJSONThrottle(t *testing.T) {
	var out bytes.Buffer
	now := time.Unix(1000, 0)
	j := newJSONThrottle(&out, func() time.Time { return now })
	lines := func() int { return strings.Count(out.String(), "\n") }
	for round := range 100 {
		for i := range 60 {
			j.show(swarm.Status{ID: hcrypto.ContentID{byte(i)}, State: swarm.StateSeeding, Reachable: true}, round == 0)
		}
		now = now.Add(10 * time.Millisecond)
		j.flush()
	}
	if n := lines(); n != 60 {
		t.Fatalf("60 idle contents, 100 rounds: %d lines, want 60", n)
	}
	out.Reset()
	id := hcrypto.ContentID{99}
	j.show(swarm.Status{ID: id, State: swarm.StateFetching, Size: 100}, true)
	for v := range int64(50) {
		j.show(swarm.Status{ID: id, State: swarm.StateFetching, Size: 100, Verified: v + 1, DownRate: 3052254.5281427037}, false)
		j.flush()
	}
	if n := lines(); n != 1 {
		t.Fatalf("50 changes within a second: %d lines, want 1 (the new state)", n)
	}
	now = now.Add(time.Second)
	j.flush()
	j.flush()
	last := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(last) != 2 || !strings.Contains(last[1], `"verified":50,`) || !strings.Contains(last[1], `"downRate":3052255,`) {
		t.Fatalf("after a second: %q; want one more line with the latest figures, the rate rounded", last)
	}
	j.show(swarm.Status{ID: id, State: swarm.StateSeeding, Size: 100, Verified: 100}, true)
	if n := lines(); n != 3 {
		t.Errorf("a new state: %d lines, want it printed at once", n)
	}
}

// TestJSONErrors: with --json, a failure is a JSON object on stdout (with
// "usage" for a mistake in the command line), and the exit codes stay.
func TestJSONErrors(t *testing.T) {
	link := hcrypto.Link{ID: hcrypto.ContentID{1, 2, 3}}.Encode()
	for _, tt := range []struct {
		args  []string
		code  int
		usage bool
		want  string
	}{
		{[]string{"--json", "get", link[:len(link)-1]}, 2, true, "bad link: truncated"},
		{[]string{"get", "--json", "--nope", link}, 2, true, "flag provided but not defined"},
		{[]string{"--json", "frobnicate"}, 2, true, "unknown command"},
		{[]string{"get", link, "--json"}, 1, false, "start tor"},
	} {
		fakeTor(t)
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"--data-dir", t.TempDir()}, tt.args...), &stdout, &stderr)
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		var got struct {
			Event, Error string
			Usage        bool
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
			t.Errorf("hydre %q: last line of stdout %q: %v", tt.args, stdout.String(), err)
			continue
		}
		if code != tt.code || got.Event != "error" || got.Usage != tt.usage || !strings.Contains(got.Error, tt.want) {
			t.Errorf("hydre %q: exit %d, %+v; want exit %d, an error event with %q, usage %v", tt.args, code, got, tt.code, tt.want, tt.usage)
		}
	}
}
