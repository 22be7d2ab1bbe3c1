package swarm

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
)

// Engine holds every content of a node: it loads them from the database on
// Open, runs a swarm for each that is not paused, and is the API of the
// front ends. Its methods are safe for concurrent use.
type Engine struct {
	cfg    Config
	log    *slog.Logger
	db     *db
	bus    *bus
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	initMu sync.Mutex // serializes descriptor learning (file creation)
	single onion.Listener

	lost    chan struct{} // closed when the transport went away on its own
	lostErr error         // why; set before lost closes

	mu       sync.Mutex
	contents map[hcrypto.ContentID]*content
	closed   bool
}

// endingTransport is a Transport that can go away on its own, as a tor that
// exits: Done is closed when it ends, and Err then says why (nil when it
// was closed on purpose). *onion.Tor is one.
type endingTransport interface {
	Done() <-chan struct{}
	Err() error
}

// TransportLost is closed when the engine's transport goes away on its own
// (the tor it runs over exited or was stopped): from then on nothing is
// reachable, and the front end should say so and offer to start over.
// TransportErr says why.
func (e *Engine) TransportLost() <-chan struct{} { return e.lost }

// TransportErr says why the transport went away, once TransportLost is
// closed; nil before.
func (e *Engine) TransportErr() error {
	select {
	case <-e.lost:
		return e.lostErr
	default:
		return nil
	}
}

// watchTransport closes e.lost if the transport ends on its own while the
// engine runs.
func (e *Engine) watchTransport(t endingTransport) {
	select {
	case <-t.Done():
		if err := t.Err(); err != nil {
			e.log.Error("the transport went away", "err", err)
			e.lostErr = err
			close(e.lost)
		}
	case <-e.ctx.Done():
	}
}

// Open loads the node's state from cfg.DataDir and resumes every share and
// download that is not paused.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.DataDir == "" || cfg.Transport == nil {
		return nil, errors.New("open engine: DataDir and Transport are required")
	}
	cfg.setDefaults()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	d, err := openDB(filepath.Join(cfg.DataDir, "hydre.db"))
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, db: d, bus: newBus(), contents: map[hcrypto.ContentID]*content{},
		lost: make(chan struct{})}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if t, ok := cfg.Transport.(endingTransport); ok {
		e.wg.Add(1)
		go func() { defer e.wg.Done(); e.watchTransport(t) }()
	}
	if cfg.SingleIdentity {
		key, err := d.identity(nodeIdentity)
		if err == nil {
			e.single, err = cfg.Transport.Listen(ctx, onion.ServiceConfig{Key: key})
		}
		if err != nil {
			d.close()
			return nil, fmt.Errorf("open engine: node identity: %w", err)
		}
		e.wg.Add(1)
		go func() { defer e.wg.Done(); e.acceptLoop(e.single, nil) }()
	}
	recs, err := d.records()
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("open engine: %w", err)
	}
	for id, rec := range recs {
		c, err := newContent(e, id, rec)
		if err != nil {
			e.log.Error("cannot resume content", "content", id, "err", err)
			e.contents[id] = unloaded(e, id, rec, err)
			continue
		}
		e.contents[id] = c
		if !rec.Paused {
			e.start(c)
		}
	}
	return e, nil
}

// Close stops every swarm, waits for every goroutine and closes the database.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	cs := slices.Collect(mapValues(e.contents))
	e.mu.Unlock()
	e.cancel()
	for _, c := range cs {
		e.stop(c)
	}
	if e.single != nil {
		e.single.Close()
	}
	e.wg.Wait()
	for _, c := range cs {
		c.mu.Lock()
		if c.st != nil {
			c.st.close()
		}
		c.mu.Unlock()
	}
	e.bus.close()
	return e.db.close()
}

func mapValues[K comparable, V any](m map[K]V) func(func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// start runs a swarm for c unless one runs.
func (e *Engine) start(c *content) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.run != nil || e.ctx.Err() != nil {
		return
	}
	s := newSwarm(c)
	ctx, cancel := context.WithCancel(e.ctx)
	s.cancel = cancel
	c.run = s
	done := make(chan struct{})
	c.runDone = done
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(done)
		s.run(ctx)
		c.mu.Lock()
		c.uploaded = s.up.total.Load()
		c.run = nil
		if e.ctx.Err() != nil && c.state != StateFailed {
			c.state = StateStopped
		}
		c.mu.Unlock()
		e.publish(c)
	}()
}

// stop ends c's swarm and waits for it.
func (e *Engine) stop(c *content) {
	c.mu.Lock()
	s, done := c.run, c.runDone
	c.mu.Unlock()
	if s != nil {
		s.cancel()
		<-done
	}
}

func (e *Engine) publish(c *content) {
	st := c.status()
	e.bus.publish(st, false)
}

func (e *Engine) lookup(id hcrypto.ContentID) *content {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.contents[id]
}

func (e *Engine) get(id hcrypto.ContentID) (*content, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	c := e.contents[id]
	if c == nil {
		return nil, fmt.Errorf("content %s: %w", id, ErrNotFound)
	}
	return c, nil
}

