package bridge

import (
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// This file holds the hostile torrents: made by the tests themselves, with
// names and metadata real torrents carry by accident or by malice.

// hostileFile is one file of a hostile torrent: its path in the torrent
// and its size.
type hostileFile struct {
	path []string
	size int64
}

// hostileTorrent is a torrent written by a test, with its data under
// dataDir as f0.bin, f1.bin, ... (safe names, for aria2's --index-out).
type hostileTorrent struct {
	file    string // the .torrent
	dataDir string
	sums    [][32]byte
	info    metainfo.Info
}

// writeHostileTorrent makes a torrent named name holding files (one file
// of files[0].size if files[0].path is nil), in pieces of pieceLen, and
// its data; edit changes the info before it is encoded.
func writeHostileTorrent(t *testing.T, dir, name string, files []hostileFile, pieceLen int64, edit func(*metainfo.Info)) hostileTorrent {
	t.Helper()
	h := hostileTorrent{dataDir: filepath.Join(dir, "data"), file: filepath.Join(dir, "hostile.torrent")}
	var readers []io.Reader
	for i, f := range files {
		p := filepath.Join(h.dataDir, fmt.Sprintf("f%d.bin", i))
		h.sums = append(h.sums, writePayload(t, p, f.size, uint64(100+i)))
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fh.Close() })
		readers = append(readers, fh)
	}
	info := metainfo.Info{Name: name, PieceLength: pieceLen}
	if len(files) == 1 && files[0].path == nil {
		info.Length = files[0].size
	} else {
		for _, f := range files {
			info.Files = append(info.Files, metainfo.FileInfo{Path: f.path, Length: f.size})
		}
	}
	r := io.MultiReader(readers...)
	buf := make([]byte, pieceLen)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			s := sha1.Sum(buf[:n])
			info.Pieces = append(info.Pieces, s[:]...)
		}
		if err != nil {
			break
		}
	}
	if edit != nil {
		edit(&info)
	}
	h.info = info
	ib, err := bencode.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	writeMetainfo(t, h.file, ib)
	return h
}

