package swarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// Download tuning.
const (
	listenRetry      = 10 * time.Second // after a failure to publish the onion service
	windowLatency    = 3 * time.Second  // a circuit's window covers its rate over this (window.go)
	requestTimeout   = 45 * time.Second
	cancelledKeep    = 3 * time.Minute  // a withdrawn request's piece is still accepted for this long
	stallTimeout     = 90 * time.Second // outstanding requests and no piece: drop the peer
	maxKnownAddrs    = 256
	maxSavedPeers    = 64
	tickInterval     = 250 * time.Millisecond
	dialBackoffFirst = time.Second
	dialBackoffMax   = 2 * time.Minute
	// fullBackoffMax bounds the wait before asking a node that said it was
	// full for room again: one circuit, once in a while, so that a
	// downloader kept to one circuit by a crowd takes the others back soon
	// after the crowd leaves.
	fullBackoffMax = 16 * time.Second
	pexInterval    = time.Second
)

// While a content plays, a circuit's requests cover playLatency of its
// rate plus one: what a circuit carries when the player seeks is ahead of
// the new place, inside tor, where cancels cannot reach it (seeks took 6-11
// times the first frame with windowLatency and a slack of 4). A content
// plays while a reader has it open and for playHold after.
const (
	playLatency = time.Second
	playHold    = 2 * time.Minute
)

// Events from peers and helpers to the swarm goroutine.
type (
	peerMsg struct {
		p *peer
		m wire.Message
	}
	peerGone struct {
		p   *peer
		err error
	}
	peerJoined struct{ p *peer }
	dialFailed struct {
		addr string
		circ int
		err  error
		ban  bool
		full bool      // it answered, but had no room (Goodbye 3)
		pex  []string  // the other sources it named when it refused
		at   time.Time // when the dial started
	}
	listening struct {
		l   onion.Listener
		err error
	}
)

// addrState is what a swarm knows of one address.
type addrState struct {
	conns   map[int]bool // circuit index -> connected or dialing
	fails   int          // dial failures since the last handshake, a burst counting once
	failAt  time.Time    // when the last counted failure came
	retryAt time.Time
	banned  bool
	good    bool         // a handshake succeeded, or a peer announced it as its own
	hint    bool         // the link names it
	full    int          // refusals for a full connection table since a circuit admitted after them brought a chunk
	fullAt  time.Time    // the last of those refusals
	retired map[int]bool // circuit indexes of replaced circuits: never dialed again
	lead    int          // the circuit dialed without Hello.Extra; -1: none
}

// open takes circuit circ and says whether it is an extra one (Hello.Extra):
// the first circuit to an address leads, and the next one leads only once
// no other does.
func (st *addrState) open(circ int) (extra bool) {
	st.conns[circ] = true
	if st.lead < 0 {
		st.lead = circ
		return false
	}
	return true
}

