package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bridgenode "github.com/hydre-p2p/hydre/bridge/node"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

// escapeFree reports whether s can be written to a terminal as it is: no
// control character but the newlines and tabs of our own format.
func escapeFree(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) || r == '\u202e'
	})
}

// TestBridgeRemoteTextEscaped has a hostile bridge node (on the in-memory
// onion network) answer the GUI's bridge with an error line of escape
// sequences, and 'hydre bridge request' print a hostile file path: the
// user sees them escaped, never interpreted.
func TestBridgeRemoteTextEscaped(t *testing.T) {
	mn := memnet.New()
	l, err := mn.Node("hostile").Listen(context.Background(), onion.ServiceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(c).ReadString('\n')
			io.WriteString(c, "error \x1b]0;owned\x07\x1b[2J\u009b31mgone\u202e\n")
			c.Close()
		}
	}()
	defer func() { l.Close(); <-served }()

	g := &globals{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	b := newGUIBridge(context.Background(), g)
	defer b.Close()
	b.setEngine(nil, mn.Node("user"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = b.Request(ctx, l.Address(), "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", nil)
	if err == nil || !escapeFree(err.Error()) || !strings.Contains(err.Error(), `\x1b[2J`) {
		t.Fatalf("the GUI shows the node's error as %q", err)
	}

	var out strings.Builder
	printAnswer(&out, []bridgenode.FileLink{{Path: "album/\x1b[2J\u202ecover.jpg", Link: "hydre:x"}, {Path: "album/b.flac", Link: "hydre:y"}})
	if !escapeFree(out.String()) || out.String() != "hydre:x\talbum/\\x1b[2J\\u202ecover.jpg\nhydre:y\talbum/b.flac\n" {
		t.Fatalf("printAnswer wrote %q", out.String())
	}
}

// TestBridgeStatusEscapesName: a torrent's name is a stranger's text;
// 'hydre bridge status' shows it with its escape sequences made visible.
func TestBridgeStatusEscapesName(t *testing.T) {
	dir := t.TempDir()
	st := bridgeStatus{Updated: time.Now().UTC(),
		Torrent: bridgeTorrent{InfoHash: "0123456789abcdef0123456789abcdef01234567", Name: "film\x1b]0;owned\x07\x1b[2J\u202eeman"}}
	if err := os.MkdirAll(filepath.Join(dir, "bridge"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeJSONFile(filepath.Join(dir, "bridge", "status.json"), st); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"--data-dir", dir, "bridge", "status"}, &out, &errb); code != 0 {
		t.Fatalf("bridge status exited %d: %s", code, errb.String())
	}
	if !escapeFree(out.String()) || !strings.Contains(out.String(), `film\x1b]0;owned`) {
		t.Fatalf("bridge status printed the name as %q", out.String())
	}
}
