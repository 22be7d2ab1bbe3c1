package gui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
)

// shareByDrop drops path on a's window and returns the share's link once
// the row shows it.
func shareByDrop(t *testing.T, a *node, path string) string {
	t.Helper()
	a.ui.onUI(func() { a.ui.dropped([]fyne.URI{storage.NewFileURI(path)}) })
	name := filepath.Base(path)
	var link string
	eventually(t, a.ui, 60*time.Second, func() bool {
		r := shareRowFor(a.ui, name)
		if r == nil || r.st.Link == "" || !r.copy.Visible() || r.copy.Disabled() {
			return false
		}
		link = r.st.Link
		return true
	}, func() string { return "no share row with a link; last error: " + a.ui.lastError })
	return link
}

func TestDropFileGivesLink(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	a := newNode(t, app, net, "a", "")
	waitConnected(t, a.ui)
	path := writeRandomFile(t, t.TempDir(), "holiday.mp4", 300<<10)
	link := shareByDrop(t, a, path)

	l, err := hcrypto.ParseLink(link)
	if err != nil {
		t.Fatalf("the share's link does not parse: %v", err)
	}
	if l.Key == nil || len(l.Peers) == 0 {
		t.Fatalf("the share's link has no key or no peer: key=%v peers=%d", l.Key != nil, len(l.Peers))
	}
	// "Publishing" until its onion service is up, then "Sharing".
	eventually(t, a.ui, 10*time.Second, func() bool { return shareRowFor(a.ui, "holiday.mp4").state.Text == "Sharing" },
		func() string { return "row state " + shareRowFor(a.ui, "holiday.mp4").state.Text })
	a.ui.onUI(func() {
		r := shareRowFor(a.ui, "holiday.mp4")
		if got, want := r.detail.Text, "300.0 KiB"; !strings.HasPrefix(got, want) {
			t.Errorf("row detail = %q, want it to start with the size %q", got, want)
		}
		if r.link.Text == link {
			t.Errorf("the row shows the whole secret link")
		}
		tapButton(r.copy)
		if got := app.Clipboard().Content(); got != link {
			t.Errorf("clipboard after Copy = %.30q…, want the link", got)
		}
		if r.copy.Text != "Copied" {
			t.Errorf("Copy button says %q after copying", r.copy.Text)
		}
		tapButton(r.qr)
		if a.ui.shares.qr == nil {
			t.Errorf("the QR button showed no QR code")
		}
	})
}

func TestPrivateShare(t *testing.T) {
	app := test.NewTempApp(t)
	a := newNode(t, app, memnet.New(), "a", "")
	waitConnected(t, a.ui)
	a.ui.onUI(func() { test.Tap(a.ui.shares.private) })
	link := shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "secret.odt", 10<<10))
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	if l.ClientKey == nil {
		t.Fatalf("a private share's link carries no client key")
	}
	a.ui.onUI(func() {
		r := shareRowFor(a.ui, "secret.odt")
		if !strings.Contains(r.detail.Text, "private") {
			t.Errorf("row does not say the share is private: %q", r.detail.Text)
		}
	})
}