// waitingReason says, for Status.Waiting, why the dial of ev found no peer.
func waitingReason(ev dialFailed) string {
	if ev.full {
		return "every peer is full for now; asking again"
	}
	msg := ev.err.Error()
	for _, p := range []string{"dial: ", "dial onion: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return "no peer reachable yet: " + msg
}

// failed counts a dial, started at start, that failed at now, and puts off
// the next dial. Dials started together fail together when the service is
// not reachable yet (its descriptor is not published): only the first of
// them counts, so that four circuits failing at once wait 1 s, not 8.
func (st *addrState) failed(start, now time.Time) {
	if st.fails > 0 && start.Before(st.failAt) {
		return // dialed before the last counted failure came
	}
	st.fails++
	st.failAt = now
	st.retryAt = now.Add(backoff(st.fails, dialBackoffMax))
}

// shut frees circuit circ, whether it failed to join or left.
func (st *addrState) shut(circ int) {
	delete(st.conns, circ)
	if st.lead == circ {
		st.lead = -1
	}
}

// swarm runs one content between Resume and Pause: it owns the peer table,
// the picker and the dialing, and is the only goroutine that changes them.
type swarm struct {
	c       *content
	e       *Engine
	log     *slog.Logger
	desc    *hcrypto.Descriptor // nil until learned
	win     windowTuning        // set with pk
	events  chan any
	up      *uploader
	wg      sync.WaitGroup
	cancel  context.CancelFunc
	quit    chan struct{} // closed when the swarm stops
	origin  bool          // the content is this node's share: it never fetches (a live one gains chunks from its feeder)
	session string        // random, in isolation tags

	peers    map[*peer]bool
	addrs    map[string]*addrState
	own      map[string]bool // our own addresses: never dialed
	pk       *picker
	storeQ   []storeJob
	storeIn  chan storeJob
	storeOut chan storeResult
	listener onion.Listener
	listenAt time.Time
	pexDirty time.Time // a new address to pass on since then; zero: none
	finished bool
	failure  error
	inbound  int
	// replacing is the dial of a circuit that replaces a slow one; nil: none.
	replacing *replacement
}

// newSwarm prepares a swarm for c; the caller holds c.mu.
func newSwarm(c *content) *swarm {
	s := &swarm{c: c, e: c.e, log: c.e.log.With("content", c.id), events: make(chan any, 16),
		quit: make(chan struct{}), peers: map[*peer]bool{}, addrs: map[string]*addrState{},
		own: map[string]bool{}, storeIn: make(chan storeJob), storeOut: make(chan storeResult, 8)}
	s.up = newUploader(s)
	s.session = strconv.FormatUint(rand.Uint64(), 36)
	s.desc = c.desc
	s.origin = c.rec.Kind == KindShare
	for _, a := range c.rec.Peers {
		s.learn(a)
		if st := s.addrs[a]; st != nil {
			st.hint = true
		}
	}
	return s
}

// fatal stops the swarm with an error (from any goroutine).
func (s *swarm) fatal(err error) {
	select {
	case s.events <- fatalErr{err}:
	case <-s.quit:
	}
}

type fatalErr struct{ err error }

func (s *swarm) learn(addr string) {
	if _, ok := s.addrs[addr]; ok || len(s.addrs) >= maxKnownAddrs || s.own[addr] {
		return
	}
	if _, _, err := onion.ParseAddress(addr); err != nil {
		return
	}
	s.addrs[addr] = &addrState{conns: map[int]bool{}, retired: map[int]bool{}, lead: -1}
}

// run is the swarm goroutine.
func (s *swarm) run(ctx context.Context) {
	defer s.shutdown()
	if s.desc != nil {
		s.ready(ctx)
	} else {
		s.c.setState(StateStarting, nil)
	}
	s.dialMore(ctx, time.Now())
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	lastRates := time.Now()
	for {
		var storeIn chan storeJob
		var next storeJob
		if len(s.storeQ) > 0 {
			storeIn, next = s.storeIn, s.storeQ[0]
		}
		select {
		case <-ctx.Done():
			return
		case storeIn <- next:
			s.storeQ = s.storeQ[1:]
		case r := <-s.storeOut:
			s.stored(ctx, r)
		case ev := <-s.events:
			s.handle(ctx, ev)
		case <-s.c.readersCh:
			s.reprioritize()
		case now := <-tick.C:
			if now.Sub(lastRates) >= time.Second {
				s.measure(now.Sub(lastRates))
				lastRates = now
				s.checkStuck()
				s.checkStalls(now)
				s.replaceSlow(ctx)
			}
			s.dialMore(ctx, now)
			s.ensureListener(ctx, now)
			s.sharePEX(now)
			s.e.publish(s.c)
		}
		if s.failure != nil {
			s.c.setState(StateFailed, s.failure)
			return
		}
	}
}

// ready starts the data side once the descriptor is known.
func (s *swarm) ready(ctx context.Context) {
	s.c.mu.Lock()
	s.desc = s.c.desc
	have := append(bitmap(nil), s.c.have...)
	s.c.mu.Unlock()
	s.pk = newPicker(s.desc.NumChunks(), have)
	s.win = tuningFor(int(s.desc.ChunkSize))
	s.wg.Add(1 + uploadWorkers)
	go func() { defer s.wg.Done(); s.storeLoop(ctx) }()
	for range uploadWorkers {
		go func() { defer s.wg.Done(); s.up.work(ctx) }()
	}
	switch {
	case s.pk.left == 0:
		s.completed(ctx)
	case s.origin:
		s.c.setState(StateSeeding, nil) // a live share, growing
	default:
		s.c.setState(StateFetching, nil)
	}
	s.ensureListener(ctx, time.Now())
}

func (s *swarm) shutdown() {
	s.cancel()
	close(s.quit)
	s.up.shutdown()
	if s.listener != nil {
		s.listener.Close()
	}
	for p := range s.peers {
		p.closeWith(wire.ByeNormal, "", nil)
	}
	// Drain events so helpers blocked on sending can finish.
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
			s.c.mu.Lock()
			s.c.peers, s.c.downRate, s.c.upRate, s.c.listenAddr, s.c.reachable = 0, 0, 0, "", false
			s.c.waiting, s.c.publishErr = "", ""
			s.c.mu.Unlock()
			return
		case ev := <-s.events:
			if j, ok := ev.(peerJoined); ok {
				j.p.close(nil)
			}
		case <-s.storeOut:
		}
	}
}

