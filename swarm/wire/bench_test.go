package wire

import (
	"bytes"
	"io"
	"testing"
)

// benchMessages are the frames a download is made of: pieces of the
// default 256 KiB chunk (with the proof of a tree of 4096 chunks) carry the
// bytes, and requests, haves and cancels go with each of them.
func benchMessages() []struct {
	name string
	m    Message
} {
	return []struct {
		name string
		m    Message
	}{
		{"piece-256KiB", Piece{Index: 1234, Proof: bytes.Repeat([]byte{7}, 12*33), Data: bytes.Repeat([]byte{9}, 256<<10+16)}},
		{"request", Request{Index: 1234}},
		{"bitfield-4096", Bitfield{Bits: bytes.Repeat([]byte{0xff}, 4096/8)}},
	}
}

// BenchmarkAppendFrame measures encoding a frame into a reused buffer, as a
// peer's writer does.
func BenchmarkAppendFrame(b *testing.B) {
	for _, bm := range benchMessages() {
		b.Run(bm.name, func(b *testing.B) {
			buf := AppendFrame(nil, bm.m)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendFrame(buf[:0], bm.m)
			}
		})
	}
}

// BenchmarkReadFrame measures reading and decoding a frame, limits checked,
// as a peer's reader does for a content of 256 KiB chunks.
func BenchmarkReadFrame(b *testing.B) {
	for _, bm := range benchMessages() {
		b.Run(bm.name, func(b *testing.B) {
			frame := AppendFrame(nil, bm.m)
			r := bytes.NewReader(frame)
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(frame)
				if _, err := ReadFrame(r, 256<<10+16); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteFrame measures encoding a frame and writing it in one Write,
// as the handshake does.
func BenchmarkWriteFrame(b *testing.B) {
	for _, bm := range benchMessages() {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(AppendFrame(nil, bm.m))))
			b.ReportAllocs()
			for b.Loop() {
				if err := WriteFrame(io.Discard, bm.m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
