package gui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/hydre-p2p/hydre/onion/memnet"
)

// fakeBridge is a Bridge that records what the app asks of it.
type fakeBridge struct {
	mu      sync.Mutex
	st      BridgeStatus
	fetched []string
	failOn  string
}

func (b *fakeBridge) SetEnabled(_ context.Context, on bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st.Enabled = on
	return nil
}

func (b *fakeBridge) Fetch(_ context.Context, magnet string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if magnet == b.failOn {
		return errors.New("no peer has this torrent")
	}
	b.fetched = append(b.fetched, magnet)
	b.st.Fetches = append(b.st.Fetches, BridgeFetch{Name: "debian.iso", Size: 600 << 20, Done: 150 << 20, Peers: 4})
	return nil
}

func (b *fakeBridge) Status() BridgeStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.st
	st.Fetches = append([]BridgeFetch(nil), b.st.Fetches...)
	return st
}

func (b *fakeBridge) set(f func(*BridgeStatus)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(&b.st)
}

func TestBridgeScreen(t *testing.T) {
	app := test.NewTempApp(t)
	fb := &fakeBridge{failOn: "magnet:?xt=urn:btih:ffffffffffffffffffffffffffffffffffffffff"}
	n := newNode(t, app, memnet.New(), "a", "", func(o *Options) { o.Bridge = fb })
	waitConnected(t, n.ui)
	u := n.ui

	u.onUI(func() {
		if u.bridge == nil || u.tabByName[ScreenBridge] == nil {
			t.Fatalf("no Bridge screen although a bridge was given")
		}
		test.Tap(u.bridge.enabled)
	})
	eventually(t, u, 5*time.Second, func() bool { return fb.Status().Enabled && u.currentSettings().BridgeMode },
		func() string { return "bridge mode not turned on and saved" })

	// A magnet pasted in the Download screen goes to the bridge.
	magnet := "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=debian.iso"
	u.onUI(func() { u.pasteLink(magnet) })
	eventually(t, u, 5*time.Second, func() bool {
		return strings.Contains(u.bridge.fetches.Text, "debian.iso — 25% of 600.0 MiB, 4 peers")
	},
		func() string { return "fetch not shown: " + u.bridge.fetches.Text })
	u.onUI(func() {
		if got := u.tabs.Selected(); got != u.tabByName[ScreenBridge] {
			t.Errorf("the app did not switch to the Bridge screen for a magnet link")
		}
		if !strings.HasPrefix(u.bridge.verdict.Text, "All zero") {
			t.Errorf("verdict with all counters at zero: %q", u.bridge.verdict.Text)
		}
	})

	// A counter that is not zero is shown as a problem.
	fb.set(func(s *BridgeStatus) { s.Uploaded = 16384 })
	eventually(t, u, 5*time.Second, func() bool { return strings.Contains(u.bridge.verdict.Text, "not zero") },
		func() string { return "non-zero counter not flagged: " + u.bridge.verdict.Text })

	// Errors in plain words.
	u.onUI(func() {
		u.bridge.magnet.SetText("http://example.org/file.torrent")
		u.bridge.magnet.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		if !strings.Contains(u.bridge.errLabel.Text, "not a magnet link") {
			t.Errorf("bad magnet: %q", u.bridge.errLabel.Text)
		}
		u.bridge.fetch(fb.failOn)
	})
	eventually(t, u, 5*time.Second, func() bool { return strings.Contains(u.bridge.errLabel.Text, "No peer has this torrent") },
		func() string { return "fetch error not shown: " + u.bridge.errLabel.Text })
}
