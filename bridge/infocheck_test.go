package bridge

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// infoCases are info dictionaries that parse but cannot be leeched, each
// with a word its error must hold.
var infoCases = []struct {
	name  string
	edit  func(*metainfo.Info)
	files []hostileFile
	want  string
}{
	{"dotdot path", nil, []hostileFile{{path: []string{"..", "..", "x"}, size: 40000}}, `".." element`},
	{"dotdot slash in element", nil, []hostileFile{{path: []string{"../../x"}, size: 40000}}, `".." element`},
	{"directory named dotdot", nil, []hostileFile{{path: []string{"a", "..", "b"}, size: 40000}}, `".." element`},
	{"dotdot name", func(i *metainfo.Info) { i.Name = "../x" }, nil, `".." element`},
	{"piece length 0", func(i *metainfo.Info) { i.PieceLength = 0 }, nil, "piece length 0"},
	{"negative piece length", func(i *metainfo.Info) { i.PieceLength = -32768 }, nil, "piece length -32768"},
	{"pieces not a multiple of 20", func(i *metainfo.Info) { i.Pieces = i.Pieces[:len(i.Pieces)-3] }, nil, "20-byte hashes"},
	{"piece count off", func(i *metainfo.Info) { i.Pieces = i.Pieces[:len(i.Pieces)-20] }, nil, "piece hashes for"},
	{"negative length", nil, []hostileFile{{path: []string{"a"}, size: 40000}, {path: []string{"b"}, size: 1}}, "negative length"},
}

func (h hostileTorrent) withInfo(t *testing.T, edit func(*metainfo.Info)) {
	t.Helper()
	info := h.info
	edit(&info)
	ib, err := bencode.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	writeMetainfo(t, h.file, ib)
}

// TestAddRefusesBadInfo adds each bad .torrent: Add must fail at once with
// ErrBadTorrent and say why (the library took them and waited forever).
func TestAddRefusesBadInfo(t *testing.T) {
	c := newTestClient(t, Config{})
	for _, tc := range infoCases {
		t.Run(tc.name, func(t *testing.T) {
			files := tc.files
			if files == nil {
				files = []hostileFile{{size: 100000}}
			}
			h := writeHostileTorrent(t, t.TempDir(), "bad", files, 1<<15, tc.edit)
			if tc.name == "negative length" {
				h.withInfo(t, func(i *metainfo.Info) { i.Files[1].Length = -1 })
			}
			_, err := c.Add(t.Context(), h.file)
			if !errors.Is(err, ErrBadTorrent) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Add: %v; want ErrBadTorrent saying %q", err, tc.want)
			}
		})
	}
	t.Run("no info dictionary", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "noinfo.torrent")
		writeMetainfo(t, p, nil)
		if _, err := c.Add(t.Context(), p); !errors.Is(err, ErrBadTorrent) || !strings.Contains(err.Error(), "no info dictionary") {
			t.Fatalf("Add: %v; want ErrBadTorrent saying there is no info dictionary", err)
		}
	})
	c.mu.Lock()
	n := len(c.torrents)
	c.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d torrents left in the client after refusals", n)
	}
}

// TestCheckInfoReportsAll checks that every fault of one info is reported
// together.
func TestCheckInfoReportsAll(t *testing.T) {
	info := metainfo.Info{Name: "x", PieceLength: -1, Pieces: make([]byte, 21),
		Files: []metainfo.FileInfo{{Path: []string{".."}, Length: 5}}}
	err := checkInfo(&info)
	for _, want := range []string{"piece length -1", "20-byte hashes", `".." element`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("checkInfo: %v; want it to say %q", err, want)
		}
	}
}

// FuzzCheckInfo feeds arbitrary bytes as an info dictionary: no input may
// panic, and an accepted one maps every file to a safe path on disk.
func FuzzCheckInfo(f *testing.F) {
	// Seeds in testdata/fuzz/FuzzCheckInfo: a valid info, a NUL name, ".."
	// and absolute paths, piece length 0, short pieces, nothing.
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := checkInfoBytes(b)
		if err != nil {
			if !errors.Is(err, ErrBadTorrent) {
				t.Fatalf("error %v does not wrap ErrBadTorrent", err)
			}
			return
		}
		m := mapDiskPaths(info)
		for _, fi := range info.UpvertedFiles() {
			if p := m[fileKey(fi.BestPath())]; !isSafeDiskPath(p) {
				t.Fatalf("accepted info maps a file to %q", p)
			}
		}
	})
}

// TestSizeRefused adds a torrent that claims 1 TiB: refused over MaxSize,
// and refused for want of free space with no MaxSize (it was accepted
// without a word), before anything is requested or written.
func TestSizeRefused(t *testing.T) {
	const tib = 1 << 40
	const pieceLen = 16 << 20
	h := writeHostileTorrent(t, t.TempDir(), "huge.bin", []hostileFile{{size: 1000}}, pieceLen, func(i *metainfo.Info) {
		i.Length = tib
		i.Pieces = make([]byte, 20*(tib/pieceLen))
	})
	for _, tc := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"max size", Config{MaxSize: 1 << 30, KeepFree: -1}, ErrTooLarge},
		{"free space", Config{}, ErrDiskFull},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, tc.cfg)
			bt, err := c.Add(t.Context(), h.file)
			if err != nil {
				t.Fatal(err)
			}
			if err := bt.WaitInfo(t.Context()); !errors.Is(err, tc.want) {
				t.Fatalf("WaitInfo: %v, want %v", err, tc.want)
			}
			<-bt.Failed()
			if !errors.Is(bt.Err(), tc.want) {
				t.Fatalf("Err: %v, want %v", bt.Err(), tc.want)
			}
			entries, _ := os.ReadDir(c.cfg.DataDir)
			for _, e := range entries {
				if e.Name() == "huge.bin" {
					if fi, err := e.Info(); err == nil && fi.Size() > 0 {
						t.Errorf("refused torrent left a %d-byte file", fi.Size())
					}
				}
			}
		})
	}
}
