package gui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/hydre-p2p/hydre/swarm"
)

// TestShareOnceInApp: a file shared with "Stop sharing after the first
// download" ticked says so on its row, stops once another app has
// downloaded it (the row says why and offers Share again), and Share again
// shares it; the timer's choice shows on the row as the time left.
func TestShareOnceInApp(t *testing.T) {
	_, _, a, b := connectedPair(t)
	a.ui.onUI(func() { test.Tap(a.ui.shares.stopping.once) })
	link := shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "minutes.odt", 200<<10))
	a.ui.onUI(func() {
		if d := shareRowFor(a.ui, "minutes.odt").detail.Text; !strings.Contains(d, "stops after the first download") {
			t.Errorf("the row of a once share says %q", d)
		}
	})
	b.ui.onUI(func() { b.ui.pasteLink(link) })
	eventually(t, b.ui, time.Minute, func() bool {
		r := downloadRowFor(b.ui, "minutes.odt")
		return r != nil && r.st.Done()
	}, func() string { return "download not done: " + b.ui.lastError })
	eventually(t, a.ui, 30*time.Second, func() bool {
		r := shareRowFor(a.ui, "minutes.odt")
		return strings.HasPrefix(r.detail.Text, "Stopped after the first complete download") && r.retry.Visible() && r.retry.Text == "Share again"
	}, func() string {
		r := shareRowFor(a.ui, "minutes.odt")
		return "row: " + r.state.Text + " | " + r.detail.Text + " | " + r.retry.Text
	})
	a.ui.onUI(func() { tapButton(shareRowFor(a.ui, "minutes.odt").retry) })
	eventually(t, a.ui, 30*time.Second, func() bool {
		r := shareRowFor(a.ui, "minutes.odt")
		return r.st.State == swarm.StateSeeding && r.st.Ended == "" && !r.retry.Visible()
	}, func() string { return "row after Share again: " + shareRowFor(a.ui, "minutes.odt").detail.Text })

	a.ui.onUI(func() {
		test.Tap(a.ui.shares.stopping.once) // off again
		a.ui.shares.stopping.after.SetSelected("1 hour")
	})
	shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "slides.pdf", 10<<10))
	a.ui.onUI(func() {
		r := shareRowFor(a.ui, "slides.pdf")
		if d := r.detail.Text; !strings.Contains(d, "stops in 59 min") || strings.Contains(d, "first download") {
			t.Errorf("the row of a share stopping in an hour says %q", d)
		}
		if r.st.Once || time.Until(r.st.StopAt) > time.Hour || time.Until(r.st.StopAt) < 59*time.Minute {
			t.Errorf("the share's options: once %v, stop at %v", r.st.Once, r.st.StopAt)
		}
	})
}

func TestStopText(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		st   swarm.Status
		want string
	}{
		{swarm.Status{}, ""},
		{swarm.Status{Once: true}, "stops after the first download"},
		{swarm.Status{StopAt: now.Add(90 * time.Minute)}, "stops in 1 h 30 min"},
		{swarm.Status{Once: true, StopAt: now.Add(30 * time.Second)}, "stops after the first download or in less than a minute"},
		{swarm.Status{StopAt: now.Add(72 * time.Hour)}, "stops in 3 days"},
		{swarm.Status{Once: true, State: swarm.StatePaused, Ended: swarm.EndedOnce}, "Stopped after the first complete download"},
		{swarm.Status{State: swarm.StatePaused, Ended: swarm.EndedTimer, StopAt: now}, "Stopped: the share's time ran out"},
	}
	for _, tt := range tests {
		if got := stopText(tt.st, now); got != tt.want {
			t.Errorf("stopText(%+v) = %q, want %q", tt.st, got, tt.want)
		}
	}
}
