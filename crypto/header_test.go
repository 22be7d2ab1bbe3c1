package crypto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestHeaderRoundTrip(t *testing.T) {
	tests := []Header{
		{Name: "a", Size: 0, ChunkSize: MinChunkSize},
		{Name: "Ünïcödé 名前 🎬.mkv", Size: 5000, MediaType: "video/x-matroska", ChunkSize: MinChunkSize, Created: time.Unix(1_800_000_000, 0).UTC()},
		{Name: strings.Repeat("ж", 127), Size: 1, MediaType: "text/plain; charset=utf-8", ChunkSize: MinChunkSize},
	}
	for _, h := range tests {
		data := testData(int(h.Size), 1)
		s := sealBytesHeader(t, data, h)
		got, err := s.Descriptor.OpenHeader(s.Key)
		if err != nil {
			t.Fatal(err)
		}
		if got != h {
			t.Fatalf("header = %+v, want %+v", got, h)
		}
		if n := len(s.Descriptor.SealedHeader); (n-Overhead)%headerBlock != 0 {
			t.Fatalf("sealed header of %d bytes is not padded", n)
		}
	}
}

func sealBytesHeader(t testing.TB, data []byte, h Header) *Sealed {
	t.Helper()
	s, err := sealWith(t.Context(), bytes.NewReader(data), h, testKey(3), 2)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHeaderHidesNameLength(t *testing.T) {
	var lens []int
	for _, name := range []string{"a", strings.Repeat("b", 200)} {
		s := sealBytesHeader(t, nil, Header{Name: name, ChunkSize: MinChunkSize})
		lens = append(lens, len(s.Descriptor.SealedHeader))
	}
	if lens[0] != lens[1] {
		t.Fatalf("sealed header lengths %v reveal the name length", lens)
	}
}

func TestHeaderSanitizedOnSealAndOpen(t *testing.T) {
	s := sealBytesHeader(t, nil, Header{Name: "../../x\x00.sh", MediaType: "bad type", ChunkSize: MinChunkSize})
	h, err := s.Descriptor.OpenHeader(s.Key)
	if err != nil {
		t.Fatal(err)
	}
	if h.Name != ".._.._x_.sh" || h.MediaType != "" {
		t.Fatalf("header not sanitized on seal: %+v", h)
	}
	// A hostile sealer skips sanitizing: the opener still sanitizes.
	d := &Descriptor{Version: Version, ChunkSize: MinChunkSize, Size: 0}
	d.SealedHeader = sealHeader(testKey(3), d, Header{Name: "../../../etc/cron.d/x", ChunkSize: MinChunkSize, MediaType: "a\nb"})
	h, err = d.OpenHeader(testKey(3))
	if err != nil {
		t.Fatal(err)
	}
	checkSafeName(t, h.Name)
	if h.MediaType != "" {
		t.Fatalf("media type %q not sanitized", h.MediaType)
	}
}

func TestOpenHeaderRejects(t *testing.T) {
	s := sealBytesHeader(t, testData(3000, 2), Header{Name: "n", Size: 3000, ChunkSize: MinChunkSize})
	d := s.Descriptor
	if _, err := d.OpenHeader(testKey(99)); !errors.Is(err, ErrBadHeader) {
		t.Fatalf("wrong key: %v", err)
	}
	for k := range len(d.SealedHeader) * 8 {
		bad := *d
		bad.SealedHeader = bytes.Clone(d.SealedHeader)
		bad.SealedHeader[k/8] ^= 1 << (k % 8)
		if _, err := bad.OpenHeader(s.Key); !errors.Is(err, ErrBadHeader) {
			t.Fatalf("flipped header bit %d accepted", k)
		}
	}
	// The header is bound to the descriptor's fields.
	for name, mutate := range map[string]func(*Descriptor){
		"root":       func(x *Descriptor) { x.Root[0] ^= 1 },
		"size":       func(x *Descriptor) { x.Size++ },
		"chunk size": func(x *Descriptor) { x.ChunkSize *= 2 },
		"truncated":  func(x *Descriptor) { x.SealedHeader = x.SealedHeader[:len(x.SealedHeader)-1] },
		"extended":   func(x *Descriptor) { x.SealedHeader = append(bytes.Clone(x.SealedHeader), 0) },
	} {
		bad := *d
		mutate(&bad)
		if _, err := bad.OpenHeader(s.Key); !errors.Is(err, ErrBadHeader) {
			t.Fatalf("%s changed: header still opens: %v", name, err)
		}
	}
	// A header whose size disagrees with its descriptor, even well sealed.
	lie := &Descriptor{Version: Version, ChunkSize: MinChunkSize, Size: 10}
	lie.SealedHeader = sealHeader(testKey(3), lie, Header{Name: "x", Size: 11, ChunkSize: MinChunkSize})
	if _, err := lie.OpenHeader(testKey(3)); !errors.Is(err, ErrBadHeader) {
		t.Fatalf("size mismatch accepted: %v", err)
	}
}

func TestDecodeHeaderStrict(t *testing.T) {
	good := encodeHeader(Header{Name: "abc", Size: 1, ChunkSize: MinChunkSize, MediaType: "a/b"})
	if _, err := decodeHeader(good); err != nil {
		t.Fatal(err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	bad := map[string][]byte{
		"format":          mut(func(b []byte) []byte { b[0] = 2; return b }),
		"padding":         mut(func(b []byte) []byte { b[len(b)-1] = 1; return b }),
		"short":           good[:len(good)-1],
		"extra block":     append(bytes.Clone(good), make([]byte, headerBlock)...),
		"name too long":   mut(func(b []byte) []byte { binary.BigEndian.PutUint16(b[21:], 2000); return b }),
		"name past end":   mut(func(b []byte) []byte { binary.BigEndian.PutUint16(b[21:], headerBlock); return b }),
		"media past end":  mut(func(b []byte) []byte { b[21+2+3] = 255; return b }),
		"empty":           {},
		"fixed part only": good[:headerFixedLen],
	}
	for name, b := range bad {
		if _, err := decodeHeader(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestDescriptorCodec(t *testing.T) {
	s := sealBytes(t, testData(5000, 4), MinChunkSize, testKey(6))
	d := s.Descriptor
	b, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) >= 4096 {
		t.Fatalf("descriptor is %d bytes", len(b))
	}
	id := d.ID()
	for k := range len(b) * 8 {
		bad := bytes.Clone(b)
		bad[k/8] ^= 1 << (k % 8)
		if _, err := UnmarshalDescriptor(bad, id); !errors.Is(err, ErrBadDescriptor) {
			t.Fatalf("flipped bit %d accepted", k)
		}
	}
	for k := range b {
		if _, err := UnmarshalDescriptor(b[:k], id); err == nil {
			t.Fatalf("truncated to %d accepted", k)
		}
	}
	if _, err := UnmarshalDescriptor(append(bytes.Clone(b), 0), id); err == nil {
		t.Fatal("extended accepted")
	}
	other := id
	other[0] ^= 1
	if _, err := UnmarshalDescriptor(b, other); !errors.Is(err, ErrBadDescriptor) || !strings.Contains(err.Error(), "content id mismatch") {
		t.Fatalf("wrong id: %v", err)
	}
	// A descriptor with another size (truncated or extended file) has another ID.
	for _, delta := range []int64{-1, 1} {
		x := *d
		x.Size += delta
		if x.ID() == id {
			t.Fatal("size change kept the content id")
		}
	}
	// Invalid descriptors do not marshal and have the zero ID.
	for name, mutate := range map[string]func(*Descriptor){
		"version":    func(x *Descriptor) { x.Version = 3 },
		"chunk size": func(x *Descriptor) { x.ChunkSize = 1000 },
		"size":       func(x *Descriptor) { x.Size = -1 },
		"huge":       func(x *Descriptor) { x.Size = MaxSize + 1 },
		"chunks":     func(x *Descriptor) { x.ChunkSize = MinChunkSize; x.Size = int64(MaxChunks+1) * MinChunkSize },
		"header":     func(x *Descriptor) { x.SealedHeader = nil },
	} {
		x := *d
		mutate(&x)
		if _, err := x.MarshalBinary(); err == nil || !x.ID().IsZero() {
			t.Errorf("%s: invalid descriptor marshaled", name)
		}
	}
}

func TestDescriptorRanges(t *testing.T) {
	d := &Descriptor{Version: Version, ChunkSize: 1024, Size: 2500}
	tests := []struct {
		i       int
		off     int64
		n, ctln int
	}{{0, 0, 1024, 1040}, {1, 1024, 1024, 1040}, {2, 2048, 452, 468}, {3, 0, 0, 0}, {-1, 0, 0, 0}}
	for _, tt := range tests {
		off, n := d.PlainRange(tt.i)
		if off != tt.off || n != tt.n || d.ChunkLen(tt.i) != tt.ctln {
			t.Errorf("chunk %d: range (%d, %d) len %d", tt.i, off, n, d.ChunkLen(tt.i))
		}
	}
	empty := &Descriptor{Version: Version, ChunkSize: 1024}
	if empty.NumChunks() != 1 || empty.ChunkLen(0) != Overhead {
		t.Fatalf("empty file: %d chunks, chunk 0 is %d bytes", empty.NumChunks(), empty.ChunkLen(0))
	}
}
