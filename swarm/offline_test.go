package swarm

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

// TestOfflineEdits: a stopped node's download is paused, resumed and
// removed (with its file) through its data directory alone; while an
// engine runs there, each says ErrBusy.
func TestOfflineEdits(t *testing.T) {
	n := memnet.New()
	a, b := newNode(t, n, "a", nil), newNode(t, n, "b", nil)
	path, data := writeFile(t, t.TempDir(), "clip.bin", 300<<10)
	sh := a.share(path, 64<<10)
	st := b.waitDone(b.get(sh.Link).ID, 30*time.Second)
	checkFile(t, st.Path, data)
	if _, err := SetPausedOffline(b.dir, st.ID, true); !errors.Is(err, ErrBusy) {
		t.Fatalf("pause while b runs: %v, want ErrBusy", err)
	}
	b.close()
	for _, paused := range []bool{true, false} {
		got, err := SetPausedOffline(b.dir, st.ID, paused)
		if err != nil {
			t.Fatal(err)
		}
		list, err := ReadState(b.dir)
		if err != nil || len(list) != 1 || (list[0].State == StatePaused) != paused || got.State != list[0].State {
			t.Fatalf("paused %v: returned %v, ReadState %+v (%v)", paused, got.State, list, err)
		}
	}
	if _, err := SetPausedOffline(b.dir, hcrypto.ContentID{9}, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("pause of an unknown content: %v, want ErrNotFound", err)
	}
	if _, err := RemoveOffline(b.dir, st.ID, true); err != nil {
		t.Fatal(err)
	}
	if list, err := ReadState(b.dir); err != nil || len(list) != 0 {
		t.Errorf("after remove: %+v (%v)", list, err)
	}
	if _, err := os.Stat(st.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the downloaded file is still there: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the shared file: %v", err)
	}
}

// TestUnwritableFolderFails: a download whose folder refuses its file fails
// at the first peer's answer, saying why, instead of dialing again forever.
func TestUnwritableFolderFails(t *testing.T) {
	n := memnet.New()
	a, b := newNode(t, n, "a", nil), newNode(t, n, "b", nil)
	path, _ := writeFile(t, t.TempDir(), "clip.bin", 100<<10)
	sh := a.share(path, 64<<10)
	dir := "/sys" // root is refused there; others by the folder's mode
	if os.Geteuid() != 0 {
		dir = t.TempDir()
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
	}
	st, err := b.e.Get(t.Context(), sh.Link, dir)
	if err != nil {
		t.Fatal(err)
	}
	st = b.waitFor(st.ID, 30*time.Second, "failed", func(s Status) bool { return s.State == StateFailed })
	if !strings.Contains(st.Err, "prepare download") || !strings.Contains(st.Err, "permission denied") {
		t.Errorf("failed with %q, want the folder's refusal", st.Err)
	}
}