func TestPastedLinkDownloadsWithProgress(t *testing.T) {
	app := test.NewTempApp(t)
	// Slow enough links that progress is seen between start and end.
	net := memnet.New(memnet.WithBandwidth(256 << 10))
	a := newNode(t, app, net, "a", "")
	rec := &recordingApp{App: app}
	b := newNode(t, app, net, "b", "", func(o *Options) { o.App = rec })
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
	src := writeRandomFile(t, t.TempDir(), "talk.ogg", 4<<20)
	link := shareByDrop(t, a, src)

	// Paste with the keyboard shortcut, as a person would.
	b.ui.onUI(func() {
		app.Clipboard().SetContent(link)
		b.ui.pasteLink(app.Clipboard().Content())
	})
	var seen []float64
	eventually(t, b.ui, 2*time.Minute, func() bool {
		r := downloadRowFor(b.ui, "talk.ogg")
		if r == nil {
			return false
		}
		if len(seen) == 0 || seen[len(seen)-1] != r.bar.Value {
			seen = append(seen, r.bar.Value)
		}
		// Seeding: at its final name (Done comes a moment before the rename).
		return r.bar.Value == 1 && r.st.Done() && r.st.State == swarm.StateSeeding
	}, func() string {
		return fmt.Sprintf("download not complete; progress seen %v; error %q %q", seen, b.ui.downloads.errLabel.Text, b.ui.lastError)
	})
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Errorf("progress went backwards: %v", seen)
		}
	}
	partial := false
	for _, v := range seen {
		partial = partial || (v > 0 && v < 1)
	}
	if !partial {
		t.Errorf("no progress between 0 and 1 was shown: %v", seen)
	}
	want, _ := os.ReadFile(src)
	got, err := os.ReadFile(filepath.Join(b.dlDir, "talk.ogg"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("downloaded file differs from the shared one (err %v)", err)
	}
	eventually(t, b.ui, 5*time.Second, func() bool {
		for _, n := range rec.notes() {
			if n.Title == "Download complete" && strings.Contains(n.Content, "talk.ogg") {
				return true
			}
		}
		return false
	}, func() string { return fmt.Sprintf("no completion notification: %v", rec.notes()) })
}

func TestBadLinkShowsError(t *testing.T) {
	app := test.NewTempApp(t)
	b := newNode(t, app, memnet.New(), "b", "")
	waitConnected(t, b.ui)
	tests := []struct {
		name, text, want string
	}{
		{"garbage", "hydre:not-a-link", "not a valid hydre link"},
		{"truncated", "hydre:" + strings.Repeat("a", 40), "not a valid hydre link"},
		{"empty", "   ", "Paste a hydre: link first"},
		{"magnet without bridge", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", "through a bridge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.ui.onUI(func() {
				test.Type(b.ui.downloads.entry, tt.text)
				b.ui.downloads.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
				if !b.ui.downloads.errLabel.Visible() || !strings.Contains(b.ui.downloads.errLabel.Text, tt.want) {
					t.Errorf("error shown = %q (visible %v), want it to contain %q",
						b.ui.downloads.errLabel.Text, b.ui.downloads.errLabel.Visible(), tt.want)
				}
				if n := len(b.ui.items.list(kindDownload)); n != 0 {
					t.Errorf("a bad link added %d downloads", n)
				}
				b.ui.downloads.entry.SetText("")
			})
		})
	}
}

func TestPauseResume(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New(memnet.WithBandwidth(512 << 10))
	a := newNode(t, app, net, "a", "")
	b := newNode(t, app, net, "b", "")
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
	src := writeRandomFile(t, t.TempDir(), "film.mkv", 16<<20) // 32 s at 512 KiB/s: not over before the tap lands, even under -race on a loaded machine
	link := shareByDrop(t, a, src)
	b.ui.onUI(func() { b.ui.pasteLink(link) })

	eventually(t, b.ui, time.Minute, func() bool {
		r := downloadRowFor(b.ui, "film.mkv")
		return r != nil && r.st.Verified > 0 && r.pause.Visible() && r.pause.Text == "Pause"
	}, func() string { return "download did not start: " + b.ui.downloads.errLabel.Text })
	b.ui.onUI(func() { tapButton(downloadRowFor(b.ui, "film.mkv").pause) })
	eventually(t, b.ui, 30*time.Second, func() bool {
		r := downloadRowFor(b.ui, "film.mkv")
		return r.st.State == swarm.StatePaused && r.pause.Text == "Resume" && r.state.Text == "Paused"
	}, func() string {
		return "not paused: " + downloadRowFor(b.ui, "film.mkv").state.Text + " " + b.ui.lastError
	})

	// While paused, nothing more arrives (after what was in flight).
	var at int64
	var id hcrypto.ContentID
	b.ui.onUI(func() {
		r := downloadRowFor(b.ui, "film.mkv")
		at, id = r.st.Verified, r.st.ID
	})
	e := b.ui.currentEngine()
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		st, err := e.Status(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Verified > at+int64(2*hcrypto.DefaultChunkSize)*8 {
			t.Fatalf("paused download kept fetching: %d then %d bytes", at, st.Verified)
		}
		if st.State != swarm.StatePaused {
			t.Fatalf("state changed while paused: %v", st.State)
		}
		time.Sleep(100 * time.Millisecond)
	}

	b.ui.onUI(func() { tapButton(downloadRowFor(b.ui, "film.mkv").pause) })
	eventually(t, b.ui, 30*time.Second, func() bool {
		r := downloadRowFor(b.ui, "film.mkv")
		return r.st.State != swarm.StatePaused && r.pause.Text == "Pause"
	}, func() string { return "not resumed: " + downloadRowFor(b.ui, "film.mkv").state.Text })

	// The tray's Pause all and Resume all do the same for every download.
	b.ui.onUI(b.ui.pauseAll)
	eventually(t, b.ui, 30*time.Second, func() bool {
		r := downloadRowFor(b.ui, "film.mkv")
		return r.st.State == swarm.StatePaused || r.st.Done()
	}, func() string { return "Pause all did not pause: " + downloadRowFor(b.ui, "film.mkv").state.Text })
	b.ui.onUI(b.ui.resumeAll)
	eventually(t, b.ui, 2*time.Minute, func() bool {
		r := downloadRowFor(b.ui, "film.mkv")
		return r.st.Done() && r.bar.Value == 1
	}, func() string {
		return "resumed download did not finish: " + downloadRowFor(b.ui, "film.mkv").state.Text
	})
}

