package swarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hydre-p2p/hydre/swarm/wire"
)

// Timeouts and per-peer limits.
const (
	handshakeTimeout  = 60 * time.Second
	idleTimeout       = 120 * time.Second // no frame at all: the circuit is dead
	keepAliveInterval = 30 * time.Second
	writeTimeout      = 120 * time.Second
	byeTimeout        = 2 * time.Second // to send a Goodbye before closing
	maxRemoteRequests = 128             // requests a peer may have queued with us
	maxPiecesQueued   = 2               // encrypted pieces waiting for one peer's writer
	// maxCtrlQueued bounds the control frames waiting for one peer's
	// writer: a peer that sends requests and never reads the answers is
	// dropped there, where its Rejects piled up without bound. An honest
	// peer on a slow circuit gets a Have per chunk we verify while a piece
	// is being written to it: thousands, not tens of thousands.
	maxCtrlQueued = 16384
	// maxRejectsQueued bounds the Rejects among them: an honest peer has
	// at most maxRemoteRequests requests with us, so a peer owed more
	// Rejects than a few times that asks faster than it reads.
	maxRejectsQueued = 4 * maxRemoteRequests
	// squatIdle is how long an accepted connection may go without asking
	// for anything before a newcomer may take its place in a full table.
	squatIdle = 3 * time.Second
)

// errGoodbye is a peer that said Goodbye.
var errGoodbye = errors.New("peer said goodbye")

// errNotReading is a peer dropped because it does not read what it asked for.
var errNotReading = errors.New("peer does not read: its outgoing queue is full")

// peer is one connection to another node for one content. The swarm goroutine
// owns its download state; its reader goroutine feeds frames to the swarm;
// its writer goroutine sends control frames first, then queued pieces.
type peer struct {
	s      *swarm
	conn   net.Conn
	addr   string // the address we dialed, or the one it announced; "" if unknown
	dialed bool
	circ   int            // circuit index of a dialed connection
	first  *wire.Bitfield // a dialed peer's Bitfield, read in the handshake (readAdmission)
	// dialedAt is when the dial of a dialed peer began: the peer admitted
	// it after that.
	dialedAt time.Time
	serves   bool // an accepted peer that said (Hello.Serving) it serves the content
	extra    bool // an accepted peer that said (Hello.Extra) it has another connection to us

	// Owned by the swarm goroutine.
	has         bitmap
	gotBitfield bool
	wasMissing  bool              // it lacked chunks when it sent its bitfield (stopshare.go)
	outstanding map[int]time.Time // our requests to it
	cancelled   map[int]withdrawn // cancelled requests whose piece may still come
	window      int
	rate        float64 // bytes/s received, smoothed over a few seconds
	tickBytes   int64
	history     [10]rateSample // the last measures, for sustainedRate
	measures    int
	lastPiece   time.Time
	joined      time.Time
	busy        time.Duration // time it owed us chunks, in whole measures
	lent        int           // addresses an accepted peer may still add to the address book (learn)

	// rx counts the bytes read from conn, frames in part included, so that
	// a circuit bringing a chunk every few seconds has a smooth rate.
	rx atomic.Int64
	// asked is when the peer last sent a Request (unix nanoseconds; 0:
	// never): an accepted connection that asks for nothing yields its place
	// to a newcomer (squatter).
	asked atomic.Int64

	// Guarded by mu: the writer's queues.
	mu      sync.Mutex
	ctrl    []wire.Message
	pieces  []wire.Piece
	rejects int // Rejects in ctrl
	wake    chan struct{}
	done    chan struct{}
	once    sync.Once
	err     error

	// Guarded by s.up.mu: the remote's requests.
	reqs      []uint32
	piecesOut int
	uploadedB int64
}

func newPeer(s *swarm, conn net.Conn, addr string, dialed bool, circ int) *peer {
	return &peer{s: s, conn: conn, addr: addr, dialed: dialed, circ: circ,
		outstanding: map[int]time.Time{}, cancelled: map[int]withdrawn{},
		wake: make(chan struct{}, 1), done: make(chan struct{}), joined: time.Now(), lent: maxAddrsPerSource}
}

