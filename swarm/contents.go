package swarm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hydre-p2p/hydre/onion"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// Share seals the file at path (reading it once to build its Merkle tree) and
// serves it; Status.Link is the link to give out. Sharing the same file twice
// returns the same content. The file must not change while it is shared: a
// changed chunk is detected and never sent.
func (e *Engine) Share(ctx context.Context, path string, opt ShareOptions) (Status, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	f, err := os.Open(abs)
	if err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	if fi.IsDir() {
		return e.ShareFiles(ctx, []string{abs}, opt)
	}
	if !fi.Mode().IsRegular() {
		return Status{}, fmt.Errorf("share %s: not a regular file", filepath.Base(abs))
	}
	h := hcrypto.Header{Name: filepath.Base(abs), Size: fi.Size(),
		MediaType: mime.TypeByExtension(filepath.Ext(abs)), ChunkSize: opt.ChunkSize, Created: time.Now().UTC()}
	sealed, err := hcrypto.Seal(ctx, f, h)
	if err != nil {
		return Status{}, fmt.Errorf("share %s: %w", filepath.Base(abs), err)
	}
	desc, err := sealed.Descriptor.MarshalBinary()
	if err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	tree, err := sealed.Tree.MarshalBinary()
	if err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	id := sealed.Descriptor.ID()
	secret, err := hcrypto.NewSwarmSecret()
	if err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	rec := &record{Kind: KindShare, Path: abs, Key: sealed.Key[:], Descriptor: desc, Reshare: true,
		Complete: true, Created: time.Now().UTC(), Secret: secret[:], Once: opt.Once}
	if opt.StopAfter > 0 {
		rec.StopAt = time.Now().Add(opt.StopAfter).UTC()
	}
	if opt.Private {
		priv, _, err := onion.GenerateClientKey()
		if err != nil {
			return Status{}, fmt.Errorf("share: %w", err)
		}
		rec.ClientKey = priv[:]
	}
	c, err := e.add(id, rec, func() error {
		n := sealed.Descriptor.NumChunks()
		all := newBitmap(n)
		for i := range n {
			all.set(i)
		}
		return e.db.saveProgress(id, all, tree)
	})
	if err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	return c.status(), nil
}

// Get starts fetching the content of a link into destDir (cfg.DownloadDir
// when empty) and returns at once; follow it with Status or Subscribe. A
// link without a key makes this node a blind host of the ciphertext. The
// content keeps the link's swarm secret: it finds holders through the
// rendezvous slots (docs/protocol.md, Part III) beside the link's hints,
// and gives the secret on in every link of its own.
func (e *Engine) Get(ctx context.Context, link string, destDir string) (Status, error) {
	return e.getSelect(ctx, link, destDir, nil)
}

// getSelect is Get of the files (or folders) sel of a collection; nil: all.
func (e *Engine) getSelect(ctx context.Context, link string, destDir string, sel []string) (Status, error) {
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		return Status{}, fmt.Errorf("get: %w", err)
	}
	if c := e.lookup(l.ID); c != nil {
		return c.status(), nil
	}
	rec := &record{Kind: KindDownload, Reshare: e.cfg.Reshare, Created: time.Now().UTC(), Select: sel}
	if l.Secret != nil {
		rec.Secret = l.Secret[:]
	}
	for _, p := range l.Peers {
		if host, port, err := onion.ParseAddress(p); err == nil {
			rec.Peers = append(rec.Peers, fmt.Sprintf("%s:%d", host, port))
		}
	}
	if len(rec.Peers) == 0 && rec.Secret == nil {
		return Status{}, fmt.Errorf("get: %w", ErrNoPeers)
	}
	if l.Key != nil {
		rec.Key = l.Key[:]
		if destDir == "" {
			destDir = e.cfg.DownloadDir
		}
		if destDir == "" {
			return Status{}, errors.New("get: no destination folder")
		}
		if rec.DestDir, err = filepath.Abs(destDir); err != nil {
			return Status{}, fmt.Errorf("get: %w", err)
		}
		if err := os.MkdirAll(rec.DestDir, 0o700); err != nil {
			return Status{}, fmt.Errorf("get: %w", err)
		}
	} else {
		rec.Kind, rec.Reshare = KindHost, true
	}
	if l.ClientKey != nil {
		rec.ClientKey = l.ClientKey[:]
	}
	c, err := e.add(l.ID, rec, nil)
	if err != nil {
		return Status{}, fmt.Errorf("get: %w", err)
	}
	return c.status(), nil
}

// List returns the status of every content, oldest first.
func (e *Engine) List() []Status {
	e.mu.Lock()
	cs := slices.Collect(mapValues(e.contents))
	e.mu.Unlock()
	out := make([]Status, 0, len(cs))
	created := map[hcrypto.ContentID]time.Time{}
	for _, c := range cs {
		out = append(out, c.status())
		created[c.id] = c.record().Created
	}
	slices.SortFunc(out, func(a, b Status) int {
		if d := created[a.ID].Compare(created[b.ID]); d != 0 {
			return d
		}
		return cmp.Compare(a.ID.String(), b.ID.String())
	})
	return out
}

