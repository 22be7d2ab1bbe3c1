package swarm

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

// TestFetchHereMovesUnsaved: a download that saved nothing yet (its only
// holder is away) stays where it was first asked for when fetched again,
// and starts again in the folder asked for with Here, where it completes.
func TestFetchHereMovesUnsaved(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	path, data := writeFile(t, t.TempDir(), "film.bin", 300<<10)
	st := a.share(path, 16<<10)
	if err := a.e.Pause(st.ID); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, second := t.TempDir(), t.TempDir()
	destDir := func() string { return b.e.lookup(st.ID).record().DestDir }
	got, err := b.e.Fetch(ctx, st.Link, first, FetchOptions{})
	if err != nil || got.Path != "" || got.Verified != 0 {
		t.Fatalf("Fetch with the holder away: %+v, %v", got, err)
	}
	if _, err := b.e.Fetch(ctx, st.Link, second, FetchOptions{}); err != nil || destDir() != first {
		t.Fatalf("Fetch again without Here: saved into %s (%v), want %s", destDir(), err, first)
	}
	if _, err := b.e.Fetch(ctx, st.Link, second, FetchOptions{Here: true}); err != nil || destDir() != second {
		t.Fatalf("Fetch with Here: saved into %s (%v), want %s", destDir(), err, second)
	}
	if err := a.e.Resume(st.ID); err != nil {
		t.Fatal(err)
	}
	done := b.waitDone(st.ID, 30*time.Second)
	if filepath.Dir(done.Path) != second {
		t.Errorf("completed at %s, want under %s", done.Path, second)
	}
	checkFile(t, done.Path, data)
}

// TestShareFilesStopRules: a collection keeps the stop rules it was shared
// with, as a single file does (both are admitted by one step).
func TestShareFilesStopRules(t *testing.T) {
	a := newNode(t, memnet.New(), "a", nil)
	root, _ := writeTree(t, t.TempDir(), "tree", 3)
	path, _ := writeFile(t, t.TempDir(), "one.bin", 5000)
	for _, share := range []func(ShareOptions) (Status, error){
		func(o ShareOptions) (Status, error) { return a.e.Share(context.Background(), path, o) },
		func(o ShareOptions) (Status, error) { return a.e.ShareFiles(context.Background(), []string{root}, o) },
	} {
		st, err := share(ShareOptions{Once: true, StopAfter: time.Hour, Private: true})
		if err != nil {
			t.Fatal(err)
		}
		if !st.Once || st.StopAt.IsZero() || st.Kind != KindShare || !st.Done() {
			t.Errorf("%s: once %v, stops at %v, kind %v, done %v", st.Name, st.Once, st.StopAt, st.Kind, st.Done())
		}
		if l, err := hcrypto.ParseLink(st.Link); err != nil || l.ClientKey == nil {
			t.Errorf("%s: private link without a client key (%v)", st.Name, err)
		}
	}
}
