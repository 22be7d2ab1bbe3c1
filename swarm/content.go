package swarm

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// content is one content the engine holds. What it shares between the
// engine, its swarm, uploaders, readers and status queries is immutable
// snapshots behind atomic pointers (its record, its data once the
// descriptor is known, its figures), its set of verified chunks (chunks.go)
// and its open Files (playback.go); the swarm that runs it (one at a time,
// between Resume and Pause) owns everything else.
type content struct {
	e   *Engine
	id  hcrypto.ContentID
	key *hcrypto.Key // nil for a blind host
	// secret is the swarm secret its links carry (Part III); nil for a
	// content known without one.
	secret *hcrypto.SwarmSecret

	// rec is the record as saved; update replaces it, one update at a time
	// (recMu). Never changed in place.
	recMu sync.Mutex
	rec   atomic.Pointer[record]
	// data is set once the descriptor is known (data.go); before, it is
	// empty, or holds only the header of a content that failed to load.
	data    atomic.Pointer[contentData]
	chunks  *chunks
	readers readers
	// fig is the latest snapshot of the figures: its swarm's while one
	// runs, the engine's when it is stopped. Never changed in place.
	fig atomic.Pointer[figures]
	// uploaded counts the bytes sent to peers since the content last
	// started; its swarm's uploader adds to it.
	uploaded atomic.Int64
	// run is the running swarm, nil while stopped; runMu serializes
	// starting and ending it.
	runMu     sync.Mutex
	run       atomic.Pointer[running]
	fetched   atomic.Int64 // chunks received and queued for verification
	duplicate atomic.Int64 // bytes of pieces received for chunks already held or on their way to the store
	// coll is a collection's layout (collection.go); nil for a file.
	coll atomic.Pointer[collection]
	// files is the last file list computed for Status, kept while
	// nothing it depends on changes (a collection may hold 100,000 files).
	files atomic.Pointer[fileListCache]
	// live is a growing live share's sealer (live.go), built once under
	// liveMu.
	liveMu sync.Mutex
	live   atomic.Pointer[hcrypto.Live]
	// up and down are its own rate limits (the record's Limits).
	up, down *limiter
}

// contentData is what a content holds once its descriptor is known.
type contentData struct {
	desc   *hcrypto.Descriptor
	tree   *hcrypto.Tree
	st     *store
	header hcrypto.Header
}

// running is a content's swarm and the channel closed when it has ended.
type running struct {
	s    *swarm
	done chan struct{}
}

// figures are what a content's status says of it that change as it runs.
// The swarm goroutine keeps its own and hands the content a new snapshot
// when they change (swarm.report); the engine changes them only while no
// swarm runs (content.amend).
type figures struct {
	state      State
	err        string
	peers      int // distinct (peercount.go)
	conns      int
	downRate   float64
	upRate     float64
	listenAddr string // the onion address it is (or will be) served at
	reachable  bool   // its onion service is published
	waiting    string // why a download has no peer: its last dial's failure
	publishErr string // why its onion service is not published yet
	loadErr    error  // why its data could not be opened at start (Resume tries again)
	sources    PeerSources
	discovery  Discovery
}

// amend changes the figures of a content whose swarm is not running.
func (c *content) amend(change func(*figures)) {
	f := *c.fig.Load()
	change(&f)
	c.fig.Store(&f)
}

// newContent is a content of rec with its key, before its data is opened
// (data.go).
func newContent(e *Engine, id hcrypto.ContentID, rec *record) *content {
	c := &content{e: e, id: id, chunks: newChunks(), up: newLimiter(rec.Limits.Up), down: newLimiter(rec.Limits.Down),
		readers: readers{files: map[*file]struct{}{}, moved: make(chan struct{}, 1)}}
	c.rec.Store(rec)
	c.data.Store(&contentData{})
	c.fig.Store(&figures{})
	if len(rec.Key) == len(hcrypto.Key{}) {
		k := hcrypto.Key(rec.Key)
		c.key = &k
	}
	c.secret = rec.swarmSecret()
	return c
}

// record returns the content's record; the caller must not change it.
func (c *content) record() *record { return c.rec.Load() }

// update changes c's record and saves it.
func (c *content) update(change func(*record)) error {
	c.recMu.Lock()
	defer c.recMu.Unlock()
	r := *c.rec.Load()
	change(&r)
	if err := c.e.db.putRecord(c.id, &r); err != nil {
		return fmt.Errorf("save record: %w", err)
	}
	c.rec.Store(&r)
	return nil
}

// piece returns chunk i, encrypted and checked, with its proof.
func (c *content) piece(i int) (wire.Piece, error) {
	d := c.data.Load()
	ct, err := d.st.readChunk(i)
	if err != nil {
		return wire.Piece{}, err
	}
	proof, err := d.tree.Proof(i)
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
	_, n := c.data.Load().desc.PlainRange(i)
	c.chunks.add(i, n)
}

// link returns the full link text for this content.
func (c *content) link() string {
	r := c.record()
	l := hcrypto.Link{ID: c.id, Key: c.key, Secret: c.secret}
	listenAddr := c.fig.Load().listenAddr
	if r.ClientKey != nil {
		var ck [32]byte
		copy(ck[:], r.ClientKey)
		l.ClientKey = &ck
	}
	if listenAddr != "" {
		l.Peers = append(l.Peers, listenAddr)
	}
	for _, a := range r.Peers {
		if len(l.Peers) >= 4 {
			break
		}
		if a != listenAddr {
			l.Peers = append(l.Peers, a)
		}
	}
	return l.Encode()
}

func (c *content) status() Status {
	r, d, f := c.record(), c.data.Load(), c.fig.Load()
	_, verified := c.chunks.counts()
	// Uploaded is the running swarm's counter, not a once-a-second sample:
	// a peer can fetch a whole chunk run between two samples.
	s := Status{ID: c.id, Kind: r.Kind, State: f.state, Path: r.Path, Verified: verified,
		Uploaded: c.uploaded.Load(), DownRate: f.downRate, UpRate: f.upRate, Peers: f.peers, Connections: f.conns, Link: c.link(),
		Reshare: r.Reshare, Err: f.err, Growing: r.growing(), Reachable: f.reachable,
		Found: f.sources, Discovery: f.discovery, Limits: r.Limits, Once: r.Once, StopAt: r.StopAt, Ended: r.Ended}
	if r.Kind == KindDownload && !r.Complete {
		s.Path = r.PartPath
	}
	if d.desc != nil {
		s.Size = d.desc.Size
	}
	if c.key != nil {
		s.Name, s.MediaType = d.header.Name, d.header.MediaType
		s.Collection, s.Files = d.header.Collection(), c.fileStatus()
	}
	if r.Paused {
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
