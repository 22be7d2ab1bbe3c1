package node

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"os"
	pathpkg "path"
	"path/filepath"
	"strings"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// The live feed into the engine: a single-file torrent is shared as a live
// content, a multi-file torrent as one live collection (one link for the
// whole torrent, its folders kept), from the moment the links are out;
// each chunk is added once every piece under it is verified.

// shareLive creates the live share of t.
func (n *Node) shareLive(ctx context.Context, t *bridge.Torrent, files []bridge.File) (cachedLink, []*swarm.LiveShare, error) {
	var live []swarm.LiveFile
	var size int64
	for _, f := range files {
		path, err := prepareFile(t, f)
		if err != nil {
			return cachedLink{}, nil, err
		}
		// A multi-file torrent's paths start with its name: the
		// collection's name, the folder a downloader saves it in.
		_, inside, ok := strings.Cut(f.Path, "/")
		if !ok {
			inside = f.Path
		}
		live = append(live, swarm.LiveFile{Path: path, Name: inside, Size: f.Length})
		size += f.Length
	}
	var ls *swarm.LiveShare
	var err error
	if t.MultiFile() {
		ls, err = n.cfg.Engine.ShareLiveFiles(ctx, t.Name(), live, swarm.LiveOptions{})
	} else {
		f := live[0]
		ls, err = n.cfg.Engine.ShareLive(ctx, f.Path, swarm.LiveOptions{Size: f.Size, Name: pathpkg.Base(files[0].Path),
			MediaType: mime.TypeByExtension(filepath.Ext(f.Path))})
	}
	if err != nil {
		return cachedLink{}, nil, fmt.Errorf("share fetched data: %w", err)
	}
	st := ls.Status()
	cl := cachedLink{Files: []cachedFile{{Link: st.Link, ID: st.ID.String(), Path: live[0].Path, Size: size}}}
	if t.MultiFile() {
		cl.Files[0].Path, cl.Collection = t.Dir(), true
	}
	return cl, []*swarm.LiveShare{ls}, nil
}

// prepareFile makes the file the client writes f into, at its full length,
// and returns its path.
func prepareFile(t *bridge.Torrent, f bridge.File) (string, error) {
	// The client writes the file at a safe name of its own (a torrent's
	// names come from strangers); the real name goes into the content's
	// header or manifest.
	path := f.DiskPath
	if rel, err := filepath.Rel(t.Dir(), path); err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("share fetched data: file path %q leaves the torrent's folder", f.Path)
	}
	// The live share needs the file now; the client writes into it in
	// place, at its full length (sparse until the pieces come: the client
	// maps files of their final size), and never truncates it. The live
	// share reads only the pieces the client verified.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("share fetched data: %w", err)
	}
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("share fetched data: %w", err)
	}
	defer fh.Close()
	if fi, err := fh.Stat(); err == nil && fi.Size() != f.Length {
		if err := fh.Truncate(f.Length); err != nil {
			return "", fmt.Errorf("share fetched data: %w", err)
		}
	}
	return path, nil
}

// reattach finds the live shares of a growing entry after a restart; a
// share complete already has no feeder.
func (n *Node) reattach(prev cachedLink, files []bridge.File) (cachedLink, []*swarm.LiveShare, error) {
	if !prev.Collection && len(prev.Files) != len(files) {
		return cachedLink{}, nil, fmt.Errorf("%d files cached, the torrent has %d", len(prev.Files), len(files))
	}
	feeders := make([]*swarm.LiveShare, len(prev.Files))
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

// feed adds each chunk of the live shares once every piece under it is
// verified, until all are added.
func (n *Node) feed(ctx context.Context, t *bridge.Torrent, files []bridge.File, feeders []*swarm.LiveShare) error {
	type chunk struct {
		ls     *swarm.LiveShare
		i      int
		pieces [][2]int // ranges of pieces under it (a collection's chunk may hold parts of files apart in the torrent)
	}
	pl := t.PieceLength()
	byPath := map[string]bridge.File{}
	for _, f := range files {
		if abs, err := filepath.Abs(f.DiskPath); err == nil {
			byPath[abs] = f
		}
	}
	var left []chunk
	for _, ls := range feeders {
		if ls == nil {
			continue
		}
		for i := range ls.NumChunks() {
			if ls.Has(i) {
				continue
			}
			c := chunk{ls: ls, i: i}
			for _, p := range ls.ChunkFiles(i) {
				if p.N == 0 {
					continue // an empty file: nothing to wait for
				}
				abs, _ := filepath.Abs(p.Path)
				f, ok := byPath[abs]
				if !ok {
					return fmt.Errorf("share fetched data: chunk %d holds a file the torrent does not have", i)
				}
				start := f.Offset + p.Off
				c.pieces = append(c.pieces, [2]int{int(start / pl), int((start + p.N - 1) / pl)})
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
			for _, r := range c.pieces {
				for p := r[0]; p <= r[1] && ready; p++ {
					ready = complete(p)
				}
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
