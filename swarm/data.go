package swarm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// A content's data is opened once its descriptor is known, in one of three
// ways that all end in openData: from its record when the engine loads it
// (loadContent), from a peer's first answer (learnDescriptor), or, for a
// content this node has just sealed, from the descriptor and tree in memory
// (the open step of Engine.add).

// loadContent is the content of a record from the database, its data
// opened when the record holds the descriptor.
func (e *Engine) loadContent(id hcrypto.ContentID, rec *record) (*content, error) {
	c := newContent(e, id, rec)
	if rec.Descriptor == nil {
		return c, nil
	}
	d, err := hcrypto.UnmarshalDescriptor(rec.Descriptor, id)
	if err != nil {
		return nil, fmt.Errorf("load content %s: %w", id, err)
	}
	if err := c.loadData(d, nil); err != nil {
		return nil, err
	}
	return c, nil
}

// learnDescriptor sets the descriptor of a content fetched from a link (the
// first peer to answer provides it, checked against the content ID).
func (c *content) learnDescriptor(d *hcrypto.Descriptor) error {
	if c.data.Load().desc != nil {
		return nil
	}
	c.e.initMu.Lock()
	defer c.e.initMu.Unlock()
	if c.data.Load().desc != nil {
		return nil
	}
	b, err := d.MarshalBinary()
	if err != nil {
		return fmt.Errorf("descriptor: %w", err)
	}
	if err := c.loadData(d, b); err != nil {
		if c.key != nil { // its name, for the front ends and the history
			if h, herr := d.OpenHeader(*c.key); herr == nil {
				c.data.Store(&contentData{header: h})
			}
		}
		return fmt.Errorf("prepare download: %w", err)
	}
	return nil
}

// fits checks that a content of d is within what this node handles,
// before anything is allocated for its chunks.
func (c *content) fits(d *hcrypto.Descriptor) error {
	if d.NumChunks() > wire.MaxChunks || d.ChunkLen(0) > wire.MaxChunkLen {
		return fmt.Errorf("content %s: too large for this node", c.id)
	}
	return nil
}

// loadData opens the content's data with the tree and the verified chunks
// the database holds. desc, if not nil, is the descriptor to record with
// the file's paths.
func (c *content) loadData(d *hcrypto.Descriptor, desc []byte) error {
	if err := c.fits(d); err != nil {
		return err
	}
	bits, treeBytes, err := c.e.db.loadProgress(c.id)
	if err != nil {
		return fmt.Errorf("load progress: %w", err)
	}
	n := d.NumChunks()
	tree := hcrypto.NewPartialTree(d)
	if treeBytes != nil {
		if t, err := hcrypto.UnmarshalTree(d, treeBytes); err == nil {
			tree = t
		} else {
			c.e.log.Warn("stored tree unusable, fetching again", "content", c.id, "err", err)
			bits = nil
		}
	}
	rec := c.record()
	have := newBitmap(n)
	if rec.Kind == KindShare && !rec.growing() {
		have = allChunks(n)
	} else if bits != nil && have.validFor(n) && len(bits) == len(have) {
		copy(have, bits)
		for i := range n { // never trust a bit the tree cannot back
			if have.get(i) && !tree.Has(i) {
				have[i/8] &^= 0x80 >> (i % 8)
			}
		}
	}
	return c.openData(d, tree, have, desc)
}

// allChunks is a bitmap of n chunks, every one set.
func allChunks(n int) bitmap {
	all := newBitmap(n)
	for i := range n {
		all.set(i)
	}
	return all
}

// openData opens the content's data of descriptor d, tree tree and the
// chunks have verified: its header, and the file on disk. desc, if not
// nil, is the descriptor to record with the file's paths.
func (c *content) openData(d *hcrypto.Descriptor, tree *hcrypto.Tree, have bitmap, desc []byte) error {
	if err := c.fits(d); err != nil {
		return err
	}
	var h hcrypto.Header
	if c.key != nil {
		var err error
		if h, err = d.OpenHeader(*c.key); err != nil {
			return fmt.Errorf("open header: %w", err)
		}
	}
	st, err := c.openStore(d, tree, h, desc)
	if err != nil {
		return err
	}
	var verified int64
	if rec := c.record(); rec.Kind == KindShare && !rec.growing() {
		verified = d.Size
	} else {
		for i := range d.NumChunks() {
			if have.get(i) {
				_, l := d.PlainRange(i)
				verified += int64(l)
			}
		}
	}
	c.data.Store(&contentData{desc: d, tree: tree, st: st, header: h})
	c.chunks.reset(have, verified) // wakes the Opens waiting for the data
	return nil
}

// openStore opens (or creates) the file that holds the data, and records
// its paths (and desc, if not nil).
func (c *content) openStore(d *hcrypto.Descriptor, tree *hcrypto.Tree, h hcrypto.Header, desc []byte) (*store, error) {
	st := &store{desc: d, key: c.key, tree: tree}
	rec := *c.record()
	var err error
	switch {
	case h.Collection():
		st.f, err = c.openCollection(d, h, &rec)
		st.write = rec.Kind != KindShare
	case rec.Kind == KindShare:
		st.f, err = os.Open(rec.Path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("the shared file was deleted or moved: put it back and resume, or stop sharing it (%s)", rec.Path)
		}
	case rec.Complete:
		st.f, err = os.OpenFile(rec.Path, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("the downloaded file was deleted or moved, so this node no longer shares it: put it back and resume, or remove it here (%s)", rec.Path)
		}
		if rec.Kind == KindDownload && rec.PartPath != "" && samePath(rec.PartPath, rec.Path) {
			os.Remove(rec.PartPath) // left by a crash as the download finished (finishFile)
		}
		st.write = true
	case rec.Kind == KindHost:
		if rec.Path == "" {
			rec.Path = filepath.Join(c.e.cfg.DataDir, "hosted", c.id.String()+".ct")
		}
		if err := os.MkdirAll(filepath.Dir(rec.Path), 0o700); err != nil {
			return nil, fmt.Errorf("create host dir: %w", err)
		}
		st.f, err = os.OpenFile(rec.Path, os.O_RDWR|os.O_CREATE, 0o600)
		st.write = true
	default:
		if rec.PartPath == "" {
			if rec.Path, rec.PartPath, err = choosePaths(rec.DestDir, h); err != nil {
				return nil, err
			}
			st.f, err = os.OpenFile(rec.PartPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		} else {
			st.f, err = os.OpenFile(rec.PartPath, os.O_RDWR, 0)
			if errors.Is(err, fs.ErrNotExist) {
				return nil, partGone(rec.PartPath)
			}
		}
		st.write = true
	}
	if err != nil {
		return nil, fmt.Errorf("open data of %s: %w", c.id, err)
	}
	err = c.update(func(r *record) {
		r.Path, r.PartPath = rec.Path, rec.PartPath
		if desc != nil {
			r.Descriptor = desc
		}
	})
	if err != nil {
		st.f.Close()
		return nil, err
	}
	return st, nil
}