// add registers and starts a new content; if id is known already it returns
// the existing one.
func (e *Engine) add(id hcrypto.ContentID, rec *record, prepare func() error) (*content, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if c := e.contents[id]; c != nil {
		return c, nil
	}
	if prepare != nil {
		if err := prepare(); err != nil {
			return nil, err
		}
	}
	if err := e.db.putRecord(id, rec); err != nil {
		return nil, fmt.Errorf("save record: %w", err)
	}
	c, err := newContent(e, id, rec)
	if err != nil {
		e.db.deleteContent(id)
		return nil, err
	}
	if rec.Reshare {
		addr := e.addressFor(id)
		c.mu.Lock()
		c.listenAddr = addr
		c.mu.Unlock()
	}
	e.contents[id] = c
	e.start(c)
	return c, nil
}

// addressFor returns the onion address a content is (or will be) served at.
func (e *Engine) addressFor(id hcrypto.ContentID) string {
	if e.single != nil {
		return e.single.Address()
	}
	key, err := e.db.identity(id[:])
	if err != nil {
		return ""
	}
	return onion.AddressForKey(key.Public().(ed25519.PublicKey), 0)
}

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
	rec := &record{Kind: KindShare, Path: abs, Key: sealed.Key[:], Descriptor: desc, Reshare: true,
		Complete: true, Created: time.Now().UTC()}
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
// link without a key makes this node a blind host of the ciphertext.
func (e *Engine) Get(ctx context.Context, link string, destDir string) (Status, error) {
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		return Status{}, fmt.Errorf("get: %w", err)
	}
	if c := e.lookup(l.ID); c != nil {
		return c.status(), nil
	}
	if len(l.Peers) == 0 {
		return Status{}, fmt.Errorf("get: %w", ErrNoPeers)
	}
	rec := &record{Kind: KindDownload, Reshare: e.cfg.Reshare, Created: time.Now().UTC()}
	for _, p := range l.Peers {
		if host, port, err := onion.ParseAddress(p); err == nil {
			rec.Peers = append(rec.Peers, fmt.Sprintf("%s:%d", host, port))
		}
	}
	if len(rec.Peers) == 0 {
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
		if err := os.MkdirAll(rec.DestDir, 0o755); err != nil {
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
		c.mu.Lock()
		created[c.id] = c.rec.Created
		c.mu.Unlock()
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
	c, err := e.get(id)
	if err != nil {
		return err
	}
	if err := c.update(func(r *record) { r.Paused = true }); err != nil {
		return err
	}
	e.stop(c)
	e.bus.publish(c.status(), true)
	return nil
}

// Resume restarts a paused or failed content.
func (e *Engine) Resume(id hcrypto.ContentID) error {
	c, err := e.get(id)
	if err != nil {
		return err
	}
	if err := c.update(func(r *record) { r.Paused = false }); err != nil {
		return err
	}
	c.mu.Lock()
	loadErr := c.loadErr
	c.mu.Unlock()
	if loadErr != nil {
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
	c.state, c.err, c.loadErr = StateFailed, err.Error(), err
	if c.key != nil && rec.Descriptor != nil { // its name, for the front ends
		if d, derr := hcrypto.UnmarshalDescriptor(rec.Descriptor, id); derr == nil {
			c.header, _ = d.OpenHeader(*c.key)
		}
	}
	return c
}

// reload opens again the data of a content that failed to load (c, failed
// with loadErr) and puts the new content in its place. A download whose
// partial file is gone while its folder is there starts over: the chunks
// verified before are forgotten, and a new partial file is made.
func (e *Engine) reload(c *content, loadErr error) (*content, error) {
	c.mu.Lock()
	rec := *c.rec
	c.mu.Unlock()
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
		c.mu.Lock()
		c.loadErr, c.err = err, err.Error()
		c.mu.Unlock()
		e.bus.publish(c.status(), true)
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.contents[c.id] != c { // closed or removed meanwhile
		if nc.st != nil {
			nc.st.close()
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
	c, err := e.get(id)
	if err != nil {
		return err
	}
	if err := c.update(func(r *record) { r.Reshare = on }); err != nil {
		return err
	}
	e.stop(c)
	c.mu.Lock()
	paused := c.rec.Paused
	c.mu.Unlock()
	if !paused {
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
	e.stop(c)
	e.mu.Lock()
	delete(e.contents, id)
	e.mu.Unlock()
	c.mu.Lock()
	if c.st != nil {
		c.st.close()
	}
	rec := *c.rec
	c.state = StateStopped
	close(c.verifiedCh) // wake blocked readers: they see StateStopped
	c.verifiedCh = make(chan struct{})
	c.mu.Unlock()
	if err := e.db.deleteContent(id); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	if deleteData && rec.Kind != KindShare {
		for _, p := range []string{rec.PartPath, rec.Path} {
			if p != "" && (rec.Kind == KindHost || p == rec.PartPath || rec.Complete) {
				if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("remove data: %w", err)
				}
			}
		}
	}
	e.bus.publish(c.status(), true)
	return nil
}

// Subscribe returns a channel of events (every state change, progress at
// most a few times a second per content) and a function that ends the
// subscription. The channel closes on cancel or Close.
func (e *Engine) Subscribe() (<-chan Event, func()) { return e.bus.subscribe() }

// update changes c's record and saves it.
func (c *content) update(f func(*record)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c.rec)
	if err := c.e.db.putRecord(c.id, c.rec); err != nil {
		return fmt.Errorf("save record: %w", err)
	}
	return nil
}