// queue returns the chunks outstanding at p in the order they were asked
// for, which is the order p answers them.
func (p *peer) queue() []int {
	q := slices.Collect(maps.Keys(p.outstanding))
	slices.SortFunc(q, func(a, b int) int { return p.outstanding[a].Compare(p.outstanding[b]) })
	return q
}

// send queues a control frame; it never blocks. A peer whose queue is full
// (it does not read) is closed.
func (p *peer) send(m wire.Message) {
	_, reject := m.(wire.Reject)
	p.mu.Lock()
	full := len(p.ctrl) >= maxCtrlQueued || (reject && p.rejects >= maxRejectsQueued)
	if !full {
		p.ctrl = append(p.ctrl, m)
		if reject {
			p.rejects++
		}
	}
	p.mu.Unlock()
	if full {
		p.close(errNotReading)
		return
	}
	p.poke()
}

func (p *peer) sendPiece(m wire.Piece) {
	p.mu.Lock()
	p.pieces = append(p.pieces, m)
	p.mu.Unlock()
	p.poke()
}

// withdrawn counts the cancelled requests for one chunk whose pieces may
// still come (they may be on their way when the Cancel arrives), and when
// the last was cancelled.
type withdrawn struct {
	n  int
	at time.Time
}

// withdraw cancels the request for chunk i, which the caller has removed
// from p.outstanding. Its piece is still accepted if it comes, once per
// cancelled request, until cancelledKeep has passed.
func (p *peer) withdraw(i int) {
	w := p.cancelled[i]
	p.cancelled[i] = withdrawn{n: w.n + 1, at: time.Now()}
	p.send(wire.Cancel{Index: uint32(i)})
}

// settle accounts for a piece or Reject of chunk i that answers a cancelled
// request; it reports false if there was none.
func (p *peer) settle(i int) bool {
	w, ok := p.cancelled[i]
	if !ok {
		return false
	}
	if w.n <= 1 {
		delete(p.cancelled, i)
	} else {
		p.cancelled[i] = withdrawn{n: w.n - 1, at: w.at}
	}
	return true
}

// dropPiece removes the piece for chunk idx from the writer's queue, if it
// is there.
func (p *peer) dropPiece(idx uint32) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.IndexFunc(p.pieces, func(m wire.Piece) bool { return m.Index == idx })
	if i < 0 {
		return false
	}
	p.pieces = slices.Delete(p.pieces, i, i+1)
	return true
}

func (p *peer) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// close ends the connection once, at once; err says why (nil: normal).
func (p *peer) close(err error) { p.closeAfter(err) }

// closeWith closes the connection after a Goodbye (closeAfter).
func (p *peer) closeWith(code wire.GoodbyeCode, reason string, err error) {
	p.closeAfter(err, wire.Goodbye{Code: code, Reason: reason})
}

// closeAfter closes the connection once; err says why (nil: normal). The
// reader stops at once, but with frames in last the connection closes only
// after they are sent, best effort, in the background: it waits for
// whatever the writer is sending (a chunk stuck behind a full circuit, up
// to byeTimeout), and sending it from the swarm goroutine held every peer
// of the content that long (822 ms for one connection closed to make room,
// on the private network).
func (p *peer) closeAfter(err error, last ...wire.Message) {
	p.once.Do(func() {
		p.mu.Lock()
		p.err = err
		if len(last) > 0 {
			// A polite close still says which chunks were gained: the last
			// Have of a download that just completed is how its seeder
			// learns that it did (stopshare.go).
			last = append(queuedHaves(p.ctrl), last...)
		}
		p.ctrl, p.pieces, p.rejects = nil, nil, 0 // nothing more is sent: free them now
		p.mu.Unlock()
		close(p.done)
		if len(last) == 0 {
			p.conn.Close()
			return
		}
		p.conn.SetReadDeadline(time.Now()) // the reader sees done and reports the peer gone
		go func() {
			p.conn.SetWriteDeadline(time.Now().Add(byeTimeout))
			var b []byte
			for _, m := range last {
				b = wire.AppendFrame(b, m)
			}
			p.conn.Write(b)
			p.conn.Close()
		}()
	})
}

// readLoop decodes frames until the connection ends, then reports the peer
// gone to the swarm.
func (p *peer) readLoop(ctx context.Context) {
	err := p.readFrames(ctx)
	p.close(err)
	select {
	case p.s.events <- peerGone{p: p, err: err}:
	case <-ctx.Done():
	}
}

