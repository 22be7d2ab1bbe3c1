package gui

import (
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/hydre-p2p/hydre/onion/memnet"
)

// TestWindowSizeRemembered resizes the window, closes the app and opens it
// again on the same data directory: the window comes back at that size,
// kept in the settings file. A size out of bounds opens the default one,
// and a settings file that did not load is left as it is.
func TestWindowSizeRemembered(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	dir := t.TempDir()
	size := func(u *UI) (s fyne.Size) {
		u.onUI(func() { s = u.win.Canvas().Size() })
		return s
	}
	a := newNode(t, app, net, "a", dir)
	if got := size(a.ui); got != fyne.NewSize(defaultWindowWidth, defaultWindowHeight) {
		t.Fatalf("first start: window %v, want %vx%v", got, defaultWindowWidth, defaultWindowHeight)
	}
	a.ui.onUI(func() { a.ui.win.Resize(fyne.NewSize(1111, 777)) })
	a.ui.Close()
	s, err := LoadSettings(dir)
	if err != nil || s.Window != (WindowSize{1111, 777}) {
		t.Fatalf("settings file keeps window %+v (%v), want 1111x777", s.Window, err)
	}
	b := newNode(t, app, net, "b", dir)
	if got := size(b.ui); got != fyne.NewSize(1111, 777) {
		t.Errorf("after a restart: window %v, want 1111x777", got)
	}
	b.ui.Close()

	for name, file := range map[string]string{
		"too small": `{"download_dir":"/d","window":{"width":20,"height":10}}`,
		"too large": `{"download_dir":"/d","window":{"width":1e9,"height":700}}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, SettingsFile), []byte(file), 0o600); err != nil {
				t.Fatal(err)
			}
			c := newNode(t, app, net, "c-"+name, dir)
			if got := size(c.ui); got != fyne.NewSize(defaultWindowWidth, defaultWindowHeight) {
				t.Errorf("window %v, want the default size", got)
			}
		})
	}
	t.Run("damaged file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, SettingsFile)
		if err := os.WriteFile(path, []byte("{damaged"), 0o600); err != nil {
			t.Fatal(err)
		}
		d := newNode(t, app, net, "d", dir)
		d.ui.onUI(func() { d.ui.win.Resize(fyne.NewSize(1000, 700)) })
		d.ui.Close()
		if b, _ := os.ReadFile(path); string(b) != "{damaged" {
			t.Errorf("closing the app rewrote a settings file that did not load: %q", b)
		}
	})
}
