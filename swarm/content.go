package swarm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// content is one content the engine holds. Its fields under mu are the state
// shared with readers (Open), uploaders and status queries; the swarm that
// runs it (one at a time, between Resume and Pause) owns everything else.
type content struct {
	e  *Engine
	id hcrypto.ContentID

	mu         sync.Mutex
	rec        *record
	desc       *hcrypto.Descriptor
	key        *hcrypto.Key
	tree       *hcrypto.Tree
	st         *store
	have       bitmap
	nhave      int
	verified   int64 // plaintext bytes of the chunks in have
	verifiedCh chan struct{}
	header     hcrypto.Header
	readers    map[*file]struct{}
	readerLeft time.Time     // when the last reader closed (players reopen to seek)
	readersCh  chan struct{} // poked when a reader moves
	run        *swarm        // nil while stopped
	runDone    chan struct{}
	cancel     context.CancelFunc
	fetched    atomic.Int64  // chunks received and queued for verification
	duplicate  atomic.Int64  // bytes of pieces received for chunks already held or on their way to the store
	live       *hcrypto.Live // a growing live share's sealer (live.go)

	// fig is the latest snapshot of the figures: its swarm's while one
	// runs, the engine's when it is stopped. Never changed in place.
	fig atomic.Pointer[figures]
	// uploaded counts the bytes sent to peers since the content last
	// started; its swarm's uploader adds to it.
	uploaded atomic.Int64
}

// figures are what a content's status says of it that change as it runs.
// The swarm goroutine keeps its own and hands the content a new snapshot
// when they change (swarm.report); the engine changes them only while no
// swarm runs (content.amend).
type figures struct {
	state      State
	err        string
	peers      int
	downRate   float64
	upRate     float64
	listenAddr string // the onion address it is (or will be) served at
	reachable  bool   // its onion service is published
	waiting    string // why a download has no peer: its last dial's failure
	publishErr string // why its onion service is not published yet
	loadErr    error  // why its data could not be opened at start (Resume tries again)
}

// amend changes the figures of a content whose swarm is not running.
func (c *content) amend(change func(*figures)) {
	f := *c.fig.Load()
	change(&f)
	c.fig.Store(&f)
}

// bareContent is a content of rec with its key, before its data is opened.
func bareContent(e *Engine, id hcrypto.ContentID, rec *record) *content {
	c := &content{e: e, id: id, rec: rec, verifiedCh: make(chan struct{}), readers: map[*file]struct{}{},
		readersCh: make(chan struct{}, 1)}
	c.fig.Store(&figures{})
	if len(rec.Key) == len(hcrypto.Key{}) {
		k := hcrypto.Key(rec.Key)
		c.key = &k
	}
	return c
}

