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
	state      State
	err        string
	peers      int
	downRate   float64
	upRate     float64
	uploaded   int64
	readers    map[*file]struct{}
	readerLeft time.Time     // when the last reader closed (players reopen to seek)
	readersCh  chan struct{} // poked when a reader moves
	listenAddr string
	reachable  bool   // its onion service is published
	waiting    string // why a download has no peer: its last dial's failure
	publishErr string // why its onion service is not published yet
	loadErr    error  // why its data could not be opened at start (Resume tries again)
	run        *swarm // nil while stopped
	runDone    chan struct{}
	cancel     context.CancelFunc
	fetched    atomic.Int64  // chunks received and queued for verification
	duplicate  atomic.Int64  // bytes of pieces received for chunks already held or on their way to the store
	live       *hcrypto.Live // a growing live share's sealer (live.go)
}

// bareContent is a content of rec with its key, before its data is opened.
func bareContent(e *Engine, id hcrypto.ContentID, rec *record) *content {
	c := &content{e: e, id: id, rec: rec, verifiedCh: make(chan struct{}), readers: map[*file]struct{}{},
		readersCh: make(chan struct{}, 1)}
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

// errPartGone says that a download's partial file is no longer on disk.
var errPartGone = errors.New("partial file gone")

// partGone explains a missing partial file: deleted or moved (Resume starts
// over), or in a folder that is missing too, as on a drive that is not
// connected (Resume tries again, and must not create the folder).
func partGone(part string) error {
	dir := filepath.Dir(part)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%w: the download folder is missing (on a drive that is not connected?): connect it, then resume the download (%s)",
			errPartGone, dir)
	}
	return fmt.Errorf("%w: it was deleted or moved: resuming the download fetches it again from the start (%s)", errPartGone, part)
}

// choosePaths picks the output and temporary names of a download in its
// destination folder from the sealed header's name, which a peer controls:
// it is sanitized and the result is checked to stay inside the folder.
func choosePaths(destDir string, h hcrypto.Header) (final, part string, err error) {
	dest, err := filepath.Abs(destDir)
	if err != nil {
		return "", "", fmt.Errorf("destination: %w", err)
	}
	base := safeName(h.Name)
	ext := filepath.Ext(base)
	stem := base[:len(base)-len(ext)]
	for n := 1; n < 1000; n++ {
		name := base
		if n > 1 {
			name = fmt.Sprintf("%s (%d)%s", stem, n, ext)
		}
		final, part := filepath.Join(dest, name), filepath.Join(dest, "."+name+".hydre-part")
		if !inside(dest, final) || !inside(dest, part) {
			return "", "", fmt.Errorf("file name from the link escapes the destination folder")
		}
		if exists(final) || exists(part) {
			continue
		}
		return final, part, nil
	}
	return "", "", fmt.Errorf("no free file name for %q in %s", base, dest)
}

// safeName returns a file name that is one local path element.
func safeName(name string) string {
	name = hcrypto.SanitizeName(name)
	if name == "" || name == "." || name == ".." || !filepath.IsLocal(name) || filepath.Base(name) != name {
		return "download"
	}
	return name
}

func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && filepath.IsLocal(rel) && filepath.Dir(path) == dir
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, os.ErrNotExist)
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
	if c.rec.ClientKey != nil {
		var ck [32]byte
		copy(ck[:], c.rec.ClientKey)
		l.ClientKey = &ck
	}
	if c.listenAddr != "" {
		l.Peers = append(l.Peers, c.listenAddr)
	}
	for _, a := range c.rec.Peers {
		if len(l.Peers) >= 4 {
			break
		}
		if a != c.listenAddr {
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
	s := Status{ID: c.id, Kind: c.rec.Kind, State: c.state, Path: c.rec.Path, Verified: c.verified,
		Uploaded: c.uploaded, DownRate: c.downRate, UpRate: c.upRate, Peers: c.peers, Link: link,
		Reshare: c.rec.Reshare, Err: c.err, Growing: c.rec.growing(), Reachable: c.reachable}
	if c.run != nil {
		// The running swarm's counter, not the once-a-second sample: a peer
		// can fetch a whole chunk run between two samples.
		s.Uploaded = c.run.up.total.Load()
	}
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
		s.Waiting = c.waiting
	case s.State == StateSeeding && !s.Reachable:
		s.Waiting = c.publishErr
	}
	if s.DownRate > 0 && s.Size > s.Verified && s.State == StateFetching {
		s.ETA = time.Duration(float64(s.Size-s.Verified) / s.DownRate * float64(time.Second)).Round(time.Second)
	}
	return s
}

func (c *content) setState(st State, err error) {
	c.mu.Lock()
	c.state = st
	c.err = ""
	if err != nil {
		c.err = err.Error()
	}
	c.mu.Unlock()
	c.e.publish(c)
}