func TestSettingsPersist(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	dir := t.TempDir()
	a := newNode(t, app, net, "a", dir)
	waitConnected(t, a.ui)
	newDL := filepath.Join(t.TempDir(), "elsewhere")
	a.ui.onUI(func() {
		p := a.ui.prefs
		p.downloadDir.SetText(newDL)
		p.reshare.SetChecked(false)
		p.identity.SetSelected(identityChoices[1])
		p.maxPeers.SetText("12")
		p.maxUploads.SetText("3")
		p.themeSel.SetSelected("Dark")
		p.torMode.SetSelected(torModeChoices[1])
		p.controlAddr.SetText("127.0.0.1:9151")
		tapButton(p.saveButton)
		if p.status.Text != "Saved." {
			t.Fatalf("save said %q", p.status.Text)
		}
	})
	a.ui.Close()

	got, err := LoadSettings(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultSettings()
	want.DownloadDir, want.Reshare, want.SingleIdentity = newDL, false, true
	want.MaxPeersPerContent, want.MaxUploadsPerContent, want.Theme = 12, 3, ThemeDark
	want.Tor = TorSettings{Mode: TorControl, ControlAddr: "127.0.0.1:9151", BridgeChoice: BridgesNone}
	want.Window = WindowSize{defaultWindowWidth, defaultWindowHeight} // kept when the app closed
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("settings after restart:\n got %+v\nwant %+v", got, want)
	}

	// A new app instance shows them and starts the engine with them.
	var used Settings
	b := newNode(t, app, net, "a2", dir, func(o *Options) {
		start := o.Start
		o.Start = func(ctx context.Context, s Settings, p func(Progress)) (*swarm.Engine, func(), error) {
			used = s
			s.Tor = TorSettings{Mode: TorManaged}
			return start(ctx, s, p)
		}
	})
	waitConnected(t, b.ui)
	if used.MaxPeersPerContent != 12 || used.DownloadDir != newDL || used.Tor.ControlAddr != "127.0.0.1:9151" {
		t.Errorf("engine started with %+v, want the saved settings", used)
	}
	b.ui.onUI(func() {
		p := b.ui.prefs
		if p.downloadDir.Text != newDL || p.reshare.Checked || p.maxPeers.Text != "12" ||
			p.identity.Selected != identityChoices[1] || p.themeSel.Selected != "Dark" || p.controlAddr.Text != "127.0.0.1:9151" {
			t.Errorf("the settings screen does not show the saved settings")
		}
		p.maxPeers.SetText("many")
		tapButton(p.saveButton)
		if !strings.Contains(p.status.Text, "whole number") {
			t.Errorf("a bad limit was not refused: %q", p.status.Text)
		}
	})
}

