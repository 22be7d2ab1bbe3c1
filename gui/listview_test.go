package gui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
)

func TestSortStatuses(t *testing.T) {
	// Newest first, as the store lists them.
	rows := []swarm.Status{
		{Name: "b.mkv", Size: 30, State: swarm.StateSeeding},
		{Name: "A.iso", Size: 10, State: swarm.StateFetching},
		{Name: "c.txt", Size: 20, State: swarm.StateFailed},
		{Name: "d.ogg", Size: 20, State: swarm.StatePaused},
	}
	tests := []struct {
		by   string
		want []string
	}{
		{sortNewest, []string{"b.mkv", "A.iso", "c.txt", "d.ogg"}},
		{sortName, []string{"A.iso", "b.mkv", "c.txt", "d.ogg"}},
		{sortSize, []string{"b.mkv", "c.txt", "d.ogg", "A.iso"}}, // ties stay newest first
		{sortState, []string{"c.txt", "A.iso", "d.ogg", "b.mkv"}},
	}
	for _, tt := range tests {
		t.Run(tt.by, func(t *testing.T) {
			var got []string
			for _, st := range sortStatuses(slices.Clone(rows), tt.by) {
				got = append(got, st.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("sorted by %s: %v, want %v", tt.by, got, tt.want)
			}
		})
	}
}

// TestListCompactAndSorted: the Share screen's order and compact rows,
// chosen with the bar above the list.
func TestListCompactAndSorted(t *testing.T) {
	app := test.NewTempApp(t)
	a := newNode(t, app, memnet.New(), "a", "")
	waitConnected(t, a.ui)
	dir := t.TempDir()
	files := []struct {
		name string
		size int64
	}{{"mango.txt", 3 << 10}, {"apple.txt", 1 << 10}, {"kiwi.txt", 9 << 10}}
	for _, f := range files {
		shareByDrop(t, a, writeRandomFile(t, dir, f.name, f.size))
	}
	names := func() string {
		var out []string
		for _, st := range a.ui.shares.rows {
			out = append(out, st.Name)
		}
		return strings.Join(out, " ")
	}
	a.ui.onUI(func() {
		v := a.ui.shares.view
		if got := v.count.Text; got != "3 items" {
			t.Errorf("count says %q", got)
		}
		if got := names(); got != "kiwi.txt apple.txt mango.txt" {
			t.Errorf("newest first: %s", got)
		}
		v.order.SetSelected(sortName)
		if got := names(); got != "apple.txt kiwi.txt mango.txt" {
			t.Errorf("by name: %s", got)
		}
		v.order.SetSelected(sortSize)
		if got := names(); got != "kiwi.txt mango.txt apple.txt" {
			t.Errorf("by size: %s", got)
		}

		full := shareRowFor(a.ui, "kiwi.txt").MinSize().Height
		test.Tap(v.compact)
		r := shareRowFor(a.ui, "kiwi.txt")
		if r == nil {
			t.Fatalf("no row in compact mode")
		}
		if h := r.MinSize().Height; h > full/2 {
			t.Errorf("compact row %.0f px high, full %.0f px: not compact", h, full)
		}
		if !r.copy.Visible() || !r.remove.Visible() {
			t.Errorf("a compact row lost its buttons")
		}
		if got := len(rowsOf[*shareRow](a.ui)); got != 3 {
			t.Errorf("%d compact rows shown, want 3", got)
		}
	})

	// The choice is remembered across restarts.
	want := ListView{Sort: sortSize, Compact: true}
	eventually(t, a.ui, 5*time.Second, func() bool { return a.ui.currentSettings().ShareView == want },
		func() string { return fmt.Sprintf("share view in force: %+v", a.ui.currentSettings().ShareView) })
	a.ui.Close()
	if s, err := LoadSettings(a.dataDir); err != nil || s.ShareView != want || s.DownloadView != (ListView{}) {
		t.Fatalf("saved views: share %+v, download %+v (%v)", s.ShareView, s.DownloadView, err)
	}
	b := newNode(t, app, memnet.New(), "a2", a.dataDir)
	b.ui.onUI(func() {
		if got := b.ui.shares.view.choice(); got != want {
			t.Errorf("after a restart the Share list is shown %+v, want %+v", got, want)
		}
		if b.ui.downloads.view.compact.Checked {
			t.Errorf("after a restart the Download list is compact, though only the Share list was")
		}
	})
}
