package gui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
)

func TestParseRateText(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"", 0, ""}, {" none ", 0, ""}, {"0", 0, ""},
		{"500K", 500 << 10, ""}, {"1.5 MiB/s", 3 << 19, ""}, {"2m", 2 << 20, ""}, {"65536", 64 << 10, ""},
		{"1.0 MiB/s", 1 << 20, ""}, // as rateText writes it
		{"5K", 0, "at least 16 KiB/s"}, {"fast", 0, "a rate such as"}, {"-1M", 0, "a rate such as"},
	}
	for _, tt := range tests {
		got, err := parseRateText(tt.in, "upload limit")
		if got != tt.want || (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("parseRateText(%q) = %d, %v; want %d, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// TestRateLimitsInApp: the node's limits typed in Settings are checked,
// put in force at once and kept for the next start; a row's Limit button
// sets the content's own, which its row then shows.
func TestRateLimitsInApp(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	a := newNode(t, app, net, "a", "")
	waitConnected(t, a.ui)
	a.ui.onUI(func() {
		p := a.ui.prefs
		test.Type(p.upRate, "5K")
		tapButton(p.saveButton)
		if !strings.Contains(p.status.Text, "Not saved") || !strings.Contains(p.status.Text, "16 KiB/s") {
			t.Errorf("a limit under the least was not refused: %q", p.status.Text)
		}
		p.upRate.SetText("512K")
		p.downRate.SetText("2M")
		tapButton(p.saveButton)
		if p.status.Text != "Saved." {
			t.Errorf("limits not saved: %q", p.status.Text)
		}
		if top := a.ui.win.Canvas().Overlays().Top(); top != nil {
			t.Errorf("saving limits asked to reconnect")
		}
	})
	want := swarm.Limits{Up: 512 << 10, Down: 2 << 20}
	if got := a.ui.currentEngine().GlobalLimits(); got != want {
		t.Errorf("after Save the engine's limits are %+v, want %+v", got, want)
	}

	shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "lecture.webm", 64<<10))
	a.ui.onUI(func() { tapButton(shareRowFor(a.ui, "lecture.webm").limit) })
	var entries []*widget.Entry
	a.ui.onUI(func() {
		for _, o := range renderedObjects(a.ui.win.Canvas().Overlays().Top()) {
			if e, ok := o.(*widget.Entry); ok && o.Visible() {
				entries = append(entries, e)
			}
		}
		if len(entries) != 1 { // a share is only uploaded
			t.Fatalf("the limits dialog of a share has %d fields, want 1", len(entries))
		}
		test.Type(entries[0], "300K")
		tapButton(overlayButton(a.ui, "Save"))
	})
	eventually(t, a.ui, 10*time.Second, func() bool {
		return strings.Contains(shareRowFor(a.ui, "lecture.webm").detail.Text, "upload limited to 300.0 KiB/s")
	}, func() string { return "share row: " + shareRowFor(a.ui, "lecture.webm").detail.Text })
	st, err := a.ui.currentEngine().Status(shareRowFor(a.ui, "lecture.webm").st.ID)
	if err != nil || st.Limits != (swarm.Limits{Up: 300 << 10}) {
		t.Errorf("the engine holds limits %+v (%v)", st.Limits, err)
	}

	// The next start puts the saved limits in force and shows them.
	dir := a.dataDir
	a.ui.Close()
	b := newNode(t, app, net, "a", dir)
	waitConnected(t, b.ui)
	if got := b.ui.currentEngine().GlobalLimits(); got != want {
		t.Errorf("after a restart the engine's limits are %+v, want %+v", got, want)
	}
	b.ui.onUI(func() {
		if b.ui.prefs.upRate.Text != "512.0 KiB/s" || b.ui.prefs.downRate.Text != "2.0 MiB/s" {
			t.Errorf("after a restart Settings show %q and %q", b.ui.prefs.upRate.Text, b.ui.prefs.downRate.Text)
		}
	})
}