func (s *swarm) handle(ctx context.Context, ev any) {
	switch ev := ev.(type) {
	case fatalErr:
		s.failure = ev.err
	case peerJoined:
		s.join(ctx, ev.p)
	case peerGone:
		s.drop(ev.p, ev.err)
	case dialFailed:
		s.replaced(ev.addr, ev.circ, false)
		if a := s.addrs[ev.addr]; a != nil {
			a.shut(ev.circ)
			if ev.full {
				a.fails, a.good = 0, true // it answered with the descriptor
				a.refused()
			} else {
				a.failed(ev.at, time.Now())
			}
			a.banned = a.banned || ev.ban
		}
		for _, x := range ev.pex {
			s.learn(x)
		}
		if len(s.peers) == 0 {
			s.c.mu.Lock()
			s.c.waiting = waitingReason(ev)
			s.c.mu.Unlock()
		}
		s.log.Debug("dial failed", "err", ev.err)
		if s.desc == nil && errors.Is(ev.err, hcrypto.ErrBadDescriptor) {
			s.log.Warn("peer sent a wrong descriptor")
		}
	case listening:
		s.listened(ev)
	case liveChunk:
		s.gained(ctx, ev.i)
	case peerMsg:
		if !s.peers[ev.p] {
			return
		}
		if err := s.message(ctx, ev.p, ev.m); err != nil {
			s.log.Info("dropping peer", "err", err)
			ban := errors.Is(err, hcrypto.ErrBadChunk) || errors.Is(err, hcrypto.ErrBadProof)
			code := wire.ByeProtocol
			if ban {
				code = wire.ByeBanned
				s.ban(ev.p)
			}
			ev.p.closeWith(code, "", err)
		}
	}
}

