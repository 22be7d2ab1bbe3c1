package gui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
)

// TestRowsCountPeersApart: a download over four circuits from one sharer
// shows "1 peer · 4 connections" on both apps' rows, not four peers.
func TestRowsCountPeersApart(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	dir := t.TempDir()
	s := DefaultSettings()
	s.DownloadDir, s.UpRate = t.TempDir(), swarm.MinRate // the download lasts while the test looks
	if err := SaveSettings(dir, s); err != nil {
		t.Fatal(err)
	}
	a := newNode(t, app, net, "a", dir)
	b := newNode(t, app, net, "b", "")
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
	link := shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "film.mkv", 2<<20))
	b.ui.onUI(func() { b.ui.pasteLink(link) })
	const want = "1 peer · 4 connections"
	eventually(t, b.ui, 30*time.Second, func() bool {
		r := downloadRowFor(b.ui, "film.mkv")
		return r != nil && strings.Contains(r.detail.Text, want)
	}, func() string { return "download row: " + downloadRowFor(b.ui, "film.mkv").detail.Text })
	eventually(t, a.ui, 30*time.Second, func() bool {
		return strings.Contains(shareRowFor(a.ui, "film.mkv").detail.Text, want)
	}, func() string { return "share row: " + shareRowFor(a.ui, "film.mkv").detail.Text })
}