func TestConnectFailureShowsWayForward(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	var fail atomic.Bool
	fail.Store(true)
	n := newNode(t, app, net, "a", "", func(o *Options) {
		start := o.Start
		o.Start = func(ctx context.Context, s Settings, p func(Progress)) (*swarm.Engine, func(), error) {
			if fail.Load() {
				p(Progress{Percent: 5, Summary: "Connecting to a relay"})
				return nil, nil, fmt.Errorf("start tor: %w", ErrTorMissing)
			}
			return start(ctx, s, p)
		}
	})
	eventually(t, n.ui, 10*time.Second, func() bool { return n.ui.tor.state == "failed" },
		func() string { return n.ui.tor.state })
	n.ui.onUI(func() {
		if !strings.Contains(n.ui.tor.detail.Text, "Tor is not installed") || !n.ui.tor.retry.Visible() || !n.ui.tor.configure.Visible() {
			t.Errorf("failure shown as %q (retry %v, settings %v)", n.ui.tor.detail.Text, n.ui.tor.retry.Visible(), n.ui.tor.configure.Visible())
		}
		// Actions say why they cannot run instead of failing silently.
		n.ui.shares.share([]string{"/nonexistent"})
		if !strings.Contains(n.ui.lastError, "not connected to Tor yet") {
			t.Errorf("sharing while disconnected said %q", n.ui.lastError)
		}
		fail.Store(false)
		tapButton(n.ui.tor.retry)
	})
	waitConnected(t, n.ui)
}

func TestShareErrorsInPlainWords(t *testing.T) {
	app := test.NewTempApp(t)
	a := newNode(t, app, memnet.New(), "a", "")
	waitConnected(t, a.ui)
	missing := filepath.Join(t.TempDir(), "gone.txt")
	a.ui.onUI(func() { a.ui.shares.share([]string{missing}) })
	eventually(t, a.ui, 10*time.Second, func() bool { return a.ui.lastError != "" },
		func() string { return "no error shown for a missing file" })
	a.ui.onUI(func() {
		if !strings.Contains(a.ui.lastError, "does not exist") {
			t.Errorf("error = %q", a.ui.lastError)
		}
	})
}

func TestEngineErrorsKeepTheAppAlive(t *testing.T) {
	// The engine stops under the app (tor died): the status area says so
	// and Reconnect brings it back.
	app := test.NewTempApp(t)
	var mu sync.Mutex
	var engines []*swarm.Engine
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(engines) }
	n := newNode(t, app, memnet.New(), "a", "", func(o *Options) {
		start := o.Start
		o.Start = func(ctx context.Context, s Settings, p func(Progress)) (*swarm.Engine, func(), error) {
			e, stop, err := start(ctx, s, p)
			if err == nil {
				mu.Lock()
				engines = append(engines, e)
				mu.Unlock()
			}
			return e, stop, err
		}
	})
	waitConnected(t, n.ui)
	mu.Lock()
	first := engines[0]
	mu.Unlock()
	if err := first.Close(); err != nil && !errors.Is(err, swarm.ErrClosed) {
		t.Fatal(err)
	}
	path := writeRandomFile(t, t.TempDir(), "late.txt", 1000)
	eventually(t, n.ui, 30*time.Second, func() bool {
		if n.ui.tor.state == "failed" {
			return true
		}
		if strings.Contains(n.ui.lastError, "node is stopped") {
			return true
		}
		if n.ui.lastError == "" {
			n.ui.shares.share([]string{path})
		}
		return false
	}, func() string { return "closing the engine went unnoticed: " + n.ui.lastError })
	n.ui.onUI(func() {
		if n.ui.tor.state == "failed" {
			tapButton(n.ui.tor.retry)
		} else {
			tapButton(n.ui.tor.reconnect)
		}
	})
	eventually(t, n.ui, 30*time.Second, func() bool { return count() == 2 && n.ui.tor.state == "connected" },
		func() string { return "no reconnection: " + n.ui.tor.state })
}

