package gui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/hydre-p2p/hydre/onion/memnet"
)

// overlayButton returns the button labelled text in the top overlay (a
// dialog), or nil.
func overlayButton(u *UI, text string) *widget.Button {
	top := u.win.Canvas().Overlays().Top()
	if top == nil {
		return nil
	}
	for _, o := range test.LaidOutObjects(top) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	return nil
}

func TestKeyboard(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	a := newNode(t, app, net, "a", "")
	b := newNode(t, app, net, "b", "")
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
	link := shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "song.flac", 200<<10))

	// Ctrl+V anywhere in the window pastes the link and starts the download.
	b.ui.onUI(func() {
		app.Clipboard().SetContent(link)
		b.ui.win.Canvas().Unfocus()
		b.ui.win.Canvas().(fyne.Shortcutable).TypedShortcut(
			&desktop.CustomShortcut{KeyName: fyne.KeyV, Modifier: fyne.KeyModifierShortcutDefault})
		if b.ui.tabs.Selected() != b.ui.tabByName[ScreenDownload] {
			t.Errorf("Ctrl+V did not show the Download screen")
		}
	})
	eventually(t, b.ui, time.Minute, func() bool {
		r := downloadRowFor(b.ui, "song.flac")
		return r != nil && r.st.Done()
	}, func() string { return "pasted link not downloaded: " + b.ui.downloads.errLabel.Text })

	// Delete removes the selected download, after confirmation.
	b.ui.onUI(func() {
		b.ui.downloads.list.Select(0)
		b.ui.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyDelete})
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

	// Delete on the Share screen stops sharing the selected file.
	a.ui.onUI(func() {
		a.ui.shares.list.Select(0)
		a.ui.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyDelete})
		btn := overlayButton(a.ui, "Yes")
		if btn == nil {
			t.Fatalf("Delete on a share asked no confirmation")
		}
		test.Tap(btn)
	})
	eventually(t, a.ui, 10*time.Second, func() bool { return len(a.ui.items.list(kindShare)) == 0 },
		func() string { return "share still listed after Delete: " + a.ui.lastError })
}

func TestSecondStartHandsLinksOver(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	a := newNode(t, app, net, "a", "")
	b := newNode(t, app, net, "b", "")
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
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
