package gui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
)

// streamServer is a minimal stand-in for the streaming server of the
// command line: it serves a content read through the engine's Open.
func streamServer(t *testing.T) StreamFunc {
	t.Helper()
	var e *swarm.Engine
	var id hcrypto.ContentID
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := e.Open(r.Context(), id)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer f.Close()
		http.ServeContent(w, r, f.Name(), time.Time{}, f)
	}))
	t.Cleanup(srv.Close)
	stream := func(_ context.Context, eng *swarm.Engine, cid hcrypto.ContentID) (string, error) {
		e, id = eng, cid
		return srv.URL + "/" + cid.String(), nil
	}
	return stream
}

func TestPlayOpensTheStream(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no media player: the desktop's handler is used
	app := test.NewTempApp(t)
	net := memnet.New(memnet.WithBandwidth(256 << 10))
	a := newNode(t, app, net, "a", "")
	rec := &recordingApp{App: app}
	stream := streamServer(t)
	b := newNode(t, app, net, "b", "", func(o *Options) { o.App, o.Stream = rec, stream })
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
	src := writeRandomFile(t, t.TempDir(), "clip.webm", 3<<20)
	link := shareByDrop(t, a, src)
	b.ui.onUI(func() { b.ui.pasteLink(link) })

	// Play is there as soon as the download has started.
	eventually(t, b.ui, time.Minute, func() bool {
		r := downloadRowFor(b.ui, "clip.webm")
		return r != nil && r.play.Visible() && !r.play.Disabled()
	}, func() string { return "no Play button" })
	b.ui.onUI(func() { tapButton(downloadRowFor(b.ui, "clip.webm").play) })
	var opened string
	eventually(t, b.ui, 10*time.Second, func() bool {
		if u := rec.urls(); len(u) > 0 {
			opened = u[0]
			return true
		}
		return false
	}, func() string { return "Play opened nothing: " + b.ui.lastError })
	if !strings.HasPrefix(opened, "http://127.0.0.1:") {
		t.Fatalf("Play opened %q, want the local stream", opened)
	}
	resp, err := http.Get(opened)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(src)
	if !bytes.Equal(got, want) {
		t.Fatalf("the stream gave %d bytes that differ from the %d shared", len(got), len(want))
	}

	// Open folder shows the download folder in the file manager.
	b.ui.onUI(func() { tapButton(downloadRowFor(b.ui, "clip.webm").folder) })
	eventually(t, b.ui, 5*time.Second, func() bool {
		u := rec.urls()
		return len(u) == 2 && u[1] == "file://"+b.dlDir
	}, func() string { return fmt.Sprintf("Open folder opened %q, want file://%s", rec.urls(), b.dlDir) })
}

func TestPlayHiddenWithoutStreaming(t *testing.T) {
	app := test.NewTempApp(t)
	b := newNode(t, app, memnet.New(), "b", "")
	b.ui.onUI(func() {
		r := newDownloadRow(b.ui.downloads)
		if r.play.Visible() {
			t.Errorf("Play shown although no streaming server was given")
		}
	})
}

func TestBugInAnActionIsShownNotFatal(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	a := newNode(t, app, net, "a", "")
	panicky := func(context.Context, *swarm.Engine, hcrypto.ContentID) (string, error) { panic("stream server bug") }
	b := newNode(t, app, net, "b", "", func(o *Options) { o.Stream = panicky })
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
	link := shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "tune.mp3", 20<<10))
	b.ui.onUI(func() { b.ui.pasteLink(link) })
	eventually(t, b.ui, time.Minute, func() bool {
		r := downloadRowFor(b.ui, "tune.mp3")
		return r != nil && !r.play.Disabled()
	}, func() string { return "no Play button" })
	b.ui.onUI(func() { tapButton(downloadRowFor(b.ui, "tune.mp3").play) })
	eventually(t, b.ui, 10*time.Second, func() bool { return strings.Contains(b.ui.lastError, "internal error") },
		func() string { return "panic not shown: " + b.ui.lastError })
}

// TestPlayOnlyForMedia downloads media and other files: Play is offered
// for what a player plays, by media type or by name.
func TestPlayOnlyForMedia(t *testing.T) {
	app := test.NewTempApp(t)
	net := memnet.New()
	a := newNode(t, app, net, "a", "")
	b := newNode(t, app, net, "b", "", func(o *Options) { o.Stream = streamServer(t) })
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
	dir := t.TempDir()
	tests := []struct {
		name string
		play bool
	}{
		{"clip.webm", true},
		{"tune.MP3", true},
		{"talk.opus", true},
		{"debian.iso", false},
		{"readme.txt", false},
		{"notes.pdf", false},
	}
	// Compact rows: the six downloads fit in the window.
	b.ui.onUI(func() { test.Tap(b.ui.downloads.view.compact) })
	for _, tt := range tests {
		link := shareByDrop(t, a, writeRandomFile(t, dir, tt.name, 16<<10))
		b.ui.onUI(func() { b.ui.pasteLink(link) })
	}
	for _, tt := range tests {
		eventually(t, b.ui, time.Minute, func() bool {
			r := downloadRowFor(b.ui, tt.name)
			return r != nil && r.st.Done()
		}, func() string { return tt.name + " not downloaded: " + b.ui.downloads.errLabel.Text })
		b.ui.onUI(func() {
			if got := downloadRowFor(b.ui, tt.name).play.Visible(); got != tt.play {
				t.Errorf("%s: Play shown = %v, want %v", tt.name, got, tt.play)
			}
		})
	}
}
