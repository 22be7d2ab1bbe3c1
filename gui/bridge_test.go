package gui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
)

// fakeBridge is a Bridge that records what the app asks of it.
type fakeBridge struct {
	mu      sync.Mutex
	st      BridgeStatus
	fetched []string
	failOn  string
	// answer is what Request returns (after reporting progress), and
	// asked records (node, magnet) pairs.
	answer []RemoteFile
	asked  [][2]string
}

func (b *fakeBridge) Request(ctx context.Context, node, magnet string, progress func(done, size int64)) ([]RemoteFile, error) {
	b.mu.Lock()
	b.asked = append(b.asked, [2]string{node, magnet})
	answer, fail := b.answer, magnet == b.failOn
	b.mu.Unlock()
	if fail {
		return nil, errors.New("bridge node: no peer has this torrent")
	}
	progress(1<<20, 4<<20)
	return answer, nil
}

func (b *fakeBridge) requests() [][2]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][2]string(nil), b.asked...)
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
		if got := u.tabByName[ScreenBridge].Text; got != "BitTorrent" {
			t.Errorf("the screen is called %q, want BitTorrent (Tor bridges are in Settings)", got)
		}
		if u.bridge.exposure.Visible() {
			t.Errorf("the IP address warning shows while bridge mode is off")
		}
		test.Tap(u.bridge.enabled)
	})
	eventually(t, u, 5*time.Second, func() bool {
		return fb.Status().Enabled && u.currentSettings().BridgeMode && u.bridge.exposure.Visible()
	}, func() string { return "bridge mode not turned on and saved, or its IP address warning not shown" })

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
	u.onUI(func() {
		if got := u.bridge.magnet.Text; got != fb.failOn {
			t.Errorf("after a failed fetch the magnet box holds %q, want the magnet kept", got)
		}
	})

	// Off again: the warning goes.
	u.onUI(func() { test.Tap(u.bridge.enabled) })
	eventually(t, u, 5*time.Second, func() bool { return !fb.Status().Enabled && !u.bridge.exposure.Visible() },
		func() string { return "bridge mode off, yet the IP address warning shows" })
}

// TestBridgeNodeRequest: with a hidden bridge node set, a magnet link goes
// to the node, not to the local bridge; the links it answers with (a
// torrent of two files in two folders) download like any other, each into
// its folder; the node's address is kept across restarts; a bad
// address or a failed request is said in plain words.
func TestBridgeNodeRequest(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	a := newNode(t, app, net, "a", "")
	fb := &fakeBridge{failOn: "magnet:?xt=urn:btih:ffffffffffffffffffffffffffffffffffffffff"}
	dir := t.TempDir()
	b := newNode(t, app, net, "b", dir, func(o *Options) { o.Bridge = fb })
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
	src := writeRandomFile(t, t.TempDir(), "lecture.webm", 1<<20)
	notes := writeRandomFile(t, t.TempDir(), "notes.txt", 100<<10)
	fb.answer = []RemoteFile{{Link: shareByDrop(t, a, src), Dir: "course"},
		{Link: shareByDrop(t, a, notes), Dir: filepath.Join("course", "extra")}}

	const node = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion:7446"
	u := b.ui
	u.onUI(func() {
		u.bridge.node.SetText("not-an-onion")
		u.bridge.fetch("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567")
		if !strings.Contains(u.bridge.errLabel.Text, "not valid") {
			t.Errorf("bad node address: %q", u.bridge.errLabel.Text)
		}
		u.bridge.node.SetText(node)
	})
	eventually(t, u, 5*time.Second, func() bool { return u.currentSettings().BridgeNode == node },
		func() string { return "bridge node not saved" })

	magnet := "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=lecture.webm"
	u.onUI(func() { u.pasteLink(magnet) })
	eventually(t, u, time.Minute, func() bool {
		done := 0
		for _, st := range u.currentEngine().List() {
			// Seeding or done: moved to its final name (Verified == Size
			// comes a moment before the file is renamed).
			final := st.State == swarm.StateSeeding || st.State == swarm.StateDone
			if (st.Name == "lecture.webm" || st.Name == "notes.txt") && st.Kind == swarm.KindDownload && final {
				done++
			}
		}
		return done == 2
	}, func() string {
		return "the node's link was not downloaded; " + u.bridge.errLabel.Text + " / " + u.bridge.remote.Text + " / " + u.downloads.errLabel.Text
	})
	for src, dst := range map[string]string{src: "course/lecture.webm", notes: "course/extra/notes.txt"} {
		want, _ := os.ReadFile(src)
		if got, err := os.ReadFile(filepath.Join(b.dlDir, filepath.FromSlash(dst))); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from the file behind the node's link (%v)", dst, err)
		}
	}
	if got := fb.requests(); len(got) != 1 || got[0] != [2]string{node, magnet} {
		t.Errorf("requests to the node: %v", got)
	}
	fb.mu.Lock()
	fetched := len(fb.fetched)
	fb.mu.Unlock()
	if fetched != 0 {
		t.Errorf("the local bridge fetched %d magnets although a node was set", fetched)
	}
	u.onUI(func() {
		if !strings.Contains(u.bridge.remote.Text, "fetched lecture.webm; its 2 files") {
			t.Errorf("node status: %q", u.bridge.remote.Text)
		}
		u.bridge.fetch(fb.failOn)
	})
	eventually(t, u, 5*time.Second, func() bool { return strings.Contains(u.bridge.errLabel.Text, "could not fetch it") },
		func() string { return "request error not shown: " + u.bridge.errLabel.Text })
	u.onUI(func() {
		if got := u.bridge.magnet.Text; got != fb.failOn {
			t.Errorf("after a failed request the magnet box holds %q, want the magnet kept", got)
		}
	})

	if s, err := LoadSettings(dir); err != nil || s.BridgeNode != node {
		t.Errorf("saved bridge node %q (%v)", s.BridgeNode, err)
	}
}