func TestReconnectWhileConnecting(t *testing.T) {
	// A person changes the connection settings while tor is still
	// bootstrapping: the first attempt is cancelled, not left running.
	app := test.NewTempApp(t)
	var calls atomic.Int32
	cancelled := make(chan struct{})
	n := newNode(t, app, memnet.New(), "a", "", func(o *Options) {
		start := o.Start
		o.Start = func(ctx context.Context, s Settings, p func(Progress)) (*swarm.Engine, func(), error) {
			if calls.Add(1) == 1 {
				p(Progress{Percent: 10, Summary: "Connecting to a relay"})
				<-ctx.Done() // a bootstrap that never ends
				close(cancelled)
				return nil, nil, fmt.Errorf("bootstrap: %w", ctx.Err())
			}
			return start(ctx, s, p)
		}
	})
	eventually(t, n.ui, 10*time.Second, func() bool { return strings.Contains(n.ui.tor.title.Text, "10%") },
		func() string { return "no progress shown: " + n.ui.tor.title.Text })
	n.ui.onUI(n.ui.reconnect)
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the first connection attempt was not cancelled")
	}
	waitConnected(t, n.ui)
	if c := calls.Load(); c != 2 {
		t.Errorf("Start called %d times, want 2", c)
	}
}

// TestRetryFailedDownload checks that a download that failed can be tried
// again from its row: here its partial file was deleted while the app was
// closed, so the row says so, and Retry fetches it again from the start.
func TestRetryFailedDownload(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New(memnet.WithBandwidth(512 << 10))
	a := newNode(t, app, net, "a", "")
	bDir := t.TempDir()
	b := newNode(t, app, net, "b", bDir)
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
	src := writeRandomFile(t, t.TempDir(), "film.mkv", 12<<20) // 24 s at 512 KiB/s: still partial when the app closes, even under -race
	link := shareByDrop(t, a, src)
	b.ui.onUI(func() { b.ui.pasteLink(link) })
	var part string
	eventually(t, b.ui, time.Minute, func() bool {
		r := downloadRowFor(b.ui, "film.mkv")
		if r != nil && r.st.Verified > 0 {
			part = r.st.Path
		}
		return part != ""
	}, func() string { return "no data arrived" })
	b.ui.Close()
	if err := os.Remove(part); err != nil {
		t.Fatal(err)
	}

	b2 := newNode(t, app, net, "b2", bDir)
	waitConnected(t, b2.ui)
	b2.ui.onUI(func() { b2.ui.selectScreen(ScreenDownload) })
	eventually(t, b2.ui, 10*time.Second, func() bool {
		r := downloadRowFor(b2.ui, "film.mkv")
		return r != nil && r.state.Text == "Failed" && strings.Contains(r.detail.Text, "deleted or moved") &&
			r.pause.Visible() && r.pause.Text == "Retry"
	}, func() string {
		if r := downloadRowFor(b2.ui, "film.mkv"); r != nil {
			return "row: " + r.state.Text + " / " + r.detail.Text + " / " + r.pause.Text
		}
		var names []string
		for _, r := range rowsOf[*downloadRow](b2.ui) {
			names = append(names, r.st.Name+"|"+r.state.Text)
		}
		return fmt.Sprintf("no row among %q (items %d)", names, len(b2.ui.items.list(kindDownload)))
	})
	b2.ui.onUI(func() { tapButton(downloadRowFor(b2.ui, "film.mkv").pause) })
	eventually(t, b2.ui, 2*time.Minute, func() bool {
		r := downloadRowFor(b2.ui, "film.mkv")
		return r != nil && r.st.Done()
	}, func() string {
		return "not done: " + downloadRowFor(b2.ui, "film.mkv").state.Text + " " + b2.ui.lastError
	})
	want, _ := os.ReadFile(src)
	b2.ui.onUI(func() {
		got, err := os.ReadFile(downloadRowFor(b2.ui, "film.mkv").st.Path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("retried download: %d bytes (%v), want the %d of the share", len(got), err, len(want))
		}
	})
}