func (p *peer) readFrames(ctx context.Context) error {
	chunkLen := p.s.desc.ChunkLen(0)
	r := countingReader{r: limitedReader{r: p.conn, conn: p.conn, done: p.done, ls: p.s.c.downLimits()}, n: &p.rx}
	if p.first != nil {
		select {
		case p.s.events <- peerMsg{p: p, m: *p.first}:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			return nil
		}
	}
	for {
		p.conn.SetReadDeadline(time.Now().Add(idleTimeout))
		m, err := wire.ReadFrame(r, chunkLen)
		select {
		case <-p.done: // closed by us: nothing more is taken from it
			return nil
		default:
		}
		if err != nil {
			return asProtocol(err)
		}
		switch m := m.(type) {
		case wire.KeepAlive:
		case wire.Goodbye:
			if m.Code == wire.ByeFull {
				return errPeerFull
			}
			return fmt.Errorf("%w (%s)", errGoodbye, m.Code)
		case wire.Request:
			p.asked.Store(time.Now().UnixNano())
			p.s.up.request(p, m.Index)
		case wire.Cancel:
			p.s.up.cancel(p, m.Index)
		case wire.Bitfield, wire.Have, wire.Piece, wire.Reject, wire.PEX:
			select {
			case p.s.events <- peerMsg{p: p, m: m}:
			case <-ctx.Done():
				return ctx.Err()
			case <-p.done:
				return nil
			}
		default:
			return fmt.Errorf("%w: unexpected %s after the handshake", errProtocol, m.Type())
		}
	}
}

// writeLoop sends queued frames until the peer closes.
func (p *peer) writeLoop() {
	keep := time.NewTimer(keepAliveInterval)
	defer keep.Stop()
	var buf []byte
	for {
		p.mu.Lock()
		ctrl := p.ctrl
		p.ctrl, p.rejects = nil, 0
		var piece *wire.Piece
		if len(ctrl) == 0 && len(p.pieces) > 0 {
			piece = &p.pieces[0]
			p.pieces = p.pieces[1:]
		}
		p.mu.Unlock()
		if len(ctrl) == 0 && piece == nil {
			select {
			case <-p.wake:
				continue
			case <-p.done:
				return
			case <-keep.C:
				ctrl = []wire.Message{wire.KeepAlive{}}
			}
		}
		buf = buf[:0]
		for _, m := range ctrl {
			buf = wire.AppendFrame(buf, m)
		}
		if piece != nil {
			buf = wire.AppendFrame(buf, *piece)
		}
		var err error
		if ls := p.s.c.upLimits(); piece != nil && limited(ls) {
			err = writeLimited(p.conn, buf, p.done, ls)
		} else {
			p.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			_, err = p.conn.Write(buf)
		}
		if err != nil {
			p.close(fmt.Errorf("write: %w", err))
			return
		}
		if piece != nil {
			p.s.up.sent(p, len(piece.Data))
		}
		if cap(buf) > 2*wire.MaxChunkLen/8 {
			buf = nil // do not keep a large buffer per idle peer
		}
		if !keep.Stop() {
			select {
			case <-keep.C:
			default:
			}
		}
		keep.Reset(keepAliveInterval)
	}
}

// rateSample is what a peer sent during one measure (about a second).
type rateSample struct {
	bytes int64
	d     time.Duration
}

// sample records a measure of d in which the peer sent b bytes.
func (p *peer) sample(b int64, d time.Duration) {
	p.history[p.measures%len(p.history)] = rateSample{b, d}
	p.measures++
}

// sustainedRate is the peer's throughput over its last ten measures, 0
// before the first. A Tor circuit at a fraction of a megabyte per second
// brings a chunk every few seconds, so its rate smoothed over a second or
// two swings between nothing and a chunk a second.
func (p *peer) sustainedRate() float64 {
	var b int64
	var d time.Duration
	for _, s := range p.history[:min(p.measures, len(p.history))] {
		b, d = b+s.bytes, d+s.d
	}
	if d <= 0 {
		return 0
	}
	return float64(b) / d.Seconds()
}

// countingReader counts the bytes read from r into n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}
