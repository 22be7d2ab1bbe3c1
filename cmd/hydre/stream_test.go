package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
	"github.com/hydre-p2p/hydre/swarm/stream"
	"github.com/hydre-p2p/hydre/swarm/stream/streamtest"
)

func TestStreamUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"a", "b"}, {"--player", "winamp", "hydre:x"}, {"--player", "vlc", "hydre:x"}} {
		g := &globals{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard, Stderr: io.Discard}
		var ue usageError
		if err := runCommand(context.Background(), g, "stream", args); !errors.As(err, &ue) {
			t.Errorf("hydre stream %q: %v, want a usage error", args, err)
		}
	}
}

// TestStreamCommand drives "hydre share" and "hydre stream --player none"
// on a private Tor network: stream prints a loopback address that serves the
// file's bytes, by range, and stops serving when interrupted. A shared
// movie.mp4 that is an m3u playlist naming a loopback canary makes "hydre
// stream --player mpv" fail with the reason, before any address goes out
// or any player starts: the canary receives nothing.
func TestStreamCommand(t *testing.T) {
	testkit.SkipWithoutTor(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, newGlobals := testnetGlobals(ctx, t)
	file := filepath.Join(t.TempDir(), "talk.mp4")
	data := bytes.Repeat([]byte("hydre stream test bytes\n"), 200000)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	streamtest.Headless(t)
	canary := streamtest.Canary(t)
	hostile := filepath.Join(t.TempDir(), "movie.mp4")
	if err := os.WriteFile(hostile, streamtest.Hostile(canary.URL())[0].Data, 0o644); err != nil {
		t.Fatal(err)
	}
	ga, aout, aerr := newGlobals()
	shareCtx, stopShare := context.WithCancel(ctx)
	defer stopShare()
	shareErr := make(chan error, 1)
	go func() { shareErr <- runCommand(shareCtx, ga, "share", []string{"--each", file, hostile}) }()
	defer func() { stopShare(); <-shareErr }()
	link := waitLine(t, aout, aerr, "hydre:", shareErr)
	hostileLink := waitNthLine(t, aout, aerr, "hydre:", 2, shareErr)

	gh, hout, herr := newGlobals()
	err := runCommand(ctx, gh, "stream", []string{"--player", "mpv", "-o", t.TempDir(), hostileLink})
	if !errors.Is(err, stream.ErrNotMedia) || !strings.Contains(err.Error(), "movie.mp4") {
		t.Fatalf("stream of a playlist: %v, want the reason (ErrNotMedia)\n%s", err, herr.String())
	}
	if strings.Contains(hout.String(), "http://") || strings.Contains(herr.String(), "Started") {
		t.Errorf("an address went out or a player started: %q %q", hout.String(), herr.String())
	}
	if got := canary.Requests(); len(got) > 0 {
		t.Fatalf("the canary received %q", got)
	}

	gb, bout, berr := newGlobals()
	streamCtx, stopStream := context.WithCancel(ctx)
	streamErr := make(chan error, 1)
	go func() {
		streamErr <- runCommand(streamCtx, gb, "stream", []string{"--player", "none", "-o", t.TempDir(), link})
	}()
	u := waitLine(t, bout, berr, "http://127.0.0.1:", streamErr)
	if !strings.HasSuffix(u, "/talk.mp4") {
		t.Errorf("address %q does not end with the file name", u)
	}
	resp, body, err := getFrom(ctx, t, u, 1000)
	if err != nil || resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[1000:]) {
		t.Fatalf("GET %d bytes, status %d, err %v; want %d bytes", len(body), resp.StatusCode, err, len(data)-1000)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "video/mp4" {
		t.Logf("Content-Type %q (this system's mime.types has no .mp4?)", ct)
	}
	stopStream()
	select {
	case err := <-streamErr:
		if err != nil {
			t.Fatalf("stream: %v\n%s", err, berr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("stream did not stop when interrupted")
	}
	if _, err := http.Get(u); err == nil {
		t.Error("the address still answers after stream stopped")
	}

	// hydre get --stream: the address comes beside the progress; the file
	// is saved, and the address keeps answering after the download ends,
	// until interrupted.
	gc, cout, cerr := newGlobals()
	dir := t.TempDir()
	getCtx, stopGet := context.WithCancel(ctx)
	getErr := make(chan error, 1)
	go func() { getErr <- runCommand(getCtx, gc, "get", []string{"--stream", "-o", dir, link}) }()
	u = waitLine(t, cout, cerr, "http://127.0.0.1:", getErr)
	saved := filepath.Join(dir, "talk.mp4")
	waitLine(t, cout, cerr, saved, getErr)
	if got, err := os.ReadFile(saved); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get --stream saved %d bytes (%v), want the shared file", len(got), err)
	}
	resp, err = http.Get(u)
	if err != nil {
		t.Fatalf("the address stopped answering when the download ended: %v", err)
	}
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("GET after completion: %d bytes, status %d, err %v", len(body), resp.StatusCode, err)
	}
	stopGet()
	select {
	case err := <-getErr:
		if err != nil {
			t.Fatalf("get --stream: %v\n%s", err, cerr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("get --stream did not stop when interrupted")
	}
}