// join adds a peer whose handshake succeeded.
func (s *swarm) join(ctx context.Context, p *peer) {
	if s.desc == nil {
		s.ready(ctx)
	}
	if s.full(p) && !p.dialed && !p.extra {
		if q := s.youngestExtra(); q != nil {
			s.log.Debug("closing an extra connection for a newcomer's first")
			q.closeWith(wire.ByeFull, "an extra connection yields to a newcomer", nil)
			s.drop(q, nil)
		}
	}
	if s.full(p) {
		var last []wire.Message
		if pex := s.pexFor(p); !p.dialed && len(pex.Addrs) > 0 {
			// Where else to get it: the refused downloader need not wait
			// for a slot here.
			last = append(last, pex)
		}
		p.closeAfter(nil, append(last, wire.Goodbye{Code: wire.ByeFull})...)
		if p.dialed {
			s.release(p)
			s.replaced(p.addr, p.circ, false)
		}
		return
	}
	if p.dialed {
		if a := s.addrs[p.addr]; a != nil {
			a.fails, a.good = 0, true
			if a.full == 0 {
				a.retryAt = time.Time{} // circuits that failed beside this one are dialed again now
			}
		}
		defer s.dialMore(ctx, time.Now()) // it answers: open its other circuits now
	} else {
		s.inbound++
	}
	s.peers[p] = true
	p.window = s.win.initial
	if s.c.playing(time.Now()) {
		// A player may seek at any moment: a new circuit's requests stay few
		// until its rate is known (see playLatency).
		p.window = playWindowStart
	}
	s.up.add(p)
	if p.dialed {
		s.replaced(p.addr, p.circ, true)
	}
	s.c.mu.Lock()
	bits := append(wire.Bitfield{}.Bits, s.c.have...)
	s.c.peers, s.c.waiting = len(s.peers), ""
	s.c.mu.Unlock()
	p.send(wire.Bitfield{Bits: bits})
	if pex := s.pexFor(p); len(pex.Addrs) > 0 {
		p.send(pex)
	}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); p.readLoop(ctx) }()
	go func() { defer s.wg.Done(); p.writeLoop() }()
	s.e.publish(s.c)
}

// full says whether the connection table has no room for p.
func (s *swarm) full(p *peer) bool {
	return len(s.peers) >= s.e.cfg.MaxPeersPerContent || (!p.dialed && s.inbound >= s.e.cfg.MaxUploadsPerContent)
}

// youngestExtra returns the accepted connection that said it was an extra
// one (Hello.Extra) and joined last, or nil. A node cannot tell which of
// its connections come from the same downloader (each comes on its own
// circuit), but the dialers say which are extra: closing one of those for
// a newcomer's first connection lets every downloader in while there are
// fewer downloaders than slots, where the first few used to take them all.
// The youngest has the fewest requests queued.
func (s *swarm) youngestExtra() *peer {
	var y *peer
	for q := range s.peers {
		if !q.dialed && q.extra && (y == nil || q.joined.After(y.joined)) {
			y = q
		}
	}
	return y
}

// release forgets the circuit of a dialed peer.
func (s *swarm) release(p *peer) {
	if a := s.addrs[p.addr]; a != nil && p.dialed {
		a.shut(p.circ)
	}
}

// refused backs off from an address that said it is full: it answered, so
// it is no dial failure, but dialing it again at once would be refused
// again.
func (a *addrState) refused() {
	a.full++
	a.fullAt = time.Now()
	a.retryAt = a.fullAt.Add(a.fullBackoff())
}

// fullBackoff is how long to wait before asking again for room.
func (a *addrState) fullBackoff() time.Duration { return backoff(a.full, fullBackoffMax) }

// backoff is the wait after the n-th failure in a row (n >= 1):
// dialBackoffFirst, doubling each time, up to ceiling.
func backoff(n int, ceiling time.Duration) time.Duration {
	return min(ceiling, dialBackoffFirst<<min(n-1, 10))
}

func (s *swarm) drop(p *peer, err error) {
	if !s.peers[p] {
		return
	}
	delete(s.peers, p)
	if !p.dialed {
		s.inbound--
	}
	s.release(p)
	if a := s.addrs[p.addr]; a != nil && p.dialed && errors.Is(err, errPeerFull) {
		a.refused()
	}
	s.up.remove(p)
	if s.pk != nil {
		if p.gotBitfield {
			s.pk.addAvail(p.has, -1)
		}
		for i := range p.outstanding {
			s.pk.inflight[i]--
		}
	}
	p.outstanding = nil
	s.c.mu.Lock()
	s.c.peers = len(s.peers)
	if len(s.peers) == 0 {
		s.c.waiting = "" // a reason about peers that are gone
	}
	s.c.mu.Unlock()
	if err != nil {
		s.log.Debug("peer gone", "err", err)
	}
	s.scheduleAll()
}

