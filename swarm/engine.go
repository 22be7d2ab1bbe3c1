package swarm

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"

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
	dials  *dialLimiter // bounds every swarm's circuits together
	spares *spares      // onion identities published ahead of time (spare.go)

	up, down *limiter // the node's rate limits (ratelimit.go)
	hist     *history // past transfers (history.go)

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
	if err := cfg.Limits.Check(); err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	if err := cfg.Rendezvous.setDefaults(); err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	d, err := openDB(filepath.Join(cfg.DataDir, "hydre.db"))
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, db: d, bus: newBus(), contents: map[hcrypto.ContentID]*content{},
		lost: make(chan struct{}), up: newLimiter(cfg.Limits.Up), down: newLimiter(cfg.Limits.Down),
		hist: newHistory(cfg.DataDir), dials: newDialLimiter(cfg.dialWindow, cfg.maxOnions, cfg.maxDials)}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.spares = newSpares(e.ctx, cfg.Transport, d, e.log)
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
		rec = e.ensureSecret(id, rec)
		c, err := e.loadContent(id, rec)
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
	e.spares.close()
	e.wg.Wait()
	for _, c := range cs {
		if st := c.data.Load().st; st != nil {
			st.close()
		}
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
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if c.run.Load() != nil || e.ctx.Err() != nil {
		return
	}
	c.uploaded.Store(0)
	s := newSwarm(c, e.swarmConfig())
	ctx, cancel := context.WithCancel(e.ctx)
	s.cancel = cancel
	done := make(chan struct{})
	c.run.Store(&running{s: s, done: done})
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(done)
		s.run(ctx)
		if f := c.fig.Load(); f.state == StateFailed && f.err != "" {
			e.note(c.status(), "failed: "+f.err)
		}
		c.runMu.Lock()
		c.run.Store(nil)
		c.amend(func(f *figures) {
			if e.ctx.Err() != nil && f.state != StateFailed {
				f.state = StateStopped
			}
		})
		c.runMu.Unlock()
		e.publish(c)
	}()
}

// swarmConfig is what the swarms take from the engine.
func (e *Engine) swarmConfig() swarmConfig {
	return swarmConfig{log: e.log, db: e.db, transport: e.cfg.Transport, single: e.single,
		singleIdentity: e.cfg.SingleIdentity, maxPeers: e.cfg.MaxPeersPerContent,
		maxUploads: e.cfg.MaxUploadsPerContent, circuitsPerPeer: e.cfg.CircuitsPerPeer,
		replaceAge: e.cfg.replaceAge, replaceMinLeft: e.cfg.replaceMinLeft, rendezvous: e.cfg.Rendezvous,
		dials: e.dials, tune: e.cfg.tune, accept: e.acceptLoop, publish: e.publish, spares: e.spares}
}

// stop ends c's swarm and waits for it.
func (e *Engine) stop(c *content) {
	if r := c.run.Load(); r != nil {
		r.s.cancel()
		<-r.done
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

// add records, registers and starts a new content of rec; if id is known
// already it returns the existing one. open, if not nil, opens the data of
// a content whose descriptor is known already (one this node has just
// sealed) from what the caller holds in memory.
func (e *Engine) add(id hcrypto.ContentID, rec *record, open func(*content) error) (*content, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if c := e.contents[id]; c != nil {
		return c, nil
	}
	if err := e.db.putRecord(id, rec); err != nil {
		return nil, fmt.Errorf("save record: %w", err)
	}
	c := newContent(e, id, rec)
	if open != nil {
		if err := open(c); err != nil {
			e.db.deleteContent(id)
			return nil, err
		}
	}
	if rec.Reshare {
		addr, spare := e.spares.assign(id, rec)
		if !spare {
			addr = e.addressFor(id)
		}
		c.amend(func(f *figures) { f.listenAddr = addr })
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
