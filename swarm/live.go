package swarm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
)

// LiveOptions describes a file that is still being written.
type LiveOptions struct {
	// Name and MediaType go into the sealed header (sanitized); Name
	// defaults to the file's base name.
	Name      string
	MediaType string
	// Size is the file's final size in bytes.
	Size int64
	// ChunkSize as in ShareOptions.
	ChunkSize int
	// Private as in ShareOptions.
	Private bool
}

// LiveShare is the feeder of a live content (docs/protocol.md §12): a file
// shared, with its link, before its data exists. Whoever writes the file
// calls Add for each chunk whose bytes are final; the engine seals and
// signs it, serves it at once and tells the connected peers. When every
// chunk is added the content becomes an ordinary share and the signing key
// is forgotten.
type LiveShare struct {
	e *Engine
	c *content
	f storeFile // the file, or a live collection's span (collection_live.go)

	mu      sync.Mutex
	unsaved int       // chunks added since the tree was last saved
	savedAt time.Time // when it was
}

// A feeder saves the tree every liveSaveChunks chunks or liveSaveEvery,
// and at the last chunk and Close: saving it at every chunk would cost
// O(chunks²). A chunk added but not saved when the process dies is merely
// added again (Ed25519 signatures are deterministic: the same bytes get the
// same signature peers may hold already).
const (
	liveSaveChunks = 64
	liveSaveEvery  = 2 * time.Second
)

// liveChunk tells a content's swarm that the feeder added chunk i.
type liveChunk struct{ i int }

// ShareLive starts sharing the file at path, which must exist and may still
// be shorter than opt.Size. Status().Link is the link to give out now:
// downloaders fetch each chunk as soon as it is added.
func (e *Engine) ShareLive(ctx context.Context, path string, opt LiveOptions) (*LiveShare, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("share live: %w", err)
	}
	if opt.Name == "" {
		opt.Name = filepath.Base(abs)
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("share live: %w", err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("share live %s: not a regular file", filepath.Base(abs))
	}
	l, err := hcrypto.NewLive(hcrypto.Header{Name: opt.Name, MediaType: opt.MediaType, Size: opt.Size,
		ChunkSize: opt.ChunkSize, Created: time.Now().UTC()})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("share live %s: %w", filepath.Base(abs), err)
	}
	desc, err := l.Descriptor.MarshalBinary()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("share live: %w", err)
	}
	tree, err := l.Tree.MarshalBinary()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("share live: %w", err)
	}
	id := l.Descriptor.ID()
	secret, err := hcrypto.NewSwarmSecret()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("share live: %w", err)
	}
	rec := &record{Kind: KindShare, Live: true, Path: abs, Key: l.Key[:], Descriptor: desc, SignSeed: l.Seed(),
		Reshare: true, Created: time.Now().UTC(), Secret: secret[:]}
	if opt.Private {
		priv, _, err := onion.GenerateClientKey()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("share live: %w", err)
		}
		rec.ClientKey = priv[:]
	}
	c, err := e.add(id, rec, func(c *content) error {
		none := newBitmap(l.Descriptor.NumChunks())
		if err := e.db.saveProgress(id, none, tree); err != nil {
			return err
		}
		return c.openData(l.Descriptor, l.Tree, none, nil)
	})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("share live: %w", err)
	}
	return &LiveShare{e: e, c: c, f: f}, nil
}

// LiveShare returns the feeder of a live content that is still growing,
// after a restart say.
func (e *Engine) LiveShare(id hcrypto.ContentID) (*LiveShare, error) {
	c, err := e.get(id)
	if err != nil {
		return nil, err
	}
	rec := c.record()
	growing, path := rec.growing(), rec.Path
	if !growing {
		return nil, fmt.Errorf("content %s: %w", id, ErrNotLive)
	}
	if _, err := c.sealer(); err != nil {
		return nil, err
	}
	if rec.Collection {
		return &LiveShare{e: e, c: c, f: c.data.Load().st.f}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("live share: %w", err)
	}
	return &LiveShare{e: e, c: c, f: f}, nil
}

