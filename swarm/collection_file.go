package swarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// ErrNoSuchFile is returned by OpenFile for a path that is not a file of
// the collection.
var ErrNoSuchFile = errors.New("no such file in the collection")

// OpenFile opens one file of a collection for reading, as Open does a whole
// content: reads return verified bytes of that file only, and its read
// position steers the download. It waits for the collection's manifest;
// ctx bounds that wait and every read. The file must be one this node
// fetches (Status.Files[...].Fetch) or its reads wait forever.
func (e *Engine) OpenFile(ctx context.Context, id hcrypto.ContentID, p string) (File, error) {
	c, err := e.get(id)
	if err != nil {
		return nil, err
	}
	f, err := e.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	// A download that fails (its manifest refused, a file not in it) wakes
	// no chunk waiter: its state is looked at every stateEvery as well.
	tick := time.NewTicker(stateEvery)
	defer tick.Stop()
	for {
		_, changed := c.chunks.state(0) // before the layout, so that no change is missed
		coll := c.coll.Load()
		if coll == nil {
			f.Close()
			return nil, fmt.Errorf("open %s: not a collection", id)
		}
		if coll.m != nil {
			k := coll.m.Find(strings.Trim(p, "/"))
			if k < 0 {
				f.Close()
				return nil, fmt.Errorf("open %s: %w", id, ErrNoSuchFile)
			}
			cf := &collFile{File: f, base: coll.offsets[k], size: coll.m.Files[k].Size, name: path.Base(coll.m.Files[k].Path)}
			if _, err := f.Seek(cf.base, io.SeekStart); err != nil {
				f.Close()
				return nil, err
			}
			return cf, nil
		}
		if st := c.fig.Load().state; st == StateFailed || st == StateStopped {
			f.Close()
			return nil, fmt.Errorf("open %s: content %s", id, st)
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-e.ctx.Done():
			f.Close()
			return nil, ErrClosed
		}
	}
}

// stateEvery is how often OpenFile looks whether the download failed.
const stateEvery = 200 * time.Millisecond

// collFile is one file of a collection: a window [base, base+size) of the
// content's File.
type collFile struct {
	File
	base, size int64
	name       string
	mu         sync.Mutex
	pos        int64
}

func (f *collFile) Name() string      { return f.name }
func (f *collFile) Size() int64       { return f.size }
func (f *collFile) MediaType() string { return mime.TypeByExtension(filepath.Ext(f.name)) }

func (f *collFile) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pos >= f.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), f.size-f.pos)]
	n, err := f.File.Read(p)
	f.pos += int64(n)
	return n, err
}

func (f *collFile) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	abs := offset
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		abs += f.pos
	case io.SeekEnd:
		abs += f.size
	default:
		return 0, errors.New("seek: bad whence")
	}
	if abs < 0 {
		return 0, errors.New("seek: negative position")
	}
	if _, err := f.File.Seek(f.base+abs, io.SeekStart); err != nil {
		return 0, err
	}
	f.pos = abs
	return abs, nil
}

// removeCollectionData deletes a removed collection download's files (those
// it created, by the record), then the folders left empty; what else is in
// its folder stays.
func removeCollectionData(r *record) error {
	root := r.Path
	if !r.Complete {
		root = r.PartPath
	}
	if root == "" {
		return nil
	}
	var dirs []string
	for _, rel := range r.Files {
		if rel == "" || !filepath.IsLocal(rel) {
			continue
		}
		if err := os.Remove(filepath.Join(root, rel)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove data: %w", err)
		}
		for d := filepath.Dir(rel); d != "."; d = filepath.Dir(d) {
			dirs = append(dirs, d)
		}
	}
	slices.SortFunc(dirs, func(a, b string) int { return len(b) - len(a) }) // deepest first
	for _, d := range slices.Compact(dirs) {
		os.Remove(filepath.Join(root, d)) // fails, as it should, on a folder with something else in it
	}
	os.Remove(root)
	return nil
}

// removeSidecars deletes a forgotten collection's manifest copy and rest
// file from the data folder.
func removeSidecars(r *record) {
	if r.Manifest != "" {
		os.Remove(r.Manifest)
		os.Remove(restPath(r.Manifest))
	}
}
