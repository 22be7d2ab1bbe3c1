package gui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
)

// TestDropFolderSharesCollection: a folder dropped on the window is shared
// as one collection (one row, one link, its file count); its link, pasted
// in another app, fetches the tree, and the download's row and its Files
// list show each file's progress.
func TestDropFolderSharesCollection(t *testing.T) {
	_, _, a, b := connectedPair(t)
	root := filepath.Join(t.TempDir(), "trip")
	want := map[string]string{}
	for i, rel := range []string{"day1/a.jpg", "day1/b.jpg", "day2/notes/c.txt", "readme.txt"} {
		dir := filepath.Join(root, filepath.Dir(rel))
		os.MkdirAll(dir, 0o755)
		want[rel] = writeRandomFile(t, dir, filepath.Base(rel), int64(20<<10+i*4096))
	}
	link := shareByDrop(t, a, root)
	a.ui.onUI(func() {
		r := shareRowFor(a.ui, "trip")
		if len(a.ui.items.list(kindShare)) != 1 || !strings.Contains(r.detail.Text, "4 files") || !r.files.Visible() {
			t.Errorf("share row %q, files button shown %v, %d shares", r.detail.Text, r.files.Visible(), len(a.ui.items.list(kindShare)))
		}
	})
	b.ui.onUI(func() { b.ui.pasteLink(link) })
	eventually(t, b.ui, time.Minute, func() bool {
		r := downloadRowFor(b.ui, "trip")
		return r != nil && r.st.State == swarm.StateSeeding && strings.Contains(r.detail.Text, "4 files")
	}, func() string { return "no finished collection row; error " + b.ui.lastError })
	for rel, src := range want {
		w, _ := os.ReadFile(src)
		got, err := os.ReadFile(filepath.Join(b.dlDir, "trip", filepath.FromSlash(rel)))
		if err != nil || !bytes.Equal(got, w) {
			t.Fatalf("%s: %v", rel, err)
		}
	}
	b.ui.onUI(func() {
		tapButton(downloadRowFor(b.ui, "trip").files)
		fd := b.ui.files
		if fd == nil || len(fd.files) != 4 || !strings.Contains(fd.title.Text, "4 files in "+filepath.Join(b.dlDir, "trip")) {
			t.Fatalf("files dialog %+v", fd)
		}
		for _, f := range fd.files {
			if f.Verified != f.Size || !f.Fetch {
				t.Errorf("file %+v", f)
			}
		}
		fd.dlg.Hide()
	})
}

// TestDropSeveralFilesOneLink: several files dropped at once are shared
// as one collection, named after their folder.
func TestDropSeveralFilesOneLink(t *testing.T) {
	app := test.NewTempApp(t)
	a := newNode(t, app, memnet.New(), "a", "")
	waitConnected(t, a.ui)
	dir := filepath.Join(t.TempDir(), "papers")
	os.MkdirAll(dir, 0o755)
	var uris []fyne.URI
	for i := range 3 {
		uris = append(uris, storage.NewFileURI(writeRandomFile(t, dir, fmt.Sprintf("p%d.pdf", i), 5000)))
	}
	a.ui.onUI(func() { a.ui.dropped(uris) })
	eventually(t, a.ui, 30*time.Second, func() bool {
		r := shareRowFor(a.ui, "papers")
		return r != nil && r.st.Link != "" && strings.Contains(r.detail.Text, "3 files")
	}, func() string { return "no collection row; error " + a.ui.lastError })
	if n := len(a.ui.items.list(kindShare)); n != 1 {
		t.Errorf("%d shares for one drop", n)
	}
}
