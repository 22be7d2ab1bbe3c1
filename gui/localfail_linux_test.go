package gui

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestAppFullDisk runs TestAppFullDiskChild in a process of its own, in
// new user and mount namespaces, where it can mount a small tmpfs for the
// download folder: a real full disk (ENOSPC from the kernel), as in
// swarm's TestFullDisk, without touching the machine's mounts.
func TestAppFullDisk(t *testing.T) {
	testkit.RunChild(t, "TestAppFullDiskChild", syscall.CLONE_NEWNS, "HYDRE_APP_FULLDISK_DIR="+t.TempDir())
}

// TestAppFullDiskChild (run by TestAppFullDisk): the app downloads into a
// folder on a tmpfs too small for the file. The row says Failed with the
// reason and offers Retry (at once: the engine stops the download, it does
// not wait for peers); Retry before there is room fails again with the
// same reason; once the disk has room, Retry finishes the file, whole.
func TestAppFullDiskChild(t *testing.T) {
	root := os.Getenv("HYDRE_APP_FULLDISK_DIR")
	if root == "" {
		t.Skip("run by TestAppFullDisk")
	}
	disk, resize := testkit.SmallDisk(t, root, "1m")

	app := test.NewTempApp(t)
	net := memnet.New()
	a := newNode(t, app, net, "a", "")
	bDir := t.TempDir()
	s := DefaultSettings()
	s.DownloadDir = filepath.Join(disk, "downloads")
	if err := SaveSettings(bDir, s); err != nil {
		t.Fatal(err)
	}
	b := newNode(t, app, net, "b", bDir)
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
	src := writeRandomFile(t, t.TempDir(), "lecture.mkv", 3<<20)
	link := shareByDrop(t, a, src)
	b.ui.onUI(func() { b.ui.pasteLink(link) })

	failed := func(what string) {
		t.Helper()
		eventually(t, b.ui, 30*time.Second, func() bool {
			r := downloadRowFor(b.ui, "lecture.mkv")
			return r != nil && r.state.Text == "Failed" && strings.HasPrefix(r.detail.Text, "The disk is full") &&
				r.pause.Visible() && r.pause.Text == "Retry"
		}, func() string {
			if r := downloadRowFor(b.ui, "lecture.mkv"); r != nil {
				return what + ": row " + r.state.Text + " / " + r.detail.Text + " / " + r.pause.Text
			}
			return what + ": no row"
		})
	}
	failed("the disk filled")
	failures := func() int { // each failure is kept in the history
		hist, _ := b.ui.currentEngine().History()
		n := 0
		for _, h := range hist {
			if strings.HasPrefix(h.Result, "failed: ") && strings.Contains(h.Result, "no space left on device") {
				n++
			}
		}
		return n
	}
	if n := failures(); n != 1 {
		t.Fatalf("%d failures in the history, want 1", n)
	}
	b.ui.onUI(func() { tapButton(downloadRowFor(b.ui, "lecture.mkv").pause) })
	eventually(t, b.ui, 30*time.Second, func() bool { return failures() == 2 },
		func() string { return "Retry with the disk still full did not fail again" })
	failed("Retry with the disk still full")

	resize("16m")
	b.ui.onUI(func() { tapButton(downloadRowFor(b.ui, "lecture.mkv").pause) })
	eventually(t, b.ui, time.Minute, func() bool {
		r := downloadRowFor(b.ui, "lecture.mkv")
		return r != nil && r.st.Done() && r.state.Text != "Failed"
	}, func() string {
		r := downloadRowFor(b.ui, "lecture.mkv")
		return "not done after Retry with room: " + r.state.Text + " / " + r.detail.Text
	})
	want, _ := os.ReadFile(src)
	b.ui.onUI(func() {
		got, err := os.ReadFile(downloadRowFor(b.ui, "lecture.mkv").st.Path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("the retried download: %d bytes (%v), want the %d shared", len(got), err, len(want))
		}
	})
}
