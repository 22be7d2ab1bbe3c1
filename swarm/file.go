package swarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// File is an open content: reads return only verified bytes, blocking until
// they arrive, and the read position steers the download (the chunks just
// ahead of every open File are fetched first).
type File interface {
	io.ReadSeekCloser
	// Name is the sanitized file name from the sealed header.
	Name() string
	// Size is the plaintext size.
	Size() int64
	// MediaType is the media type from the sealed header ("" if unknown).
	MediaType() string
}

// Readahead: a reader's window covers at least minReadahead bytes and the
// bytes the download brings in readaheadTime at its current rate.
const (
	minReadahead  = 2 << 20
	readaheadTime = 10
	maxReadahead  = 16 << 20
)

// ErrFileClosed is returned by reads on a closed File.
var ErrFileClosed = errors.New("file closed")

type file struct {
	c      *content
	ctx    context.Context
	desc   *hcrypto.Descriptor
	header hcrypto.Header
	st     *store

	mu     sync.Mutex   // serializes Read and Seek
	pos    int64        // under mu
	at     atomic.Int64 // pos, for the picker while a Read blocks
	jumped atomic.Bool  // opened or seeked since the picker last looked
	moved  atomic.Int64 // when it last opened or seeked (UnixNano), for the picker
	closed chan struct{}
	once   sync.Once
}

// Open opens a content for reading. For a download whose descriptor is not
// known yet (no peer has answered), it waits for it; ctx bounds that wait
// and every read.
func (e *Engine) Open(ctx context.Context, id hcrypto.ContentID) (File, error) {
	c, err := e.get(id)
	if err != nil {
		return nil, err
	}
	if c.key == nil {
		return nil, fmt.Errorf("open %s: %w", id, ErrNoKey)
	}
	var d *contentData
	for {
		_, changed := c.chunks.state(0) // before the data, so that no change is missed
		if d = c.data.Load(); d.desc != nil && d.st != nil {
			break
		}
		if st := c.fig.Load().state; st == StateFailed || st == StateStopped {
			return nil, fmt.Errorf("open %s: content %s", id, st)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-e.ctx.Done():
			return nil, ErrClosed
		}
	}
	f := &file{c: c, ctx: ctx, desc: d.desc, header: d.header, st: d.st, closed: make(chan struct{})}
	f.jumped.Store(true)
	f.moved.Store(time.Now().UnixNano())
	c.readers.add(f)
	return f, nil
}

func (f *file) Name() string      { return f.header.Name }
func (f *file) Size() int64       { return f.desc.Size }
func (f *file) MediaType() string { return f.header.MediaType }

// Read reads at the current position, waiting for the chunk there to be
// verified.
func (f *file) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.closed:
		return 0, ErrFileClosed
	default:
	}
	if f.pos >= f.desc.Size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	cs := int64(f.desc.ChunkSize)
	i := int(f.pos / cs)
	if err := f.wait(i); err != nil {
		return 0, err
	}
	// Read up to the end of the run of verified chunks from i.
	end := min(f.pos+int64(len(p)), f.desc.Size)
	for j := i + 1; int64(j)*cs < end; j++ {
		if !f.c.chunks.has(j) {
			end = int64(j) * cs
			break
		}
	}
	n, err := f.st.readPlain(p[:end-f.pos], f.pos)
	f.pos += int64(n)
	f.at.Store(f.pos)
	if err == io.EOF && n > 0 {
		err = nil
	}
	if err != nil {
		return n, fmt.Errorf("read %s: %w", f.c.id, err)
	}
	f.c.readers.poke()
	return n, nil
}

// wait blocks until chunk i is verified.
func (f *file) wait(i int) error {
	for {
		ok, ch := f.c.chunks.state(i)
		st := f.c.fig.Load().state
		gone := st == StateStopped || st == StateFailed
		if ok {
			return nil
		}
		if gone {
			return fmt.Errorf("read %s: content stopped", f.c.id)
		}
		f.c.readers.poke()
		select {
		case <-ch:
		case <-f.closed:
			return ErrFileClosed
		case <-f.ctx.Done():
			return f.ctx.Err()
		case <-f.c.e.ctx.Done():
			return ErrClosed
		}
	}
}

// Seek sets the position; the next read steers the download there.
func (f *file) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	abs, err := hcrypto.SeekPosition(offset, whence, f.pos, f.desc.Size)
	if err != nil {
		return 0, err
	}
	if abs != f.pos {
		f.jumped.Store(true)
		f.moved.Store(time.Now().UnixNano())
	}
	f.pos = abs
	f.at.Store(abs)
	f.c.readers.poke()
	return abs, nil
}

// Close releases the file and unblocks a pending Read.
func (f *file) Close() error {
	f.once.Do(func() {
		close(f.closed)
		f.c.readers.remove(f)
	})
	return nil
}
