package gui

import (
	"context"
	"crypto/rand"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
	"github.com/hydre-p2p/hydre/swarm"
)

// node is one app instance in a test, with its engine on the in-memory
// network.
type node struct {
	ui      *UI
	dataDir string
	dlDir   string
	starts  int // times Start was called (guarded by mu)
	mu      sync.Mutex
}

// newNode opens an app over a real engine on the node called name of net.
// Settings already saved in dataDir (if not "") are used.
func newNode(t *testing.T, a fyne.App, net *memnet.Network, name, dataDir string, mutate ...func(*Options)) *node {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	n := &node{dataDir: dataDir, dlDir: filepath.Join(dataDir, "downloads")}
	if _, err := os.Stat(filepath.Join(dataDir, SettingsFile)); os.IsNotExist(err) {
		s := DefaultSettings()
		s.DownloadDir = n.dlDir
		if err := SaveSettings(dataDir, s); err != nil {
			t.Fatal(err)
		}
	}
	log := testkit.Logger(t).With("node", name)
	opt := Options{
		App:     a,
		DataDir: dataDir,
		Logger:  log,
		Start: func(ctx context.Context, s Settings, progress func(Progress)) (*swarm.Engine, func(), error) {
			n.mu.Lock()
			n.starts++
			n.mu.Unlock()
			progress(Progress{Percent: 50, Summary: "Loading relay descriptors"})
			e, err := swarm.Open(ctx, swarm.Config{
				DataDir:              filepath.Join(dataDir, "swarm"),
				Transport:            net.Node(name),
				Logger:               log,
				DownloadDir:          s.DownloadDir,
				Reshare:              s.Reshare,
				SingleIdentity:       s.SingleIdentity,
				MaxPeersPerContent:   s.MaxPeersPerContent,
				MaxUploadsPerContent: s.MaxUploadsPerContent,
				Limits:               swarm.Limits{Up: s.UpRate, Down: s.DownRate},
			})
			if err != nil {
				return nil, nil, err
			}
			return e, func() { e.Close() }, nil
		},
	}
	for _, m := range mutate {
		m(&opt)
	}
	ui, err := New(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	n.ui = ui
	t.Cleanup(func() {
		ui.Close()
		ui.win.Close()
	})
	return n
}

// onUI runs fn as the UI thread would, serialized with the app's updates.
func (u *UI) onUI(fn func()) {
	uiThread.Lock()
	defer uiThread.Unlock()
	fn()
}

// eventually polls cond (run on the UI thread) until it holds, failing
// the test with what() after the deadline.
func eventually(t *testing.T, u *UI, timeout time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		u.onUI(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var msg string
			u.onUI(func() { msg = what() })
			t.Fatalf("timed out after %v: %s", timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// connectedPair opens two apps, a and b, over real engines on one
// in-memory network, and waits until both say they are connected.
func connectedPair(t *testing.T) (fyne.App, *memnet.Network, *node, *node) {
	t.Helper()
	app := test.NewTempApp(t)
	net := memnet.New()
	a := newNode(t, app, net, "a", "")
	b := newNode(t, app, net, "b", "")
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
	return app, net, a, b
}

// waitPlay waits for the Play button of name's download row to be
// offered (it is as soon as the download has started).
func waitPlay(t *testing.T, u *UI, name string) {
	t.Helper()
	eventually(t, u, time.Minute, func() bool {
		r := downloadRowFor(u, name)
		return r != nil && r.play.Visible() && !r.play.Disabled()
	}, func() string { return "no Play button" })
}

// waitConnected waits for the status area to say connected.
func waitConnected(t *testing.T, u *UI) {
	t.Helper()
	eventually(t, u, 30*time.Second, func() bool { return u.tor.state == "connected" },
		func() string { return "tor panel: " + u.tor.state + ": " + u.tor.detail.Text })
}

// writeRandomFile writes n random bytes to dir/name.
func writeRandomFile(t *testing.T, dir, name string, n int64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, n); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// rowsOf returns the rows of type T shown in the window.
func rowsOf[T fyne.CanvasObject](u *UI) []T {
	var out []T
	for _, o := range renderedObjects(u.win.Content()) {
		if r, ok := o.(T); ok && o.Visible() {
			out = append(out, r)
		}
	}
	return out
}

// renderedObjects returns o and the objects under it as the window holds
// them. Unlike test.LaidOutObjects it does not render widgets anew: that
// gives a List a second scroller, and the rows of the one in the window
// stop updating.
func renderedObjects(o fyne.CanvasObject) []fyne.CanvasObject {
	out := []fyne.CanvasObject{o}
	switch c := o.(type) {
	case *fyne.Container:
		for _, ch := range c.Objects {
			out = append(out, renderedObjects(ch)...)
		}
	case fyne.Widget:
		for _, ch := range test.WidgetRenderer(c).Objects() {
			out = append(out, renderedObjects(ch)...)
		}
	}
	return out
}

// downloadRowFor returns the laid-out row showing the content named name.
func downloadRowFor(u *UI, name string) *downloadRow {
	for _, r := range rowsOf[*downloadRow](u) {
		if r.st.Name == name {
			return r
		}
	}
	return nil
}

// shareRowFor returns the laid-out share row of the content named name.
func shareRowFor(u *UI, name string) *shareRow {
	for _, r := range rowsOf[*shareRow](u) {
		if r.st.Name == name {
			return r
		}
	}
	return nil
}

// tapButton taps b as a person would.
func tapButton(b *widget.Button) { test.Tap(b) }

// recordingApp is the test app, remembering the notifications sent and
// the addresses opened.
type recordingApp struct {
	fyne.App
	mu     sync.Mutex
	sent   []fyne.Notification
	opened []string
}

func (a *recordingApp) SendNotification(n *fyne.Notification) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sent = append(a.sent, *n)
}

func (a *recordingApp) OpenURL(u *url.URL) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opened = append(a.opened, u.String())
	return nil
}

func (a *recordingApp) notes() []fyne.Notification {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]fyne.Notification(nil), a.sent...)
}

func (a *recordingApp) urls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.opened...)
}
