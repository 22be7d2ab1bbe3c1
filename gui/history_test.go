package gui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// historyTexts returns the History screen's rows as "name | detail".
func historyTexts(u *UI) []string {
	var out []string
	for _, o := range renderedObjects(u.history.list) {
		if c, ok := o.(*fyne.Container); ok && len(c.Objects) == 2 {
			n, ok1 := c.Objects[0].(*widget.Label)
			d, ok2 := c.Objects[1].(*widget.Label)
			if ok1 && ok2 && c.Visible() && n.Text != "" {
				out = append(out, n.Text+" | "+d.Text)
			}
		}
	}
	return out
}

// TestHistoryScreen: a download that finished and was then removed shows
// twice on the History screen (newest first); Clear history empties it.
func TestHistoryScreen(t *testing.T) {
	_, _, a, b := connectedPair(t)
	link := shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "song.ogg", 100<<10))
	b.ui.onUI(func() { b.ui.pasteLink(link) })
	eventually(t, b.ui, time.Minute, func() bool {
		r := downloadRowFor(b.ui, "song.ogg")
		return r != nil && r.st.Done()
	}, func() string { return "not downloaded: " + b.ui.lastError })
	b.ui.onUI(func() { tapButton(downloadRowFor(b.ui, "song.ogg").remove) })
	b.ui.onUI(func() { tapButton(overlayButton(b.ui, "Remove")) })
	eventually(t, b.ui, 10*time.Second, func() bool { return len(b.ui.items.list(kindDownload)) == 0 },
		func() string { return "still listed: " + b.ui.lastError })

	b.ui.onUI(func() { b.ui.selectScreen(ScreenHistory) })
	eventually(t, b.ui, 10*time.Second, func() bool { return len(historyTexts(b.ui)) == 2 },
		func() string { return strings.Join(historyTexts(b.ui), "\n") })
	b.ui.onUI(func() {
		got := historyTexts(b.ui)
		if !strings.HasPrefix(got[0], "song.ogg | Download · removed · 100.0 KiB") ||
			!strings.HasPrefix(got[1], "song.ogg | Download · complete · 100.0 KiB") {
			t.Errorf("history rows:\n%s", strings.Join(got, "\n"))
		}
		if b.ui.history.empty.Visible() {
			t.Error("the empty-history hint shows over the rows")
		}
		tapButton(b.ui.history.clear)
		tapButton(overlayButton(b.ui, "Yes"))
	})
	eventually(t, b.ui, 10*time.Second, func() bool { return len(b.ui.history.rows) == 0 && b.ui.history.empty.Visible() },
		func() string { return strings.Join(historyTexts(b.ui), "\n") })
	if h, err := b.ui.currentEngine().History(); err != nil || len(h) != 0 {
		t.Errorf("after Clear history the engine keeps %d entries (%v)", len(h), err)
	}
}
