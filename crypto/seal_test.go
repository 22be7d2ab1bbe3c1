package crypto

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

func TestSealRoundTrip(t *testing.T) {
	const cs = MinChunkSize
	tests := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one byte", 1},
		{"one chunk minus one", cs - 1},
		{"exactly one chunk", cs},
		{"one byte over", cs + 1},
		{"two chunks", 2 * cs},
		{"three chunks (odd)", 3 * cs},
		{"five and a bit", 5*cs + 7},
		{"many", 37*cs + 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := testData(tt.size, uint64(tt.size))
			s := sealBytes(t, data, cs, testKey(1))
			d := s.Descriptor
			wantChunks := max(1, (tt.size+cs-1)/cs)
			if d.NumChunks() != wantChunks {
				t.Fatalf("NumChunks = %d, want %d", d.NumChunks(), wantChunks)
			}
			// A downloader: descriptor from bytes, partial tree, every chunk verified.
			enc, err := d.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, err := UnmarshalDescriptor(enc, d.ID())
			if err != nil {
				t.Fatalf("unmarshal descriptor: %v", err)
			}
			h, err := got.OpenHeader(s.Key)
			if err != nil {
				t.Fatalf("open header: %v", err)
			}
			wantH := Header{Name: "file.bin", Size: int64(tt.size), MediaType: "application/octet-stream",
				ChunkSize: cs, Created: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
			if h != wantH {
				t.Fatalf("header = %+v, want %+v", h, wantH)
			}
			pt := NewPartialTree(got)
			var plain []byte
			for i, ct := range ciphertexts(t, s, data) {
				if len(ct) != got.ChunkLen(i) {
					t.Fatalf("chunk %d: len %d, ChunkLen %d", i, len(ct), got.ChunkLen(i))
				}
				p, err := s.Tree.Proof(i)
				if err != nil {
					t.Fatal(err)
				}
				if err := pt.Add(i, ct, p); err != nil {
					t.Fatalf("add chunk %d: %v", i, err)
				}
				pl, err := DecryptChunk(s.Key, i, ct)
				if err != nil {
					t.Fatalf("decrypt chunk %d: %v", i, err)
				}
				off, n := got.PlainRange(i)
				if off != int64(len(plain)) || n != len(pl) {
					t.Fatalf("PlainRange(%d) = %d, %d; have %d bytes, chunk %d", i, off, n, len(plain), len(pl))
				}
				plain = append(plain, pl...)
			}
			if !bytes.Equal(plain, data) {
				t.Fatal("decrypted content differs from the sealed file")
			}
			if !pt.Full() {
				t.Fatal("partial tree holding every chunk does not say Full")
			}
			for i := range d.NumChunks() {
				p1, _ := s.Tree.Proof(i)
				p2, err := pt.Proof(i)
				if err != nil {
					t.Fatal(err)
				}
				b1, _ := p1.MarshalBinary()
				b2, _ := p2.MarshalBinary()
				if !bytes.Equal(b1, b2) {
					t.Fatalf("proof %d from partial tree differs from sealer's", i)
				}
			}
		})
	}
}

func TestSealDeterministicAcrossWorkers(t *testing.T) {
	data := testData(50*MinChunkSize+3, 7)
	var ids []ContentID
	for _, w := range []int{1, 2, 3, 8} {
		h := Header{Name: "x", Size: int64(len(data)), ChunkSize: MinChunkSize}
		s, err := sealWith(context.Background(), bytes.NewReader(data), h, testKey(2), w)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.Descriptor.ID())
	}
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("content id depends on the number of workers: %v", ids)
		}
	}
}

func TestSealFreshKey(t *testing.T) {
	data := testData(3000, 1)
	h := Header{Name: "a", Size: int64(len(data))}
	s1, err := Seal(context.Background(), bytes.NewReader(data), h)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Seal(context.Background(), bytes.NewReader(data), h)
	if err != nil {
		t.Fatal(err)
	}
	if s1.Key == s2.Key || s1.Descriptor.ID() == s2.Descriptor.ID() {
		t.Fatal("two seals of one file share a key or a content id")
	}
	if s1.Descriptor.ChunkSize != DefaultChunkSize {
		t.Fatalf("chunk size %d, want default %d", s1.Descriptor.ChunkSize, DefaultChunkSize)
	}
}

func TestSealErrors(t *testing.T) {
	data := testData(10*MinChunkSize, 3)
	tests := []struct {
		name string
		r    io.ReaderAt
		h    Header
		want error
	}{
		{"file shorter than size (truncated)", bytes.NewReader(data[:len(data)-1]), Header{Size: int64(len(data)), ChunkSize: MinChunkSize}, io.ErrUnexpectedEOF},
		{"negative size", bytes.NewReader(data), Header{Size: -1}, nil},
		{"chunk size not a power of two", bytes.NewReader(data), Header{Size: 10, ChunkSize: 3000}, nil},
		{"chunk size too small", bytes.NewReader(data), Header{Size: 10, ChunkSize: 512}, nil},
		{"read error", errReaderAt{errors.New("disk on fire")}, Header{Size: 10}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sealWith(context.Background(), tt.r, tt.h, testKey(1), 2)
			if err == nil {
				t.Fatal("seal succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

type errReaderAt struct{ err error }

func (e errReaderAt) ReadAt([]byte, int64) (int, error) { return 0, e.err }

func TestSealCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data := testData(10*MinChunkSize, 3)
	_, err := sealWith(ctx, bytes.NewReader(data), Header{Size: int64(len(data)), ChunkSize: MinChunkSize}, testKey(1), 2)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestReadChunkDetectsChangedFile(t *testing.T) {
	data := testData(4*MinChunkSize, 9)
	s := sealBytes(t, data, MinChunkSize, testKey(3))
	changed := bytes.Clone(data)
	changed[2*MinChunkSize+5] ^= 1
	if _, _, err := s.ReadChunk(bytes.NewReader(changed), 1); err != nil {
		t.Fatalf("unchanged chunk 1: %v", err)
	}
	if _, _, err := s.ReadChunk(bytes.NewReader(changed), 2); !errors.Is(err, ErrBadChunk) {
		t.Fatalf("changed chunk 2: err = %v, want ErrBadChunk", err)
	}
	if _, _, err := s.ReadChunk(bytes.NewReader(data[:len(data)-1]), 3); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated file: err = %v, want unexpected EOF", err)
	}
}

func TestChooseChunkSize(t *testing.T) {
	tests := []struct {
		size int64
		want int
	}{
		{0, DefaultChunkSize},
		{1 << 30, DefaultChunkSize},
		{int64(MaxChunks) * DefaultChunkSize, DefaultChunkSize},
		{int64(MaxChunks)*DefaultChunkSize + 1, 2 * DefaultChunkSize},
		{MaxSize, MaxChunkSize},
	}
	for _, tt := range tests {
		if got := chooseChunkSize(tt.size); got != tt.want {
			t.Errorf("chooseChunkSize(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
}
