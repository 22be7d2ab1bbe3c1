package crypto

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// patternReaderAt is a file of any size whose bytes are computed, so that a
// test can seal a large file without holding it in memory.
type patternReaderAt struct {
	size  int64
	reads atomic.Int64
	// cancelAfter cancels cancel once that many reads happened (0: never).
	cancelAfter int64
	cancel      context.CancelFunc
}

func (p *patternReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if n := p.reads.Add(1); p.cancelAfter > 0 && n == p.cancelAfter {
		p.cancel()
	}
	for i := range b {
		b[i] = byte((off + int64(i)) * 2654435761 >> 13)
	}
	return len(b), nil
}

// TestSealMemoryBounded checks that sealing allocates one buffer per worker
// plus the tree, not anything proportional to the file: sealing 256 MiB
// allocates well under 4 MiB.
func TestSealMemoryBounded(t *testing.T) {
	const size = 256 << 20
	r := &patternReaderAt{size: size}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := sealWith(t.Context(), r, Header{Name: "big", Size: size}, testKey(1), 2)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	chunks := uint64(s.Descriptor.NumChunks())
	bound := 2*(DefaultChunkSize+Overhead) + 2*32*chunks + 1<<20
	if allocated > bound {
		t.Fatalf("sealing %d MiB allocated %d bytes, bound %d", size>>20, allocated, bound)
	}
	if got := r.reads.Load(); got != int64(chunks) {
		t.Fatalf("%d reads for %d chunks: not a single pass", got, chunks)
	}
}

func TestSealCanceledMidway(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := &patternReaderAt{size: 64 << 20, cancelAfter: 10, cancel: cancel}
	_, err := sealWith(ctx, r, Header{Size: r.size}, testKey(1), 2)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := r.reads.Load(); n > 12 {
		t.Fatalf("workers went on reading after cancel: %d reads", n)
	}
}

// TestTreeConcurrent exercises a partial tree from many goroutines (run
// with -race).
func TestTreeConcurrent(t *testing.T) {
	s, cts := sealedChunks(t, 64)
	pt := NewPartialTree(s.Descriptor)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range cts {
				i := (k*7 + g*13) % len(cts)
				p, _ := s.Tree.Proof(i)
				if err := pt.Add(i, cts[i], p); err != nil {
					t.Errorf("add %d: %v", i, err)
					return
				}
				if _, err := pt.Proof(i); err != nil {
					t.Errorf("proof %d: %v", i, err)
					return
				}
				_ = pt.Verify((i+1)%len(cts), cts[(i+1)%len(cts)], p)
				_, _ = pt.MarshalBinary()
			}
		}()
	}
	wg.Wait()
	if !pt.Full() {
		t.Fatal("tree not full after every chunk was added")
	}
}
