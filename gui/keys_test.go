package gui

import (
	"context"
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// overlayButton returns the button labelled text in the top overlay (a
// dialog), or nil.
func overlayButton(u *UI, text string) *widget.Button {
	top := u.win.Canvas().Overlays().Top()
	if top == nil {
		return nil
	}
	for _, o := range renderedObjects(top) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	return nil
}

// pressKey delivers a key press to c as Fyne's desktop driver does
// (internal/driver/glfw, processKeyPressed): to the focused object if
// there is one, else to the window's key handler.
func pressKey(c fyne.Canvas, name fyne.KeyName) {
	ev := &fyne.KeyEvent{Name: name}
	if f := c.Focused(); f != nil {
		f.TypedKey(ev)
	} else if h := c.OnTypedKey(); h != nil {
		h(ev)
	}
}

// pressPaste delivers Ctrl+V to c as the desktop driver does
// (triggersShortcut): a fyne.ShortcutPaste, to the focused object if it
// takes shortcuts, else to the window.
func pressPaste(c fyne.Canvas, cb fyne.Clipboard) {
	sc := &fyne.ShortcutPaste{Clipboard: cb}
	if f, ok := c.Focused().(fyne.Shortcutable); ok {
		f.TypedShortcut(sc)
		return
	}
	c.(fyne.Shortcutable).TypedShortcut(sc)
}

// clickRow taps the list row for which match holds, as a mouse click
// does: the row is selected and, on the desktop, its list takes the
// keyboard focus. Fyne's test driver gives every object the canvas of the
// window created last, so the list must be in that window.
func clickRow(t *testing.T, list fyne.Widget, match func(fyne.CanvasObject) bool) {
	t.Helper()
	for _, o := range renderedObjects(list) {
		item, ok := o.(fyne.Tappable)
		if !ok || fmt.Sprintf("%T", o) != "*widget.listItem" {
			continue
		}
		for _, in := range renderedObjects(o) {
			if match(in) {
				test.Tap(item)
				return
			}
		}
	}
	t.Fatalf("no row of the list matches")
}

func TestKeyboard(t *testing.T) {
	app, net, a, b := connectedPair(t)
	link := shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "song.flac", 200<<10))

	// Ctrl+V anywhere in the window pastes the link and starts the download.
	b.ui.onUI(func() {
		app.Clipboard().SetContent(link)
		b.ui.win.Canvas().Unfocus()
		pressPaste(b.ui.win.Canvas(), app.Clipboard())
		if b.ui.tabs.Selected() != b.ui.tabByName[ScreenDownload] {
			t.Errorf("Ctrl+V did not show the Download screen")
		}
	})
	eventually(t, b.ui, time.Minute, func() bool {
		r := downloadRowFor(b.ui, "song.flac")
		return r != nil && r.st.Done()
	}, func() string { return "pasted link not downloaded: " + b.ui.downloads.errLabel.Text })

	// Ctrl+V in the link box pastes into the box, and only there.
	b.ui.onUI(func() {
		app.Clipboard().SetContent("hydre:typed")
		b.ui.win.Canvas().Focus(b.ui.downloads.entry)
		pressPaste(b.ui.win.Canvas(), app.Clipboard())
		if got := b.ui.downloads.entry.Text; got != "hydre:typed" {
			t.Errorf("Ctrl+V in the link box: box holds %q", got)
		}
		if b.ui.downloads.errLabel.Visible() {
			t.Errorf("Ctrl+V in the link box submitted it: %q", b.ui.downloads.errLabel.Text)
		}
		b.ui.downloads.entry.SetText("")
	})

	// Delete removes the clicked download, after confirmation: the click
	// focuses the list, which then takes the key.
	b.ui.onUI(func() {
		clickRow(t, b.ui.downloads.list, func(o fyne.CanvasObject) bool {
			r, ok := o.(*downloadRow)
			return ok && r.st.Name == "song.flac"
		})
		if b.ui.win.Canvas().Focused() != b.ui.downloads.list {
			t.Fatalf("a click on a row did not focus its list (focused: %T)", b.ui.win.Canvas().Focused())
		}
		pressKey(b.ui.win.Canvas(), fyne.KeyDelete)
		btn := overlayButton(b.ui, "Remove")
		if btn == nil {
			t.Fatalf("Delete asked no confirmation")
		}
		test.Tap(btn)
	})
	eventually(t, b.ui, 10*time.Second, func() bool { return len(b.ui.items.list(kindDownload)) == 0 },
		func() string { return "download still listed after Delete: " + b.ui.lastError })
	if st := b.ui.currentEngine().List(); len(st) != 0 {
		t.Errorf("the engine still holds %d contents after Delete", len(st))
	}

	// Delete on the Share screen stops sharing the clicked file; the arrow
	// keys still move through the list. (A new node: the test driver
	// focuses in the window created last.)
	c := newNode(t, app, net, "c", "")
	waitConnected(t, c.ui)
	shareByDrop(t, c, writeRandomFile(t, t.TempDir(), "notes.pdf", 50<<10))
	c.ui.onUI(func() {
		clickRow(t, c.ui.shares.list, func(o fyne.CanvasObject) bool {
			r, ok := o.(*shareRow)
			return ok && r.st.Name == "notes.pdf"
		})
		pressKey(c.ui.win.Canvas(), fyne.KeyDown)
		pressKey(c.ui.win.Canvas(), fyne.KeyDelete)
		btn := overlayButton(c.ui, "Yes")
		if btn == nil {
			t.Fatalf("Delete on a share asked no confirmation")
		}
		test.Tap(btn)
	})
	eventually(t, c.ui, 10*time.Second, func() bool { return len(c.ui.items.list(kindShare)) == 0 },
		func() string { return "share still listed after Delete: " + c.ui.lastError })

	// With nothing focused, Delete reaches the window's handler.
	b.ui.onUI(func() {
		b.ui.win.Canvas().Unfocus()
		pressKey(b.ui.win.Canvas(), fyne.KeyDelete) // nothing selected: nothing asked
		if overlayButton(b.ui, "Remove") != nil {
			t.Errorf("Delete with no row selected asked to remove something")
		}
	})
}

func TestSecondStartHandsLinksOver(t *testing.T) {
	_, _, a, b := connectedPair(t)
	link := shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "clicked.txt", 50<<10))

	// What "hydre gui hydre:..." does when the app already runs.
	taken, err := HandOff(context.Background(), b.dataDir, []string{link, "not a link"})
	if err != nil || !taken {
		t.Fatalf("HandOff = %v, %v; want the running app to take the link", taken, err)
	}
	eventually(t, b.ui, time.Minute, func() bool {
		r := downloadRowFor(b.ui, "clicked.txt")
		return r != nil && r.st.Done()
	}, func() string { return "handed-over link not downloaded: " + b.ui.downloads.errLabel.Text })

	// No app on a data directory: the caller starts one.
	if taken, err := HandOff(context.Background(), t.TempDir(), []string{link}); taken || err != nil {
		t.Errorf("HandOff with no running app = %v, %v", taken, err)
	}
}
