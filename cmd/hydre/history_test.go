package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHistoryCommand: 'hydre history' lists a finished download and, once
// removed, its removal (--json too), from a file only its owner reads;
// --clear empties it.
func TestHistoryCommand(t *testing.T) {
	home, _, _ := downloadedNode(t)
	hydre := hydreIn(home)
	out, errb, code := hydre("history")
	if code != 0 || !strings.Contains(out, "WHEN") || !strings.Contains(out, "download  429.7 KiB  complete  talk.webm") {
		t.Fatalf("history: exit %d, %q %q", code, out, errb)
	}
	ls, _, _ := hydre("ls")
	id := strings.Fields(strings.Split(ls, "\n")[1])[0]
	if _, errb, code := hydre("rm", id); code != 0 {
		t.Fatalf("rm: %d %s", code, errb)
	}
	out, _, code = hydre("history", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("history --json: exit %d, %q", code, out)
	}
	var last struct{ Kind, Name, Result string }
	if err := json.Unmarshal([]byte(lines[1]), &last); err != nil || last.Kind != "download" || last.Name != "talk.webm" || last.Result != "removed" {
		t.Errorf("the last entry: %+v (%v)", last, err)
	}
	if fi, err := os.Stat(filepath.Join(home, "swarm", "history.jsonl")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("history file: %v %v", fi, err)
	}
	if out, _, code := hydre("history", "--clear"); code != 0 || !strings.Contains(out, "history cleared") {
		t.Errorf("history --clear: exit %d, %q", code, out)
	}
	if out, _, _ := hydre("history"); !strings.Contains(out, "no past transfers") {
		t.Errorf("history after --clear: %q", out)
	}
	if _, _, code := hydre("history", "extra"); code != 2 {
		t.Errorf("history extra: exit %d, want 2", code)
	}
}