// writeMetainfo writes a .torrent holding info bytes ib (none: no info
// dictionary at all).
func writeMetainfo(t *testing.T, path string, ib []byte) {
	t.Helper()
	mi := metainfo.MetaInfo{InfoBytes: ib, CreatedBy: "hydre test"}
	b, err := bencode.Marshal(mi)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// seed starts aria2 seeding the torrent from its safe data names and
// returns its address.
func (h hostileTorrent) seed(t *testing.T) string {
	t.Helper()
	port := freePort(t)
	var extra []string
	for i := range h.sums {
		extra = append(extra, fmt.Sprintf("--index-out=%d=f%d.bin", i+1, i))
	}
	aria := startAria2Seeder(t, h.file, h.dataDir, port, extra...)
	aria.Out.Wait(t, 60*time.Second, func(l string) bool { return strings.Contains(l, "listening on TCP port") })
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// TestHostileNames leeches, from aria2, torrents whose names no file system
// takes as they are: each must complete into a safe, bounded name under
// the torrent's folder, keep its real name in Files, and never take the
// process down (the library panicked after the write error in 15 of 24
// tries, or hung).
func TestHostileNames(t *testing.T) {
	cjk := strings.Repeat("漢", 86) + ".mkv" // 262 bytes: a real, innocent name
	cases := []struct {
		name  string
		tname string
		files []hostileFile
	}{
		{"nul byte", "a\x00b.bin", []hostileFile{{size: 300000}}},
		{"300 bytes", strings.Repeat("x", 296) + ".bin", []hostileFile{{size: 300000}}},
		{"86 cjk characters", cjk, []hostileFile{{size: 300000}}},
		{"absolute paths", "evil", []hostileFile{
			{path: []string{"", "etc", "passwd"}, size: 70000},
			{path: []string{"/root/.bashrc"}, size: 50000},
			{path: []string{"ok", "\x00" + cjk}, size: 60000},
			{path: []string{"ok", "\x01" + cjk}, size: 60000},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			h := writeHostileTorrent(t, dir, tc.tname, tc.files, 1<<15, nil)
			peer := h.seed(t)
			c := newTestClient(t, Config{DataDir: filepath.Join(dir, "leech")})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			bt, err := c.Add(ctx, h.file)
			if err != nil {
				t.Fatal(err)
			}
			if err := bt.AddPeers(peer); err != nil {
				t.Fatal(err)
			}
			select {
			case <-bt.Done():
			case <-bt.Failed():
				t.Fatalf("torrent given up: %v", bt.Err())
			case <-ctx.Done():
				t.Fatalf("download incomplete: %d of %d bytes", bt.BytesCompleted(), bt.Length())
			}
			files := bt.Files()
			if len(files) != len(tc.files) {
				t.Fatalf("%d files, want %d", len(files), len(tc.files))
			}
			for i, f := range files {
				want := tc.tname
				if tc.files[i].path != nil {
					want = strings.Join(append([]string{tc.tname}, tc.files[i].path...), "/")
				}
				if f.Path != want {
					t.Errorf("file %d: Path %q, want the real name %q", i, f.Path, want)
				}
				rel, err := filepath.Rel(bt.Dir(), f.DiskPath)
				if err != nil || !filepath.IsLocal(rel) {
					t.Errorf("file %d: on disk at %q, outside %q", i, f.DiskPath, bt.Dir())
				}
				if !strings.HasPrefix(f.DiskPath, bt.DiskPath()) {
					t.Errorf("file %d: on disk at %q, not under the torrent's own %q", i, f.DiskPath, bt.DiskPath())
				}
				for _, e := range strings.Split(rel, string(filepath.Separator)) {
					if len(e) > maxDiskName || strings.ContainsAny(e, "\x00\x01/\\") || e == ".." || !utf8.ValidString(e) {
						t.Errorf("file %d: unsafe element %q on disk", i, e)
					}
				}
				if got := fileSHA(t, f.DiskPath); got != h.sums[i] {
					t.Errorf("file %d: %s differs from the seeded data", i, f.DiskPath)
				}
			}
		})
	}
}

// TestWriteErrorGivesUp leeches a torrent whose two files cannot both
// exist ("d/x" is a file and the folder of "d/x/y"): the write error that
// follows cannot be avoided by names. The library's own answer disabled
// the download and then panicked (piece request order has {} and pending
// pieces has ...); the torrent is now given up with the error, and the
// client leeches another torrent afterwards.
func TestWriteErrorGivesUp(t *testing.T) {
	dir := t.TempDir()
	h := writeHostileTorrent(t, dir, "d", []hostileFile{{path: []string{"x"}, size: 100000}, {path: []string{"x", "y"}, size: 100000}}, 1<<15, nil)
	peer := h.seed(t)
	c := newTestClient(t, Config{DataDir: filepath.Join(dir, "leech")})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bt, err := c.Add(ctx, h.file)
	if err != nil {
		t.Fatal(err)
	}
	bt.AddPeers(peer)
	select {
	case <-bt.Failed():
		t.Logf("given up: %v", bt.Err())
	case <-bt.Done():
		t.Fatal("a torrent whose files cannot both exist completed")
	case <-ctx.Done():
		t.Fatalf("neither given up nor complete: %d of %d bytes", bt.BytesCompleted(), bt.Length())
	}
	if !strings.Contains(bt.Err().Error(), "write torrent data") && !strings.Contains(bt.Err().Error(), "storage") {
		t.Errorf("Err = %v, want the write or storage error", bt.Err())
	}
	// The client goes on: another torrent from another seeder completes.
	g := writeHostileTorrent(t, t.TempDir(), "good.bin", []hostileFile{{size: 200000}}, 1<<15, nil)
	gpeer := g.seed(t)
	gt, err := c.Add(ctx, g.file)
	if err != nil {
		t.Fatal(err)
	}
	gt.AddPeers(gpeer)
	waitDone(t, ctx, gt, gt.Files()[0].DiskPath, g.sums[0])
}
