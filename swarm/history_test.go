package swarm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/memnet"
)

// results lists the history of a data directory as "kind name: result".
func results(t *testing.T, dir string) []string {
	t.Helper()
	hist, err := ReadHistory(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range hist {
		out = append(out, fmt.Sprintf("%s %s: %s", h.Kind, h.Name, h.Result))
	}
	return out
}

// TestHistory: a finished download, a failed one, a removed one and a
// share stopped on its own are kept in the history file (0600, no link),
// across a restart and after the contents are gone, until cleared.
func TestHistory(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", func(c *Config) { c.Reshare = false })
	path, data := writeFile(t, t.TempDir(), "song.ogg", 100<<10)
	sh, err := a.e.Share(context.Background(), path, ShareOptions{Once: true})
	if err != nil {
		t.Fatal(err)
	}
	st := b.get(sh.Link)
	done := b.waitDone(st.ID, 30*time.Second)
	checkFile(t, done.Path, data)
	a.waitFor(sh.ID, 10*time.Second, "stopped", func(s Status) bool { return s.Ended != "" })

	// A download whose folder refuses its file fails.
	other, _ := writeFile(t, t.TempDir(), "clip.bin", 10<<10)
	sh2 := a.share(other, 0)
	ro := "/sys"
	if os.Geteuid() != 0 {
		ro = t.TempDir()
		if err := os.Chmod(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(ro, 0o700) })
	}
	st2, err := b.e.Get(context.Background(), sh2.Link, ro)
	if err != nil {
		t.Fatal(err)
	}
	b.waitFor(st2.ID, 30*time.Second, "failed", func(s Status) bool { return s.State == StateFailed })
	if err := b.e.Remove(st.ID, false); err != nil {
		t.Fatal(err)
	}
	b.close()
	b.open()

	// The restart tries the failed download again, which may fail (and be
	// kept) once more by now: the first three are the test's.
	all := results(t, b.dir)
	got := strings.Join(all[:min(3, len(all))], "\n")
	want := "download song.ogg: complete\ndownload clip.bin: failed: prepare download: "
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "permission denied\ndownload song.ogg: removed") {
		t.Errorf("b's history:\n%s\nwant it to start with\n%s\nthen the removal", strings.Join(all, "\n"), want)
	}
	hist, _ := b.e.History()
	if h := hist[0]; h.Size != int64(len(data)) || h.Verified != h.Size || h.Path != done.Path || h.ID != st.ID.String() {
		t.Errorf("the entry of the finished download: %+v", h)
	}
	if got := results(t, a.dir); len(got) != 1 || got[0] != "share song.ogg: "+EndedOnce {
		t.Errorf("a's history: %q", got)
	}
	fi, err := os.Stat(filepath.Join(b.dir, historyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("history file: %v, %v", fi.Mode(), err)
	}
	raw, _ := os.ReadFile(filepath.Join(b.dir, historyFile))
	if strings.Contains(string(raw), "hydre:") || strings.Contains(string(raw), sh.Link[len(sh.Link)-20:]) {
		t.Errorf("the history holds a link")
	}
	if err := b.e.ClearHistory(); err != nil {
		t.Fatal(err)
	}
	if got := results(t, b.dir); len(got) != 0 {
		t.Errorf("after ClearHistory: %q", got)
	}
}

// TestHistoryBounded: past historyMax bytes the older half goes.
func TestHistoryBounded(t *testing.T) {
	dir := t.TempDir()
	h := newHistory(dir)
	for i := range 6000 {
		if err := h.add(HistoryEntry{At: time.Now(), Name: fmt.Sprintf("file-%05d-%s", i, strings.Repeat("x", 200)), Result: ResultComplete}); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, historyFile))
	if err != nil || fi.Size() > historyMax || fi.Mode().Perm() != 0o600 {
		t.Fatalf("history file %v, %d bytes (max %d): %v", fi.Mode(), fi.Size(), historyMax, err)
	}
	hist, err := ReadHistory(dir)
	if err != nil || len(hist) < 1000 || !strings.HasPrefix(hist[len(hist)-1].Name, "file-05999") {
		t.Errorf("%d entries kept, the last %q (%v)", len(hist), hist[len(hist)-1].Name, err)
	}
}