// ErrNotLive is returned for a content that is not a growing live share.
var ErrNotLive = errors.New("not a live share still growing")

// growing reports whether r is a live share whose data is still arriving.
func (r *record) growing() bool { return r.Live && !r.Complete }

// sealer returns the content's live sealer, rebuilding it from the stored
// signing key on first use.
func (c *content) sealer() (*hcrypto.Live, error) {
	if l := c.live.Load(); l != nil {
		return l, nil
	}
	c.liveMu.Lock()
	defer c.liveMu.Unlock()
	if l := c.live.Load(); l != nil {
		return l, nil
	}
	rec, d := c.record(), c.data.Load()
	if !rec.growing() || d.desc == nil || c.key == nil {
		return nil, fmt.Errorf("content %s: %w", c.id, ErrNotLive)
	}
	l, err := hcrypto.ResumeLive(d.desc, *c.key, d.tree, rec.SignSeed)
	if err != nil {
		return nil, fmt.Errorf("content %s: %w", c.id, err)
	}
	c.live.Store(l)
	return l, nil
}

// Status returns the content's status.
func (l *LiveShare) Status() Status { return l.c.status() }

// NumChunks returns the number of chunks of the content.
func (l *LiveShare) NumChunks() int { return l.c.data.Load().desc.NumChunks() }

// chunkRange returns the file bytes [off, off+n) that chunk i covers.
func (l *LiveShare) chunkRange(i int) (off int64, n int) { return l.c.data.Load().desc.PlainRange(i) }

// Has reports whether chunk i was added.
func (l *LiveShare) Has(i int) bool { return l.c.chunks.has(i) }

// Add seals, signs and serves chunk i, whose bytes in the file must be
// final. Adding a chunk twice is harmless if its bytes did not change, and
// an error wrapping hcrypto.ErrBadChunk if they did.
func (l *LiveShare) Add(i int) error {
	s, err := l.c.sealer()
	if err != nil {
		return err
	}
	if err := s.AddChunk(l.f, i); err != nil {
		return fmt.Errorf("live share: %w", err)
	}
	c := l.c
	if c.chunks.has(i) {
		return nil
	}
	c.markHave(i)
	l.mu.Lock()
	l.unsaved++
	var err2 error
	if l.unsaved >= liveSaveChunks || time.Since(l.savedAt) >= liveSaveEvery || s.Tree.Full() {
		err2 = l.save(s)
	}
	l.mu.Unlock()
	if err2 != nil {
		return err2
	}
	if r := c.run.Load(); r != nil {
		select {
		case r.s.events <- liveChunk{i}:
		case <-r.s.quit:
		}
	}
	l.e.publish(c)
	return nil
}

// save writes the tree and the added chunks, and, once every chunk is
// added, turns the content into an ordinary share; l.mu is held.
func (l *LiveShare) save(s *hcrypto.Live) error {
	c := l.c
	tb, err := s.Tree.MarshalBinary()
	if err != nil {
		return fmt.Errorf("live share: encode tree: %w", err)
	}
	bits := c.chunks.bits()
	if err := l.e.db.saveProgress(c.id, bits, tb); err != nil {
		return fmt.Errorf("live share: save progress: %w", err)
	}
	l.unsaved, l.savedAt = 0, time.Now()
	if bits.count() != s.Descriptor.NumChunks() {
		return nil
	}
	if rec := c.record(); rec.Complete && rec.SignSeed == nil {
		return nil
	}
	if err := c.update(func(r *record) { r.Complete, r.SignSeed = true, nil }); err != nil {
		return fmt.Errorf("live share: %w", err)
	}
	c.live.Store(nil)
	return nil
}

// Close saves what was added and releases the feeder's file; the content
// stays shared.
func (l *LiveShare) Close() error {
	var err error
	l.mu.Lock()
	if l.unsaved > 0 {
		if s, serr := l.c.sealer(); serr == nil {
			err = l.save(s)
		}
	}
	l.mu.Unlock()
	return errors.Join(err, l.f.Close())
}