func (s *swarm) ban(p *peer) {
	if p.addr == "" || !p.dialed {
		return
	}
	if a := s.addrs[p.addr]; a != nil {
		a.banned = true
	}
	for q := range s.peers { // every circuit to the liar
		if q != p && q.dialed && q.addr == p.addr {
			q.closeWith(wire.ByeBanned, "", nil)
		}
	}
}

// sharePEX passes newly announced addresses on to every peer, at most every
// pexInterval.
func (s *swarm) sharePEX(now time.Time) {
	if s.pexDirty.IsZero() || now.Sub(s.pexDirty) < pexInterval {
		return
	}
	s.pexDirty = time.Time{}
	for p := range s.peers {
		if m := s.pexFor(p); len(m.Addrs) > 0 {
			p.send(m)
		}
	}
}

// pexFor lists addresses that serve the content, ours first. A node that
// serves (and said so in its Hello) sends nothing before its own address is
// published, so that the first address of its PEX is always its own.
func (s *swarm) pexFor(p *peer) wire.PEX {
	var m wire.PEX
	if s.listener != nil {
		m.Addrs = append(m.Addrs, s.listener.Address())
	} else if s.c.serving() {
		return m
	}
	for a, st := range s.addrs {
		if len(m.Addrs) >= wire.MaxPEXAddrs {
			break
		}
		if st.good && !st.banned && a != p.addr {
			m.Addrs = append(m.Addrs, a)
		}
	}
	return m
}

func (s *swarm) listened(ev listening) {
	if ev.err != nil {
		s.listenAt = time.Now().Add(listenRetry)
		s.log.Warn("publish onion service", "err", ev.err)
		s.c.mu.Lock()
		s.c.publishErr = fmt.Sprintf("onion service not published: %v; trying again in %v", ev.err, listenRetry)
		s.c.mu.Unlock()
		s.e.publish(s.c)
		return
	}
	s.listener = ev.l
	addr := ev.l.Address()
	s.own[addr] = true
	delete(s.addrs, addr)
	s.c.mu.Lock()
	s.c.listenAddr, s.c.reachable, s.c.publishErr = addr, true, ""
	s.c.mu.Unlock()
	if _, shared := ev.l.(nopListener); !shared {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.e.acceptLoop(ev.l, s.c) }()
	}
	for p := range s.peers { // announce ourselves to the peers we already met
		p.send(wire.PEX{Addrs: []string{addr}})
	}
	s.e.publish(s.c)
}

// ensureListener publishes the content's onion service when it should serve.
func (s *swarm) ensureListener(ctx context.Context, now time.Time) {
	if s.listener != nil || s.desc == nil || now.Before(s.listenAt) || !s.c.serving() || s.e.cfg.SingleIdentity && s.e.single == nil {
		return
	}
	if s.e.cfg.SingleIdentity {
		s.listener = nopListener{s.e.single}
		s.listened(listening{l: s.listener})
		return
	}
	s.listenAt = now.Add(time.Hour) // one attempt at a time
	key, err := s.e.db.identity(s.c.id[:])
	if err != nil {
		s.failure = err
		return
	}
	cfg := onion.ServiceConfig{Key: key}
	if ck := s.c.clientKey(); ck != nil {
		cfg.ClientAuth = []onion.ClientPublicKey{ck.Public()}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		l, err := s.e.cfg.Transport.Listen(ctx, cfg)
		select {
		case s.events <- listening{l: l, err: err}:
		case <-ctx.Done():
			if l != nil {
				l.Close()
			}
		}
	}()
}

// nopListener shares the engine's single listener: closing it is a no-op.
type nopListener struct{ onion.Listener }

func (nopListener) Close() error { return nil }

func (s *swarm) String() string { return fmt.Sprintf("swarm %s", s.c.id) }
