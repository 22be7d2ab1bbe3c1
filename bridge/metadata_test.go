package bridge

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// metadataPeer is a minimal BitTorrent peer written for the test: it
// answers the handshake and ut_metadata requests with info, and nothing
// else. No real client serves an info dictionary this broken: aria2 and
// Transmission refuse to load one.
func metadataPeer(t *testing.T, info []byte) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveMetadata(c, info)
		}
	}()
	return l.Addr().String()
}

func serveMetadata(c net.Conn, info []byte) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	var hs [68]byte
	if _, err := io.ReadFull(c, hs[:]); err != nil {
		return
	}
	reply := append([]byte("\x13BitTorrent protocol"), 0, 0, 0, 0, 0, 0x10, 0, 0)
	reply = append(append(reply, hs[28:48]...), "-XX0000-metadatapeer"...)
	ext, _ := bencode.Marshal(map[string]any{"m": map[string]int{"ut_metadata": 2}, "metadata_size": len(info)})
	reply = binary.BigEndian.AppendUint32(reply, uint32(2+len(ext)))
	reply = append(append(reply, msgExtended, 0), ext...)
	if _, err := c.Write(reply); err != nil {
		return
	}
	theirMeta := 0
	for {
		var lb [4]byte
		if _, err := io.ReadFull(c, lb[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(lb[:])
		if n == 0 {
			continue
		}
		if n > 1<<20 {
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		if msg[0] != msgExtended || len(msg) < 2 {
			continue
		}
		switch msg[1] {
		case 0:
			var d struct {
				M map[string]int `bencode:"m"`
			}
			if bencode.Unmarshal(msg[2:], &d) == nil {
				theirMeta = d.M["ut_metadata"]
			}
		case 2:
			var req struct {
				Type  int `bencode:"msg_type"`
				Piece int `bencode:"piece"`
			}
			if bencode.Unmarshal(msg[2:], &req) != nil || req.Type != 0 || theirMeta == 0 {
				continue
			}
			begin := req.Piece * metadataPieceLen
			if begin < 0 || begin >= len(info) {
				continue
			}
			data := info[begin:min(len(info), begin+metadataPieceLen)]
			hdr, _ := bencode.Marshal(map[string]int{"msg_type": 1, "piece": req.Piece, "total_size": len(info)})
			out := binary.BigEndian.AppendUint32(nil, uint32(2+len(hdr)+len(data)))
			out = append(append(append(out, msgExtended, byte(theirMeta)), hdr...), data...)
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	}
}

// TestMagnetRefusesBadInfo leeches magnets whose info dictionary, served
// by a peer, hashes right but cannot be leeched: each must be given up at
// once with ErrBadTorrent (the library dropped the error of the first two
// and asked again forever; fetch printed 0.0 MiB of 0.0 MiB).
func TestMagnetRefusesBadInfo(t *testing.T) {
	c := newTestClient(t, Config{})
	for _, tc := range []struct {
		name string
		edit func(*metainfo.Info)
		says string
	}{
		{"pieces not a multiple of 20", func(i *metainfo.Info) { i.Pieces = i.Pieces[:len(i.Pieces)-3] }, "20-byte hashes"},
		{"piece count off", func(i *metainfo.Info) { i.Pieces = i.Pieces[:len(i.Pieces)-20] }, "piece hashes for"},
		{"dotdot path", func(i *metainfo.Info) { i.Files[0].Path = []string{"..", "x"} }, `".." element`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := metainfo.Info{Name: "m", PieceLength: 1 << 15, Pieces: make([]byte, 20*4),
				Files: []metainfo.FileInfo{{Path: []string{"a"}, Length: 3<<15 + 1}}}
			tc.edit(&info)
			ib, err := bencode.Marshal(info)
			if err != nil {
				t.Fatal(err)
			}
			peer := metadataPeer(t, ib)
			ih := metainfo.HashBytes(ib)
			bt, err := c.Add(t.Context(), "magnet:?xt=urn:btih:"+ih.HexString()+"&x.pe="+peer)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-bt.Failed():
			case <-time.After(30 * time.Second):
				t.Fatal("a magnet with a broken info dictionary still waits after 30 s")
			}
			if err := bt.Err(); !errors.Is(err, ErrBadTorrent) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Err = %v; want ErrBadTorrent saying %q", err, tc.says)
			}
		})
	}
}

// FuzzMetadataPiece feeds ut_metadata messages as peers send them: none
// may panic, and a dictionary is only ever returned whole and hashing to
// the info-hash.
func FuzzMetadataPiece(f *testing.F) {
	// Seeds in testdata/fuzz/FuzzMetadataPiece: a whole one-piece
	// dictionary, a reject, a piece past the end, a negative total size.
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var w metadataWatch
		ih := metainfo.HashBytes([]byte("d1:ai1ee"))
		for _, p := range [][]byte{a, b} {
			if info := w.piece(ih, p); info != nil && metainfo.HashBytes(info) != ih {
				t.Fatalf("returned %q, which does not hash to the info-hash", info)
			}
		}
	})
}