// TestRetryFailedShare checks that a share whose file was moved away while
// the app was closed says so, and that Retry serves it again once the file
// is back.
func TestRetryFailedShare(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	dir := t.TempDir()
	a := newNode(t, app, net, "a", dir)
	waitConnected(t, a.ui)
	src := writeRandomFile(t, t.TempDir(), "notes.pdf", 64<<10)
	shareByDrop(t, a, src)
	a.ui.Close()
	if err := os.Rename(src, src+".away"); err != nil {
		t.Fatal(err)
	}

	a2 := newNode(t, app, net, "a2", dir)
	waitConnected(t, a2.ui)
	row := func() *shareRow { return shareRowFor(a2.ui, "notes.pdf") }
	eventually(t, a2.ui, 10*time.Second, func() bool {
		r := row()
		return r != nil && r.state.Text == "Failed" && strings.Contains(r.detail.Text, "was deleted or moved") && r.retry.Visible()
	}, func() string {
		if r := row(); r != nil {
			return "row: " + r.state.Text + " / " + r.detail.Text
		}
		return "no row"
	})
	if err := os.Rename(src+".away", src); err != nil {
		t.Fatal(err)
	}
	a2.ui.onUI(func() { tapButton(row().retry) })
	eventually(t, a2.ui, 10*time.Second, func() bool {
		r := row()
		return r != nil && r.state.Text == "Sharing" && !r.retry.Visible()
	}, func() string { return "row: " + row().state.Text + " " + a2.ui.lastError })
}

// TestTorGoesAway checks that the window says so when tor exits under a
// running node, and that its Retry starts tor and the engine again.
func TestTorGoesAway(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	a := newNode(t, app, net, "a", "", func(o *Options) {
		start := o.Start
		o.Start = func(ctx context.Context, s Settings, progress func(Progress)) (*swarm.Engine, func(), error) {
			net.Node("a").Reopen() // a new tor
			return start(ctx, s, progress)
		}
	})
	waitConnected(t, a.ui)
	net.Node("a").Lose(errors.New("tor exited (signal: killed)"))
	eventually(t, a.ui, 10*time.Second, func() bool {
		return a.ui.tor.state == "failed" && strings.Contains(a.ui.tor.detail.Text, "Tor went away: tor exited (signal: killed)") &&
			a.ui.tor.retry.Visible()
	}, func() string { return a.ui.tor.state + ": " + a.ui.tor.detail.Text })
	a.ui.onUI(func() { tapButton(a.ui.tor.retry) })
	waitConnected(t, a.ui)
	// A share's row (its status through the new engine's event loop, a
	// refresh after that loop saw whether tor was lost) and still connected.
	shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "after retry.txt", 1000))
	if st := a.ui.torState(); st != "connected" {
		t.Fatalf("after Retry: %s", st)
	}
}

// xdgApp opens addresses as Fyne's Linux desktop app does: it runs
// xdg-open (fyne.io/fyne/v2/app, app_xdg.go).
type xdgApp struct{ fyne.App }

func (a xdgApp) OpenURL(u *url.URL) error { return exec.Command("xdg-open", u.String()).Start() }

func TestOpenFolderNamesMissingProgram(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	a := newNode(t, app, net, "a", "")
	b := newNode(t, app, net, "b", "", func(o *Options) { o.App = xdgApp{app} })
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
	link := shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "notes.txt", 20<<10))
	b.ui.onUI(func() { b.ui.pasteLink(link) })
	eventually(t, b.ui, time.Minute, func() bool {
		r := downloadRowFor(b.ui, "notes.txt")
		return r != nil && r.st.Done()
	}, func() string { return "not downloaded: " + b.ui.downloads.errLabel.Text })
	b.ui.onUI(func() { // distinct peers apart from connections
		r := downloadRowFor(b.ui, "notes.txt")
		if want := swarm.FormatPeers(r.st.Peers, r.st.Connections); !strings.Contains(r.detail.Text, want) {
			t.Errorf("download row says %q; want %q in it", r.detail.Text, want)
		}
	})

	t.Setenv("PATH", t.TempDir()) // no xdg-open
	b.ui.onUI(func() { tapButton(downloadRowFor(b.ui, "notes.txt").folder) })
	var msg string
	b.ui.onUI(func() { msg = b.ui.lastError })
	if !strings.Contains(msg, `"xdg-open"`) || !strings.Contains(msg, "xdg-utils") || strings.Contains(msg, "Tor") {
		t.Errorf("Open folder without xdg-open says %q; want the missing program named, and no word of Tor", msg)
	}
}