func newContent(e *Engine, id hcrypto.ContentID, rec *record) (*content, error) {
	c := bareContent(e, id, rec)
	if rec.Descriptor != nil {
		d, err := hcrypto.UnmarshalDescriptor(rec.Descriptor, id)
		if err != nil {
			return nil, fmt.Errorf("load content %s: %w", id, err)
		}
		if err := c.initData(d); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// initData opens the content's data once its descriptor is known: the tree
// and verified chunks from the database, and the file on disk.
func (c *content) initData(d *hcrypto.Descriptor) error {
	if d.NumChunks() > wire.MaxChunks || d.ChunkLen(0) > wire.MaxChunkLen {
		return fmt.Errorf("content %s: too large for this node", c.id)
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
	have := newBitmap(n)
	if c.rec.Kind == KindShare && !c.rec.growing() {
		for i := range n {
			have.set(i)
		}
	} else if bits != nil && have.validFor(n) && len(bits) == len(have) {
		copy(have, bits)
		for i := range n { // never trust a bit the tree cannot back
			if have.get(i) && !tree.Has(i) {
				have[i/8] &^= 0x80 >> (i % 8)
			}
		}
	}
	var h hcrypto.Header
	if c.key != nil {
		h, err = d.OpenHeader(*c.key)
		if err != nil {
			return fmt.Errorf("open header: %w", err)
		}
	}
	st, err := c.openStore(d, tree, h)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.desc, c.tree, c.st, c.have, c.header = d, tree, st, have, h
	c.nhave = have.count()
	c.verified = 0
	for i := range n {
		if have.get(i) {
			_, l := d.PlainRange(i)
			c.verified += int64(l)
		}
	}
	if c.rec.Kind == KindShare && !c.rec.growing() {
		c.verified = d.Size
	}
	return nil
}

// openStore opens (or creates) the file that holds the data.
func (c *content) openStore(d *hcrypto.Descriptor, tree *hcrypto.Tree, h hcrypto.Header) (*store, error) {
	st := &store{desc: d, key: c.key, tree: tree}
	c.mu.Lock()
	rec := *c.rec
	c.mu.Unlock()
	var err error
	switch {
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
			st.f, err = os.OpenFile(rec.PartPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
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
	c.mu.Lock()
	c.rec.Path, c.rec.PartPath = rec.Path, rec.PartPath
	err = c.e.db.putRecord(c.id, c.rec)
	c.mu.Unlock()
	if err != nil {
		st.f.Close()
		return nil, fmt.Errorf("save record: %w", err)
	}
	return st, nil
}

func (c *content) hasChunk(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.have != nil && c.have.get(i)
}

// piece returns chunk i, encrypted and checked, with its proof.
func (c *content) piece(i int) (wire.Piece, error) {
	c.mu.Lock()
	st, tree := c.st, c.tree
	c.mu.Unlock()
	ct, err := st.readChunk(i)
	if err != nil {
		return wire.Piece{}, err
	}
	proof, err := tree.Proof(i)
	if err != nil {
		return wire.Piece{}, fmt.Errorf("proof of chunk %d: %w", i, err)
	}
	pb, err := proof.MarshalBinary()
	if err != nil {
		return wire.Piece{}, fmt.Errorf("proof of chunk %d: %w", i, err)
	}
	return wire.Piece{Index: uint32(i), Proof: pb, Data: ct}, nil
}

// markHave records chunk i as verified and written, and wakes readers.
func (c *content) markHave(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.have.get(i) {
		return
	}
	c.have.set(i)
	c.nhave++
	_, n := c.desc.PlainRange(i)
	c.verified += int64(n)
	close(c.verifiedCh)
	c.verifiedCh = make(chan struct{})
}

func (c *content) complete() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.desc != nil && c.nhave == c.desc.NumChunks()
}

// serving reports whether the content should have an onion service.
func (c *content) serving() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.Kind != KindDownload || c.rec.Reshare
}

// link returns the full link text for this content.
func (c *content) link() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := hcrypto.Link{ID: c.id, Key: c.key}
	listenAddr := c.fig.Load().listenAddr
	if c.rec.ClientKey != nil {
		var ck [32]byte
		copy(ck[:], c.rec.ClientKey)
		l.ClientKey = &ck
	}
	if listenAddr != "" {
		l.Peers = append(l.Peers, listenAddr)
	}
	for _, a := range c.rec.Peers {
		if len(l.Peers) >= 4 {
			break
		}
		if a != listenAddr {
			l.Peers = append(l.Peers, a)
		}
	}
	return l.Encode()
}

// clientKey returns the client-authorization key of a private content.
func (c *content) clientKey() *onion.ClientPrivateKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.rec.ClientKey) != 32 {
		return nil
	}
	var k onion.ClientPrivateKey
	copy(k[:], c.rec.ClientKey)
	return &k
}

func (c *content) status() Status {
	link := c.link()
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.fig.Load()
	// Uploaded is the running swarm's counter, not a once-a-second sample:
	// a peer can fetch a whole chunk run between two samples.
	s := Status{ID: c.id, Kind: c.rec.Kind, State: f.state, Path: c.rec.Path, Verified: c.verified,
		Uploaded: c.uploaded.Load(), DownRate: f.downRate, UpRate: f.upRate, Peers: f.peers, Link: link,
		Reshare: c.rec.Reshare, Err: f.err, Growing: c.rec.growing(), Reachable: f.reachable}
	if c.rec.Kind == KindDownload && !c.rec.Complete {
		s.Path = c.rec.PartPath
	}
	if c.desc != nil {
		s.Size = c.desc.Size
	}
	if c.key != nil {
		s.Name, s.MediaType = c.header.Name, c.header.MediaType
	}
	if c.rec.Paused {
		s.State = StatePaused
	}
	switch {
	case s.State == StateStarting || s.State == StateFetching:
		s.Waiting = f.waiting
	case s.State == StateSeeding && !s.Reachable:
		s.Waiting = f.publishErr
	}
	if s.DownRate > 0 && s.Size > s.Verified && s.State == StateFetching {
		s.ETA = time.Duration(float64(s.Size-s.Verified) / s.DownRate * float64(time.Second)).Round(time.Second)
	}
	return s
}

// learnDescriptor sets the descriptor of a content fetched from a link (the
// first peer to answer provides it, checked against the content ID).
func (c *content) learnDescriptor(d *hcrypto.Descriptor) error {
	c.mu.Lock()
	known := c.desc != nil
	c.mu.Unlock()
	if known {
		return nil
	}
	c.e.initMu.Lock()
	defer c.e.initMu.Unlock()
	c.mu.Lock()
	known = c.desc != nil
	c.mu.Unlock()
	if known {
		return nil
	}
	b, err := d.MarshalBinary()
	if err != nil {
		return fmt.Errorf("descriptor: %w", err)
	}
	c.mu.Lock()
	c.rec.Descriptor = b
	c.mu.Unlock()
	if err := c.initData(d); err != nil {
		c.mu.Lock()
		c.rec.Descriptor = nil
		c.mu.Unlock()
		return fmt.Errorf("prepare download: %w", err)
	}
	c.mu.Lock()
	close(c.verifiedCh) // wake Opens waiting for the descriptor
	c.verifiedCh = make(chan struct{})
	c.mu.Unlock()
	return nil
}

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
