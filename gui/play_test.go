package gui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
	"github.com/hydre-p2p/hydre/swarm/stream"
	"github.com/hydre-p2p/hydre/swarm/stream/streamtest"
)

// streamServer is a minimal stand-in for the streaming server of the
// command line: it serves a content read through the engine's Open.
func streamServer(t *testing.T) StreamFunc {
	t.Helper()
	var (
		mu sync.Mutex // set by the app's goroutine, read by the server's
		e  *swarm.Engine
		id hcrypto.ContentID
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		e, id := e, id
		mu.Unlock()
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
		mu.Lock()
		e, id = eng, cid
		mu.Unlock()
		return srv.URL + "/" + cid.String(), nil
	}
	return stream
}

// fakeMPV puts a script named mpv on PATH (and only it) that writes its
// arguments, one a line, to the file it returns.
func fakeMPV(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	script := "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > " + ran + ".tmp && /bin/mv " + ran + ".tmp " + ran + "\n"
	if err := os.WriteFile(filepath.Join(dir, "mpv"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	return ran
}

func TestPlayOpensTheStream(t *testing.T) {
	ran := fakeMPV(t)
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
	waitPlay(t, b.ui, "clip.webm")
	b.ui.onUI(func() { tapButton(downloadRowFor(b.ui, "clip.webm").play) })
	var args []string
	eventually(t, b.ui, 10*time.Second, func() bool {
		out, err := os.ReadFile(ran)
		args = strings.Split(strings.TrimSpace(string(out)), "\n")
		return err == nil
	}, func() string { return "Play started no player: " + b.ui.lastError })
	// The player is the confined one of the command line.
	opened := args[len(args)-1]
	if !strings.HasPrefix(opened, "http://127.0.0.1:") {
		t.Fatalf("Play opened %q, want the local stream", opened)
	}
	for _, want := range []string{"--access-references=no", "--ytdl=no", "--http-proxy=" + strings.Join(strings.SplitN(opened, "/", 4)[:3], "/")} {
		if !slices.Contains(args, want) {
			t.Errorf("mpv started without %s: %q", want, args)
		}
	}
	if u := rec.urls(); len(u) > 0 {
		t.Errorf("Play asked the desktop to open %q", u)
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
		return len(u) == 1 && u[0] == "file://"+b.dlDir
	}, func() string { return fmt.Sprintf("Open folder opened %q, want file://%s", rec.urls(), b.dlDir) })
}

// TestPlayNoPlayer: with no player hydre can confine, Play says so and
// asks nothing of the desktop.
func TestPlayNoPlayer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	app := test.NewTempApp(t)
	net := memnet.New()
	a := newNode(t, app, net, "a", "")
	rec := &recordingApp{App: app}
	b := newNode(t, app, net, "b", "", func(o *Options) { o.App, o.Stream = rec, streamServer(t) })
	waitConnected(t, a.ui)
	waitConnected(t, b.ui)
	link := shareByDrop(t, a, writeRandomFile(t, t.TempDir(), "clip.webm", 100<<10))
	b.ui.onUI(func() { b.ui.pasteLink(link) })
	waitPlay(t, b.ui, "clip.webm")
	b.ui.onUI(func() { tapButton(downloadRowFor(b.ui, "clip.webm").play) })
	eventually(t, b.ui, 10*time.Second, func() bool { return strings.Contains(b.ui.lastError, "install mpv or ffplay") },
		func() string { return "no error shown: " + b.ui.lastError })
	if u := rec.urls(); len(u) > 0 {
		t.Errorf("Play asked the desktop to open %q", u)
	}
}

// TestPlayHostileFile shares a movie.mp4 that is an m3u playlist naming a
// loopback canary and presses Play with a real mpv: through the stream
// server of the app, Play shows why it refuses and starts nothing; given
// straight to the player (a server that does not refuse it), mpv fetches
// it but the canary receives nothing.
func TestPlayHostileFile(t *testing.T) {
	streamtest.NeedPlayer(t, "mpv")
	streamtest.Headless(t)
	canary := streamtest.Canary(t)
	hostile := streamtest.Hostile(canary.URL())[0].Data
	app := test.NewTempApp(t)
	net := memnet.New()
	a := newNode(t, app, net, "a", "")
	waitConnected(t, a.ui)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "movie.mp4"), hostile, 0o644); err != nil {
		t.Fatal(err)
	}
	link := shareByDrop(t, a, filepath.Join(dir, "movie.mp4"))
	origin := streamtest.Origin(t, "/tok/movie.mp4", hostile)
	for _, c := range []struct {
		name   string
		stream StreamFunc
	}{
		{"through the stream server", appStreamServer(t)},
		{"straight to the player", func(context.Context, *swarm.Engine, hcrypto.ContentID) (string, error) {
			return origin.URL() + "/tok/movie.mp4", nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newNode(t, app, net, "b", "", func(o *Options) { o.Stream = c.stream })
			waitConnected(t, b.ui)
			b.ui.onUI(func() { b.ui.pasteLink(link) })
			waitPlay(t, b.ui, "movie.mp4")
			before := len(origin.Requests())
			b.ui.onUI(func() { tapButton(downloadRowFor(b.ui, "movie.mp4").play) })
			if c.name == "through the stream server" {
				eventually(t, b.ui, time.Minute, func() bool { return strings.Contains(b.ui.lastError, "outside Tor") },
					func() string { return "the refusal is not shown: " + b.ui.lastError })
			} else {
				eventually(t, b.ui, time.Minute, func() bool { return len(origin.Requests()) > before },
					func() string { return "mpv did not fetch the file: " + b.ui.lastError })
			}
			streamtest.WaitChildrenGone(t, "mpv")
			if got := canary.Requests(); len(got) > 0 {
				t.Fatalf("the canary received %q", got)
			}
		})
	}
}

// appStreamServer is the app's Play server as cmd/hydre gives it: a
// stream.Server for the engine, whose Check refuses a playlist before any
// player starts.
func appStreamServer(t *testing.T) StreamFunc {
	t.Helper()
	var srv *stream.Server
	return func(ctx context.Context, e *swarm.Engine, id hcrypto.ContentID) (string, error) {
		if srv == nil {
			s, err := stream.New(e, stream.Options{})
			if err != nil {
				return "", err
			}
			srv = s
			go srv.Serve(context.Background())
			t.Cleanup(func() { srv.Close() })
		}
		u, err := srv.URL(id)
		if err != nil {
			return "", err
		}
		return u, srv.Check(ctx, u)
	}
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