// TestReshareShownAndHandedOn: a finished, re-shared download offers Copy
// link and QR code, shows on the Share screen, and Stop sharing there
// stops serving it and keeps it in the Download screen.
func TestReshareShownAndHandedOn(t *testing.T) {
	app, _, a, b := connectedPair(t)
	link := shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "atlas.pdf", 64<<10))
	b.ui.onUI(func() {
		if r := newDownloadRow(b.ui.downloads); r.copy.Visible() || r.qr.Visible() {
			t.Errorf("a new download row offers its link before it is done")
		}
		b.ui.pasteLink(link)
	})
	eventually(t, b.ui, time.Minute, func() bool {
		r := downloadRowFor(b.ui, "atlas.pdf")
		return r != nil && r.st.State == swarm.StateSeeding && r.copy.Visible()
	}, func() string { return "no re-shared download with Copy link: " + b.ui.downloads.errLabel.Text })

	b.ui.onUI(func() {
		r := downloadRowFor(b.ui, "atlas.pdf")
		tapButton(r.copy)
		if got := app.Clipboard().Content(); got != r.st.Link || got == "" {
			t.Errorf("Copy link put %d characters on the clipboard, want the download's link", len(got))
		}
		if r.copy.Text != "Copied" {
			t.Errorf("Copy link button says %q after a tap", r.copy.Text)
		}
		tapButton(r.qr)
		if b.ui.shares.qr == nil {
			t.Errorf("QR code shows nothing")
		} else {
			b.ui.shares.qr.Hide()
		}
		b.ui.selectScreen(ScreenShare)
	})
	eventually(t, b.ui, 10*time.Second, func() bool { return shareRowFor(b.ui, "atlas.pdf") != nil },
		func() string { return "the re-shared download is not on the Share screen" })

	b.ui.onUI(func() {
		r := shareRowFor(b.ui, "atlas.pdf")
		if !strings.Contains(r.detail.Text, "downloaded here") {
			t.Errorf("share row of a re-shared download says %q", r.detail.Text)
		}
		tapButton(r.remove)
		btn := overlayButton(b.ui, "Yes")
		if btn == nil {
			t.Fatalf("Stop sharing asked no confirmation")
		}
		test.Tap(btn)
	})
	eventually(t, b.ui, 10*time.Second, func() bool {
		return len(b.ui.items.list(kindShare)) == 0 && len(b.ui.items.list(kindDownload)) == 1
	}, func() string {
		return fmt.Sprintf("after Stop sharing: %d shares, %d downloads; %s",
			len(b.ui.items.list(kindShare)), len(b.ui.items.list(kindDownload)), b.ui.lastError)
	})
	// The engine restarts the content, which settles as done, not served.
	eventually(t, b.ui, 10*time.Second, func() bool {
		l := b.ui.currentEngine().List()
		return len(l) == 1 && !l[0].Reshare && l[0].State == swarm.StateDone
	}, func() string {
		var got []string // states only: a Status holds the secret link
		for _, st := range b.ui.currentEngine().List() {
			got = append(got, fmt.Sprintf("%v reshare=%v", st.State, st.Reshare))
		}
		return fmt.Sprintf("after Stop sharing the engine holds %v", got)
	})
	b.ui.onUI(func() { b.ui.selectScreen(ScreenDownload) })
	eventually(t, b.ui, 10*time.Second, func() bool {
		r := downloadRowFor(b.ui, "atlas.pdf")
		return r != nil && r.state.Text == "Done" && r.copy.Visible()
	}, func() string { return "after Stop sharing the download row does not say Done" })
}