// Status returns the status of one content.
func (e *Engine) Status(id hcrypto.ContentID) (Status, error) {
	c, err := e.get(id)
	if err != nil {
		return Status{}, err
	}
	return c.status(), nil
}

// Pause stops fetching and serving a content until Resume, across restarts.
func (e *Engine) Pause(id hcrypto.ContentID) error {
	c, err := e.stopWith(id, func(r *record) { r.Paused = true })
	if err != nil {
		return err
	}
	e.bus.publish(c.status(), true)
	return nil
}

// stopWith changes the record of content id and stops its swarm; the
// caller starts it again if the new record says so.
func (e *Engine) stopWith(id hcrypto.ContentID, change func(*record)) (*content, error) {
	c, err := e.get(id)
	if err != nil {
		return nil, err
	}
	if err := c.update(change); err != nil {
		return nil, err
	}
	e.stop(c)
	return c, nil
}

// Resume restarts a paused or failed content.
func (e *Engine) Resume(id hcrypto.ContentID) error {
	c, err := e.get(id)
	if err != nil {
		return err
	}
	if err := c.update(func(r *record) { r.Paused, r.Ended = false, ""; r.StopAt = resumedTimer(r.StopAt) }); err != nil {
		return err
	}
	if loadErr := c.fig.Load().loadErr; loadErr != nil {
		if c, err = e.reload(c, loadErr); err != nil {
			return fmt.Errorf("resume %s: %w", id, err)
		}
	}
	e.start(c)
	e.bus.publish(c.status(), true)
	return nil
}

// unloaded stands for a content whose data could not be opened when the
// engine started: it fails with the reason until Resume loads it.
func unloaded(e *Engine, id hcrypto.ContentID, rec *record, err error) *content {
	c := bareContent(e, id, rec)
	c.amend(func(f *figures) { f.state, f.err, f.loadErr = StateFailed, err.Error(), err })
	if c.key != nil && rec.Descriptor != nil { // its name, for the front ends
		if d, derr := hcrypto.UnmarshalDescriptor(rec.Descriptor, id); derr == nil {
			h, _ := d.OpenHeader(*c.key)
			c.data.Store(&contentData{header: h})
		}
	}
	return c
}

// reload opens again the data of a content that failed to load (c, failed
// with loadErr) and puts the new content in its place. A download whose
// partial file is gone while its folder is there starts over: the chunks
// verified before are forgotten, and a new partial file is made.
func (e *Engine) reload(c *content, loadErr error) (*content, error) {
	rec := *c.record()
	if errors.Is(loadErr, errPartGone) && rec.Kind == KindDownload && !rec.Complete {
		if fi, err := os.Stat(filepath.Dir(rec.PartPath)); err == nil && fi.IsDir() {
			e.log.Warn("partial file gone: fetching the download again", "content", c.id)
			if err := e.db.forgetProgress(c.id); err != nil {
				return nil, fmt.Errorf("start over: %w", err)
			}
			rec.Path, rec.PartPath = "", ""
		}
	}
	nc, err := newContent(e, c.id, &rec)
	if err != nil {
		c.amend(func(f *figures) { f.loadErr, f.err = err, err.Error() })
		e.bus.publish(c.status(), true)
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.contents[c.id] != c { // closed or removed meanwhile
		if st := nc.data.Load().st; st != nil {
			st.close()
		}
		if e.closed {
			return nil, ErrClosed
		}
		return nil, ErrNotFound
	}
	e.contents[c.id] = nc
	return nc, nil
}

// SetReshare turns serving of a content on or off.
func (e *Engine) SetReshare(id hcrypto.ContentID, on bool) error {
	c, err := e.stopWith(id, func(r *record) { r.Reshare = on })
	if err != nil {
		return err
	}
	if !c.record().Paused {
		e.start(c)
	}
	e.bus.publish(c.status(), true)
	return nil
}

// Remove forgets a content. With deleteData it also deletes the downloaded
// (or partial) file or hosted ciphertext; a shared file is never deleted.
// Subscribers get a last event in StateStopped.
func (e *Engine) Remove(id hcrypto.ContentID, deleteData bool) error {
	c, err := e.get(id)
	if err != nil {
		return err
	}
	before := c.status()
	e.stop(c)
	e.mu.Lock()
	delete(e.contents, id)
	e.mu.Unlock()
	if st := c.data.Load().st; st != nil {
		st.close()
	}
	rec := *c.record()
	c.amend(func(f *figures) { f.state = StateStopped })
	c.chunks.wake() // wake blocked readers: they see StateStopped
	if err := e.db.deleteContent(id); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	if deleteData {
		if err := removeData(&rec); err != nil {
			return err
		}
	}
	removeSidecars(&rec)
	e.note(before, ResultRemoved)
	e.bus.publish(c.status(), true)
	return nil
}

// Subscribe returns a channel of events (every state change, progress at
// most a few times a second per content) and a function that ends the
// subscription. The channel closes on cancel or Close.
func (e *Engine) Subscribe() (<-chan Event, func()) { return e.bus.subscribe() }
