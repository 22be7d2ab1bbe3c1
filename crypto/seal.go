package crypto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zeebo/blake3"
)

// Sealed is the result of sealing a file: what its seeder keeps beside the
// plaintext file. The key goes into the link; the descriptor and the tree
// are public.
type Sealed struct {
	Key        Key
	Descriptor *Descriptor
	Tree       *Tree
}

// Seal reads h.Size bytes of r and seals them: a fresh key, the chunks
// encrypted and hashed in one streaming pass, the Merkle tree, the sealed
// header and the descriptor. It keeps no ciphertext: a seeder re-encrypts
// chunks from the plaintext when it serves them (Sealed.ReadChunk).
//
// h.ChunkSize 0 selects DefaultChunkSize, or the smallest larger power of
// two that keeps the file within MaxChunks. h.Name and h.MediaType are
// sanitized; h.Created is kept to the second. Sealing uses GOMAXPROCS
// workers, each with one chunk buffer: memory is O(workers * chunk size)
// plus 64 bytes per chunk for the tree, whatever the file size.
func Seal(ctx context.Context, r io.ReaderAt, h Header) (*Sealed, error) {
	k, err := NewKey()
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return sealWith(ctx, r, h, k, runtime.GOMAXPROCS(0))
}

// chooseChunkSize returns the chunk size Seal uses for size bytes when the
// caller asks for the default.
func chooseChunkSize(size int64) int {
	cs := int64(DefaultChunkSize)
	for cs < MaxChunkSize && numChunks(size, cs) > MaxChunks {
		cs *= 2
	}
	return int(cs)
}

// sealWith is Seal with a given key and number of workers. The key must be
// fresh: sealing two different files with one key reuses nonces.
func sealWith(ctx context.Context, r io.ReaderAt, h Header, k Key, workers int) (*Sealed, error) {
	h, err := prepareHeader(h)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	d := &Descriptor{Version: Version, ChunkSize: uint32(h.ChunkSize), Size: h.Size}

	leaves, err := sealChunks(ctx, r, d, k, workers)
	if err != nil {
		return nil, err
	}
	t := newFullTree(d, leaves)
	d.Root = t.Root()
	d.SealedHeader = sealHeader(k, d, h)
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Sealed{Key: k, Descriptor: d, Tree: t}, nil
}

// prepareHeader checks a header's size, picks the default chunk size for
// 0, and sanitizes the name and media type, as every sealer does.
func prepareHeader(h Header) (Header, error) {
	if h.Size < 0 || h.Size > MaxSize {
		return h, fmt.Errorf("size %d out of range [0, %d]", h.Size, MaxSize)
	}
	if h.ChunkSize == 0 {
		h.ChunkSize = chooseChunkSize(h.Size)
	}
	if err := checkChunkSize(int64(h.ChunkSize)); err != nil {
		return h, err
	}
	if n := numChunks(h.Size, int64(h.ChunkSize)); n > MaxChunks {
		return h, fmt.Errorf("%d chunks is more than %d: use a larger chunk size", n, MaxChunks)
	}
	if h.ManifestLen != 0 && (h.ManifestLen < manifestFixedLen || h.ManifestLen > MaxManifestLen ||
		ManifestRegion(h.ManifestLen, int64(h.ChunkSize)) > h.Size) {
		return h, fmt.Errorf("manifest length %d does not fit the content", h.ManifestLen)
	}
	h.Name = SanitizeName(h.Name)
	h.MediaType = SanitizeMediaType(h.MediaType)
	if !h.Created.IsZero() {
		h.Created = time.Unix(h.Created.Unix(), 0).UTC()
	}
	return h, nil
}

// sealChunks encrypts and hashes every chunk with a pool of workers taking
// chunk indices in order, and returns the leaves.
func sealChunks(ctx context.Context, r io.ReaderAt, d *Descriptor, k Key, workers int) ([][32]byte, error) {
	n := d.NumChunks()
	leaves := make([][32]byte, n)
	workers = max(1, min(workers, n))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := newAEAD(k)
			hs := blake3.New()
			buf := make([]byte, int(d.ChunkSize)+Overhead)
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				off, plen := d.PlainRange(i)
				if err := readAtFull(r, buf[:plen], off); err != nil {
					cancel(fmt.Errorf("seal: read chunk %d at %d: %w", i, off, err))
					return
				}
				ct := sealChunk(a, i, buf[:0], buf[:plen])
				hs.Reset()
				_, _ = hs.Write([]byte{domainLeaf})
				_, _ = hs.Write(ct)
				hs.Sum(leaves[i][:0])
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("seal: %w", err)
		}
		return nil, err
	}
	return leaves, nil
}

// ReadChunk reads plaintext chunk i from the sealed file r, encrypts it and
// checks it against the tree (Tree.CheckChunk), so that a file changed since
// sealing is detected instead of leaking through a reused nonce. It returns
// the ciphertext chunk and its proof.
func (s *Sealed) ReadChunk(r io.ReaderAt, i int) ([]byte, Proof, error) {
	if i < 0 || i >= s.Descriptor.NumChunks() {
		return nil, Proof{}, fmt.Errorf("read chunk %d: index out of range: %w", i, ErrNoChunk)
	}
	off, n := s.Descriptor.PlainRange(i)
	buf := make([]byte, n, n+Overhead)
	if err := readAtFull(r, buf, off); err != nil {
		return nil, Proof{}, fmt.Errorf("read chunk %d: %w", i, err)
	}
	ct := sealChunk(newAEAD(s.Key), i, buf[:0], buf)
	if err := s.Tree.CheckChunk(i, ct); err != nil {
		return nil, Proof{}, fmt.Errorf("read chunk %d: file changed since sealing: %w", i, err)
	}
	p, err := s.Tree.Proof(i)
	if err != nil {
		return nil, Proof{}, fmt.Errorf("read chunk %d: %w", i, err)
	}
	return ct, p, nil
}

// readAtFull fills buf from r at off. A short read is io.ErrUnexpectedEOF;
// io.EOF with a full buffer is success, as io.ReaderAt allows.
func readAtFull(r io.ReaderAt, buf []byte, off int64) error {
	if len(buf) == 0 {
		return nil
	}
	m, err := r.ReadAt(buf, off)
	if m == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}
