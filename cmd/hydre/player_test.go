package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/swarm/stream"
	"github.com/hydre-p2p/hydre/swarm/stream/streamtest"
)

// TestBridgeFetchStreamRefusesPlaylist runs 'hydre bridge fetch --stream
// --player mpv' on a torrent whose file movie.mp4 is an m3u playlist naming
// a loopback canary, seeded by a local aria2: the command fails with the
// reason, prints no address, starts no player, and the canary receives
// nothing.
func TestBridgeFetchStreamRefusesPlaylist(t *testing.T) {
	needBridgeProgram(t, "aria2c")
	needBridgeProgram(t, "mktorrent")
	streamtest.NeedPlayer(t, "mpv")
	streamtest.Headless(t)
	canary := streamtest.Canary(t)
	dir := t.TempDir()
	tf, port := seedFolder(t, dir, "film", map[string][]byte{
		"movie.mp4": streamtest.Hostile(canary.URL())[0].Data,
		"a.srt":     []byte("1\n"),
	})

	out, errb := &syncBuffer{}, &syncBuffer{}
	g := &globals{DataDir: filepath.Join(dir, "home"), Stdout: out, Stderr: errb,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := runCommand(ctx, g, "bridge", loopbackDHT(t, "fetch", "--no-dht", "--stream", "--player", "mpv",
		"--peer", fmt.Sprintf("127.0.0.1:%d", port), "--dir", filepath.Join(dir, "dl"), tf))
	if !errors.Is(err, stream.ErrNotMedia) || !strings.Contains(err.Error(), "movie.mp4") {
		t.Fatalf("bridge fetch --stream of a playlist: %v, want the reason (ErrNotMedia)\n%s", err, errb.String())
	}
	if strings.Contains(out.String(), "http://") || strings.Contains(errb.String(), "Started") {
		t.Errorf("an address went out or a player started: %q %q", out.String(), errb.String())
	}
	if got := canary.Requests(); len(got) > 0 {
		t.Fatalf("the canary received %q", got)
	}
}
