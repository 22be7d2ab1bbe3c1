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
	return e.admit(&record{Path: abs}, sealed, opt)
}

// admit adds a content this node has just sealed from its own files and
// serves it. rec says where the data is (Path, and a collection's Files
// and Manifest); admit makes it a complete share of sealed under opt (a
// new swarm secret, a client key when private, when to stop) and records
// every chunk as held, with the tree.
func (e *Engine) admit(rec *record, sealed *hcrypto.Sealed, opt ShareOptions) (Status, error) {
	desc, err := sealed.Descriptor.MarshalBinary()
	if err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	tree, err := sealed.Tree.MarshalBinary()
	if err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	secret, err := hcrypto.NewSwarmSecret()
	if err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	rec.Kind, rec.Key, rec.Descriptor, rec.Secret = KindShare, sealed.Key[:], desc, secret[:]
	rec.Reshare, rec.Complete, rec.Created, rec.Once = true, true, time.Now().UTC(), opt.Once
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
	id := sealed.Descriptor.ID()
	c, err := e.add(id, rec, func(c *content) error {
		all := allChunks(sealed.Descriptor.NumChunks())
		if err := e.db.saveProgress(id, all, tree); err != nil {
			return err
		}
		return c.openData(sealed.Descriptor, sealed.Tree, all, nil)
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
// and gives the secret on in every link of its own. A link known already
// returns its content as it stands (Fetch starts it again).
func (e *Engine) Get(ctx context.Context, link string, destDir string) (Status, error) {
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		return Status{}, fmt.Errorf("get: %w", err)
	}
	if c := e.lookup(l.ID); c != nil {
		return c.status(), nil
	}
	return e.fetchNew(l, destDir, nil)
}

// Fetch is what a user means by getting a link: Get of the files
// opt.Files of it, or, for a link known already, its download where it was
// saved, started again if it was paused or failed (a full disk, a partial
// file deleted). A known collection that does not fetch every file asked
// for is returned as it stands (Status.Fetches says so).
func (e *Engine) Fetch(ctx context.Context, link, destDir string, opt FetchOptions) (Status, error) {
	sel, err := cleanSelection(opt.Files)
	if err != nil {
		return Status{}, fmt.Errorf("get: %w", err)
	}
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		return Status{}, fmt.Errorf("get: %w", err)
	}
	c := e.lookup(l.ID)
	if c == nil {
		return e.fetchNew(l, destDir, sel)
	}
	st := c.status()
	// Known from an earlier get that saved nothing yet (a file's name
	// comes with its first peer): it starts again in the folder asked for
	// now, with the files and hints asked for now.
	move := opt.Here && st.Kind == KindDownload && st.Path == "" && st.Verified == 0 && l.Key != nil
	if !move && (!st.Fetches(sel) || st.State != StatePaused && st.State != StateFailed) {
		return st, nil
	}
	var change func(*record)
	if move {
		rec, err := e.downloadRecord(l, destDir, sel)
		if err != nil {
			return Status{}, err
		}
		change = func(r *record) {
			r.DestDir, r.Select, r.Peers, r.Reshare = rec.DestDir, rec.Select, rec.Peers, rec.Reshare
		}
		e.stop(c)
	}
	if c, err = e.resume(c, change); err != nil {
		return Status{}, fmt.Errorf("get: %w", err)
	}
	return c.status(), nil
}

// fetchNew adds the download of l, a link new to this node, of the files
// (or folders) sel of a collection; nil: all.
func (e *Engine) fetchNew(l hcrypto.Link, destDir string, sel []string) (Status, error) {
	rec, err := e.downloadRecord(l, destDir, sel)
	if err != nil {
		return Status{}, err
	}
	c, err := e.add(l.ID, rec, nil)
	if err != nil {
		return Status{}, fmt.Errorf("get: %w", err)
	}
	return c.status(), nil
}

// downloadRecord is the record of a download of l into destDir
// (cfg.DownloadDir when empty, made if missing), or of a blind host when
// l carries no key.
func (e *Engine) downloadRecord(l hcrypto.Link, destDir string, sel []string) (*record, error) {
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
		return nil, fmt.Errorf("get: %w", ErrNoPeers)
	}
	if l.ClientKey != nil {
		rec.ClientKey = l.ClientKey[:]
	}
	if l.Key == nil {
		rec.Kind, rec.Reshare = KindHost, true
		return rec, nil
	}
	rec.Key = l.Key[:]
	if destDir == "" {
		destDir = e.cfg.DownloadDir
	}
	if destDir == "" {
		return nil, errors.New("get: no destination folder")
	}
	var err error
	if rec.DestDir, err = filepath.Abs(destDir); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	if err := os.MkdirAll(rec.DestDir, 0o700); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	return rec, nil
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
	_, err = e.resume(c, nil)
	return err
}

// resume starts c again, unpaused, after change (nil: none) to its record.
// A content whose data could not be opened is loaded anew (reload): the
// content returned is the one that runs.
func (e *Engine) resume(c *content, change func(*record)) (*content, error) {
	err := c.update(func(r *record) {
		r.Paused, r.Ended = false, ""
		r.StopAt = resumedTimer(r.StopAt)
		if change != nil {
			change(r)
		}
	})
	if err != nil {
		return nil, err
	}
	if loadErr := c.fig.Load().loadErr; loadErr != nil {
		nc, err := e.reload(c, loadErr)
		if err != nil {
			return nil, fmt.Errorf("resume %s: %w", c.id, err)
		}
		c = nc
	}
	e.start(c)
	e.bus.publish(c.status(), true)
	return c, nil
}

// unloaded stands for a content whose data could not be opened when the
// engine started: it fails with the reason until Resume loads it.
func unloaded(e *Engine, id hcrypto.ContentID, rec *record, err error) *content {
	c := newContent(e, id, rec)
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
	nc, err := e.loadContent(c.id, &rec)
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
	if l := e.spares.take(id); l != nil { // handed to it, never taken by a swarm
		l.Close()
	}
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
