package crypto

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ChunkSource supplies ciphertext chunks with their proofs: a local store,
// a seeder's plaintext file (SealedSource) or peers on the network.
type ChunkSource interface {
	// Chunk returns ciphertext chunk i and its proof. It may block until
	// the chunk is available or ctx is done.
	Chunk(ctx context.Context, i int) (ct []byte, p Proof, err error)
}

// SealedSource serves the chunks of a sealed file from its plaintext,
// encrypting them on the fly (see Sealed.ReadChunk).
type SealedSource struct {
	Sealed *Sealed
	File   io.ReaderAt
}

// Chunk implements ChunkSource.
func (s SealedSource) Chunk(ctx context.Context, i int) ([]byte, Proof, error) {
	if err := ctx.Err(); err != nil {
		return nil, Proof{}, fmt.Errorf("chunk %d: %w", i, err)
	}
	return s.Sealed.ReadChunk(s.File, i)
}

// Reader reads the plaintext of a sealed content at any offset. It fetches
// only the chunks that cover the bytes asked for, verifies each against the
// content ID before decrypting it, and never returns unverified bytes. It
// implements io.ReadSeeker and io.ReaderAt (for example for
// http.ServeContent) and is safe for concurrent use; calls are serialized,
// each holding the reader while it fetches the chunks it needs.
type Reader struct {
	ctx  context.Context
	d    *Descriptor
	aead cipher.AEAD
	tree *Tree
	src  ChunkSource

	mu    sync.Mutex
	off   int64
	cur   int    // index of the chunk in plain, -1 if none
	plain []byte // decrypted chunk cur
}

// NewReader returns a reader of d's plaintext under key k, drawing chunks
// from src. ctx bounds every call to src: a reader cannot outlive it.
func NewReader(ctx context.Context, d *Descriptor, k Key, src ChunkSource) *Reader {
	return &Reader{ctx: ctx, d: d, aead: newAEAD(k), tree: NewPartialTree(d), src: src, cur: -1}
}

// Size returns the plaintext size.
func (r *Reader) Size() int64 { return r.d.Size }

// Read reads from the current offset.
func (r *Reader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.readAt(p, r.off)
	r.off += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}

// Seek sets the offset of the next Read (io.Seeker).
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	offset, err := SeekPosition(offset, whence, r.off, r.d.Size)
	if err != nil {
		return 0, err
	}
	r.off = offset
	return offset, nil
}

// ReadAt reads len(p) bytes at off (io.ReaderAt); it does not move the
// offset of Read.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readAt(p, off)
}

func (r *Reader) readAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at %d: negative offset", off)
	}
	total := 0
	for len(p) > 0 {
		if off >= r.d.Size {
			return total, io.EOF
		}
		i := int(off / int64(r.d.ChunkSize))
		if err := r.load(i); err != nil {
			return total, err
		}
		start, _ := r.d.PlainRange(i)
		n := copy(p, r.plain[off-start:])
		p, off, total = p[n:], off+int64(n), total+n
	}
	return total, nil
}

// load fetches, verifies and decrypts chunk i into r.plain.
func (r *Reader) load(i int) error {
	if r.cur == i {
		return nil
	}
	ct, proof, err := r.src.Chunk(r.ctx, i)
	if err != nil {
		return fmt.Errorf("read chunk %d: %w", i, err)
	}
	if err := r.tree.Verify(i, ct, proof); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	r.cur = -1
	r.plain, err = openChunk(r.aead, i, r.plain[:0], ct)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	r.cur = i
	return nil
}
