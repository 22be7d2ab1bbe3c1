package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/hydre-p2p/hydre/bridge"
)

// TestBridgeFetchRefuses runs 'hydre bridge fetch' on torrents it must
// refuse at once with a clear error: a 1 TiB one (over the default
// --max-size, and over a smaller --max-size given), a '..' path and a
// piece length of 0 (fetch printed "0.0 MiB of 0.0 MiB" until killed).
func TestBridgeFetchRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, info metainfo.Info) string {
		ib, err := bencode.Marshal(info)
		if err != nil {
			t.Fatal(err)
		}
		b, err := bencode.Marshal(metainfo.MetaInfo{InfoBytes: ib})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const tib, pl = 1 << 40, 16 << 20
	huge := write("huge.torrent", metainfo.Info{Name: "huge.bin", PieceLength: pl, Length: tib, Pieces: make([]byte, 20*(tib/pl))})
	dotdot := write("dotdot.torrent", metainfo.Info{Name: "d", PieceLength: 1 << 15, Pieces: make([]byte, 20),
		Files: []metainfo.FileInfo{{Path: []string{"..", "x"}, Length: 5}}})
	zero := write("zero.torrent", metainfo.Info{Name: "z", PieceLength: 0, Length: 5, Pieces: make([]byte, 20)})
	for _, tc := range []struct {
		name string
		args []string
		want error
		says string
	}{
		{"1 TiB over the default max size", []string{huge}, bridge.ErrTooLarge, "torrent larger"},
		{"over --max-size", []string{"--max-size", "1G", huge}, bridge.ErrTooLarge, "the limit is 1073741824"},
		{"dotdot path", []string{dotdot}, bridge.ErrBadTorrent, `".." element`},
		{"piece length 0", []string{zero}, bridge.ErrBadTorrent, "piece length 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			g := &globals{DataDir: filepath.Join(dir, "home"), Stdout: &out, Stderr: &errb,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append([]string{"fetch", "--no-dht", "--dir", filepath.Join(dir, "dl")}, tc.args...)
			err := runCommand(ctx, g, "bridge", loopbackDHT(t, args...))
			if ctx.Err() != nil {
				t.Fatalf("fetch still running after 30 s: %s", errb.String())
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("fetch: %v; want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
}
