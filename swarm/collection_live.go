package swarm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
)

// A live collection: several files still being written (a bridge node's
// multi-file torrent) shared as one live content, one link, from the
// moment their sizes are known. Its manifest's chunks are added at once;
// the feeder adds each other chunk once the bytes of every file under it
// are final (LiveShare.ChunkFiles says which).

// LiveFile is one file of a live collection.
type LiveFile struct {
	Path string // the file on disk, at its final size (sparse until written)
	Name string // its path in the collection, "/"-separated (sanitized)
	Size int64
}

// FilePart is the part of a file on disk that a chunk of a live share
// holds.
type FilePart struct {
	Path string // the file (LiveFile.Path, or ShareLive's path)
	Off  int64  // where in the file
	N    int64
}

// ShareLiveFiles starts sharing files that may still be written as one
// live collection named name; opt's Name, MediaType and Size are not used.
// Status().Link is the link to give out now.
func (e *Engine) ShareLiveFiles(ctx context.Context, name string, files []LiveFile, opt LiveOptions) (*LiveShare, error) {
	in := make([]hcrypto.CollectionFile, len(files))
	for i, f := range files {
		fi, err := os.Stat(f.Path)
		if err != nil {
			return nil, fmt.Errorf("share live: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("share live %s: not a regular file", filepath.Base(f.Path))
		}
		in[i] = hcrypto.CollectionFile{Path: f.Name, Size: f.Size}
	}
	m, order, err := hcrypto.NewManifest(in)
	if err != nil {
		return nil, fmt.Errorf("share live %s: %w", name, err)
	}
	mb, err := m.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("share live %s: %w", name, err)
	}
	h, err := hcrypto.CollectionHeader(name, m, mb, opt.ChunkSize)
	if err != nil {
		return nil, fmt.Errorf("share live %s: %w", name, err)
	}
	h.Created = time.Now().UTC()
	l, err := hcrypto.NewLive(h)
	if err != nil {
		return nil, fmt.Errorf("share live %s: %w", name, err)
	}
	desc, err := l.Descriptor.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("share live: %w", err)
	}
	tree, err := l.Tree.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("share live: %w", err)
	}
	id := l.Descriptor.ID()
	if err := os.MkdirAll(e.collectionsDir(), 0o700); err != nil {
		return nil, fmt.Errorf("share live: %w", err)
	}
	manifest := filepath.Join(e.collectionsDir(), id.String()+".manifest")
	region := make([]byte, hcrypto.ManifestRegion(int64(len(mb)), int64(h.ChunkSize)))
	copy(region, mb)
	if err := os.WriteFile(manifest, region, 0o600); err != nil {
		return nil, fmt.Errorf("share live: write manifest: %w", err)
	}
	sources := make([]string, len(m.Files))
	found := make([]sharedFile, len(files))
	for k := range m.Files {
		abs, err := filepath.Abs(files[order[k]].Path)
		if err != nil {
			return nil, fmt.Errorf("share live: %w", err)
		}
		sources[k] = abs
		found[k] = sharedFile{abs: abs}
	}
	secret, err := hcrypto.NewSwarmSecret()
	if err != nil {
		return nil, fmt.Errorf("share live: %w", err)
	}
	rec := &record{Kind: KindShare, Live: true, Path: commonDir(found, nil), Key: l.Key[:], Descriptor: desc,
		SignSeed: l.Seed(), Reshare: true, Created: time.Now().UTC(), Secret: secret[:],
		Collection: true, Files: sources, Manifest: manifest}
	if opt.Private {
		priv, _, err := onion.GenerateClientKey()
		if err != nil {
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
		os.Remove(manifest)
		return nil, fmt.Errorf("share live: %w", err)
	}
	ls := &LiveShare{e: e, c: c, f: c.data.Load().st.f}
	for i := range int(int64(len(region)) / int64(h.ChunkSize)) { // the manifest is final now
		if err := ls.Add(i); err != nil {
			ls.Close()
			return nil, err
		}
	}
	return ls, nil
}

// ChunkFiles returns the parts of files on disk that chunk i holds, in
// order: none for a chunk of a collection's manifest.
func (l *LiveShare) ChunkFiles(i int) []FilePart {
	off, n := l.chunkRange(i)
	coll := l.c.coll.Load()
	if coll == nil || coll.m == nil {
		return []FilePart{{Path: l.c.record().Path, Off: off, N: int64(n)}}
	}
	var out []FilePart
	end := off + int64(n)
	for k, f := range coll.m.Files {
		start, stop := coll.offsets[k], coll.offsets[k]+f.Size
		if stop <= off || start >= end || f.Size == 0 {
			continue
		}
		from, to := max(start, off), min(stop, end)
		out = append(out, FilePart{Path: coll.files[k], Off: from - start, N: to - from})
	}
	return out
}
