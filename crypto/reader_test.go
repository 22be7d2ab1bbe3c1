package crypto

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/iotest"
)

// countingSource records which chunks a reader asks for, and can corrupt
// one of them.
type countingSource struct {
	src     ChunkSource
	mu      sync.Mutex
	fetched map[int]int
	corrupt int // chunk index to corrupt, -1 for none
}

func (c *countingSource) Chunk(ctx context.Context, i int) ([]byte, Proof, error) {
	c.mu.Lock()
	c.fetched[i]++
	c.mu.Unlock()
	ct, p, err := c.src.Chunk(ctx, i)
	if err == nil && i == c.corrupt {
		ct = bytes.Clone(ct)
		ct[len(ct)/2] ^= 0x10
	}
	return ct, p, err
}

func newCounting(s *Sealed, data []byte) *countingSource {
	return &countingSource{src: SealedSource{Sealed: s, File: bytes.NewReader(data)}, fetched: map[int]int{}, corrupt: -1}
}

func TestReaderRandomAccess(t *testing.T) {
	data := testData(10*MinChunkSize+123, 5)
	s := sealBytes(t, data, MinChunkSize, testKey(7))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		src := newCounting(s, data)
		r := NewReader(t.Context(), s.Descriptor, s.Key, src)
		off := rng.Int64N(int64(len(data)))
		n := rng.IntN(3 * MinChunkSize)
		buf := make([]byte, n)
		got, err := r.ReadAt(buf, off)
		want := min(n, len(data)-int(off))
		if got != want || (err != nil && !(errors.Is(err, io.EOF) && got < n)) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v; want %d", n, off, got, err, want)
		}
		if !bytes.Equal(buf[:got], data[off:off+int64(got)]) {
			t.Fatalf("ReadAt(%d, %d) returned wrong bytes", n, off)
		}
		// Only the covering chunks were fetched, each once.
		first := int(off / MinChunkSize)
		last := first
		if got > 0 {
			last = int((off + int64(got) - 1) / MinChunkSize)
		}
		for i, c := range src.fetched {
			if i < first || i > last || c != 1 {
				t.Fatalf("range [%d, +%d) fetched chunk %d (%d times), covering %d..%d", off, got, i, c, first, last)
			}
		}
	}
}

func TestReaderReadSeeker(t *testing.T) {
	for _, size := range []int{0, 1, MinChunkSize, 3*MinChunkSize + 1} {
		data := testData(size, uint64(size))
		s := sealBytes(t, data, MinChunkSize, testKey(8))
		r := NewReader(t.Context(), s.Descriptor, s.Key, SealedSource{Sealed: s, File: bytes.NewReader(data)})
		if err := iotest.TestReader(r, data); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if r.Size() != int64(size) {
			t.Fatalf("Size = %d", r.Size())
		}
		if _, err := r.Seek(-1, io.SeekStart); err == nil {
			t.Fatal("negative seek accepted")
		}
		if _, err := r.Seek(0, 42); err == nil {
			t.Fatal("bad whence accepted")
		}
		if pos, err := r.Seek(10, io.SeekEnd); err != nil || pos != int64(size)+10 {
			t.Fatalf("seek past end: %d, %v", pos, err)
		}
		if n, err := r.Read(make([]byte, 5)); n != 0 || err != io.EOF {
			t.Fatalf("read past end: %d, %v", n, err)
		}
	}
}

func TestReaderRejectsBadChunk(t *testing.T) {
	data := testData(4*MinChunkSize, 6)
	s := sealBytes(t, data, MinChunkSize, testKey(9))
	src := newCounting(s, data)
	src.corrupt = 2
	r := NewReader(t.Context(), s.Descriptor, s.Key, src)
	buf := make([]byte, len(data))
	n, err := r.ReadAt(buf, 0)
	if !errors.Is(err, ErrBadChunk) {
		t.Fatalf("err = %v, want ErrBadChunk", err)
	}
	if n != 2*MinChunkSize || !bytes.Equal(buf[:n], data[:n]) {
		t.Fatalf("returned %d bytes before the bad chunk, want the %d verified ones", n, 2*MinChunkSize)
	}
	// A right chunk under the wrong key fails to decrypt.
	r = NewReader(t.Context(), s.Descriptor, testKey(10), SealedSource{Sealed: s, File: bytes.NewReader(data)})
	if _, err := r.Read(buf); !errors.Is(err, ErrBadChunk) {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestReaderContext(t *testing.T) {
	data := testData(2*MinChunkSize, 6)
	s := sealBytes(t, data, MinChunkSize, testKey(9))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := NewReader(ctx, s.Descriptor, s.Key, SealedSource{Sealed: s, File: bytes.NewReader(data)})
	if _, err := r.Read(make([]byte, 10)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
