package node

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"os"
	pathpkg "path"
	"path/filepath"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// The live feed into the engine: each file of a torrent is shared as a
// live content from the moment its links are out, and each chunk is added
// once every piece under it is verified.

// shareLive creates a live share for each file of t.
func (n *Node) shareLive(ctx context.Context, t *bridge.Torrent, files []bridge.File) (cachedLink, []*swarm.LiveShare, error) {
	multi := t.MultiFile()
	var (
		cl      cachedLink
		feeders []*swarm.LiveShare
	)
	fail := func(err error) (cachedLink, []*swarm.LiveShare, error) {
		for _, ls := range feeders {
			ls.Close()
		}
		n.unshare(cl)
		return cachedLink{}, nil, err
	}
	for _, f := range files {
		// The client writes the file at a safe name of its own (a
		// torrent's names come from strangers); the real name goes into
		// the content's header.
		path := f.DiskPath
		if rel, err := filepath.Rel(t.Dir(), path); err != nil || !filepath.IsLocal(rel) {
			return fail(fmt.Errorf("share fetched data: file path %q leaves the torrent's folder", f.Path))
		}
		// The live share needs the file now; the client writes into it in
		// place, at its full length (sparse until the pieces come: the
		// client maps files of their final size), and never truncates it.
		// The live share reads only the pieces the client verified.
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fail(fmt.Errorf("share fetched data: %w", err))
		}
		fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return fail(fmt.Errorf("share fetched data: %w", err))
		}
		if fi, err := fh.Stat(); err == nil && fi.Size() != f.Length {
			err = fh.Truncate(f.Length)
			if err != nil {
				fh.Close()
				return fail(fmt.Errorf("share fetched data: %w", err))
			}
		}
		fh.Close()
		ls, err := n.cfg.Engine.ShareLive(ctx, path, swarm.LiveOptions{Size: f.Length, Name: pathpkg.Base(f.Path),
			MediaType: mime.TypeByExtension(filepath.Ext(path))})
		if err != nil {
			return fail(fmt.Errorf("share fetched data: %s: %w", f.Path, err))
		}
		st := ls.Status()
		feeders = append(feeders, ls)
		cf := cachedFile{Link: st.Link, ID: st.ID.String(), Path: path, Size: f.Length}
		if multi {
			cf.TorrentPath = f.Path
		}
		cl.Files = append(cl.Files, cf)
	}
	return cl, feeders, nil
}

// reattach finds the live shares of a growing entry after a restart; a
// file whose share is complete already has no feeder.
func (n *Node) reattach(prev cachedLink, files []bridge.File) (cachedLink, []*swarm.LiveShare, error) {
	if len(prev.Files) != len(files) {
		return cachedLink{}, nil, fmt.Errorf("%d files cached, the torrent has %d", len(prev.Files), len(files))
	}
	feeders := make([]*swarm.LiveShare, len(files))
	for i, f := range prev.Files {
		id, err := hcrypto.ParseContentID(f.ID)
		if err != nil {
			return cachedLink{}, nil, err
		}
		ls, err := n.cfg.Engine.LiveShare(id)
		if errors.Is(err, swarm.ErrNotLive) {
			continue
		}
		if err != nil {
			for _, ls := range feeders {
				if ls != nil {
					ls.Close()
				}
			}
			return cachedLink{}, nil, err
		}
		feeders[i] = ls
	}
	return prev, feeders, nil
}

// feed adds each chunk of the files' live shares once every piece under it
// is verified, until all are added.
func (n *Node) feed(ctx context.Context, t *bridge.Torrent, files []bridge.File, feeders []*swarm.LiveShare) error {
	type chunk struct {
		ls          *swarm.LiveShare
		i           int
		first, last int // pieces under it
	}
	pl := t.PieceLength()
	var left []chunk
	for k, ls := range feeders {
		if ls == nil {
			continue
		}
		for i := range ls.NumChunks() {
			if ls.Has(i) {
				continue
			}
			off, size := ls.ChunkRange(i)
			start := files[k].Offset + off
			c := chunk{ls: ls, i: i, first: int(start / pl), last: int((start + int64(max(size, 1)) - 1) / pl)}
			if size == 0 {
				c.first, c.last = 0, -1 // an empty file: nothing to wait for
			}
			left = append(left, c)
		}
	}
	done := make([]bool, t.NumPieces()) // pieces seen complete (they stay so)
	complete := func(p int) bool {
		if !done[p] {
			done[p] = t.PieceComplete(p)
		}
		return done[p]
	}
	verified := t.Verified(ctx)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		kept := left[:0]
		for _, c := range left {
			ready := true
			for p := c.first; p <= c.last && ready; p++ {
				ready = complete(p)
			}
			if !ready {
				kept = append(kept, c)
				continue
			}
			if err := c.ls.Add(c.i); err != nil {
				return fmt.Errorf("share fetched data: %w", err)
			}
		}
		left = kept
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case _, ok := <-verified:
			for drained := !ok; !drained; { // one scan for a burst of pieces
				select {
				case _, ok = <-verified:
					drained = !ok
				default:
					drained = true
				}
			}
			if !ok {
				// The subscription ended (the torrent or the client closed):
				// a closed channel is always ready, and reading it again
				// spun this loop at full speed until the test's deadline
				// (go test -race, TestNodeLinkBeforeLeechEnds). The ticker
				// and ctx are left.
				verified = nil
			}
		case <-tick.C: // pieces verified before the subscription
		}
	}
}

// unshare stops sharing the contents of cl; their data stays.
func (n *Node) unshare(cl cachedLink) {
	for _, f := range cl.Files {
		if id, err := hcrypto.ParseContentID(f.ID); err == nil {
			if err := n.cfg.Engine.Remove(id, false); err != nil {
				n.log.Warn("stop sharing bridge content", "err", err)
			}
		}
	}
}
