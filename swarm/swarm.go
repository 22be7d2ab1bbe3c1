package swarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// tickInterval is how often the swarm goroutine looks at its dials, its
// onion service and its PEX, and publishes its progress; rates and stalls
// are measured every fourth tick (health.go).
const tickInterval = 250 * time.Millisecond

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
	// look runs fn on the swarm goroutine between two events, then closes
	// done: how a test reads what only that goroutine may touch.
	look struct {
		fn   func(*swarm)
		done chan struct{}
	}
)

// swarmConfig is what a swarm takes from its engine when it starts; a
// swarm never reaches back into the engine.
type swarmConfig struct {
	log       *slog.Logger
	db        *db
	transport onion.Transport
	// single is the engine's one listener when it serves every content from
	// one identity (Config.SingleIdentity), nil otherwise; singleIdentity
	// says whether it should be there.
	single         onion.Listener
	singleIdentity bool
	// maxPeers, maxUploads and circuitsPerPeer are Config's
	// MaxPeersPerContent, MaxUploadsPerContent and CircuitsPerPeer.
	maxPeers, maxUploads, circuitsPerPeer int
	// replaceAge and replaceMinLeft override replace.go's constants in tests.
	replaceAge, replaceMinLeft time.Duration
	// dials bounds the onion services and circuits of all the engine's
	// swarms (dialcap.go).
	dials *dialLimiter
	// tune is Config.tune: A/B tests' overrides of window constants.
	tune tuning
	// rendezvous is Config.Rendezvous, its defaults set.
	rendezvous RendezvousConfig
	// accept serves the connections of the onion service a swarm published.
	accept func(l onion.Listener, c *content)
	// publish tells the engine's subscribers the content's status.
	publish func(*content)
	// spares holds the spare identity handed to a new content (spare.go).
	spares *spares
}

// swarm runs one content between Resume and Pause: it owns the peer table,
// the picker and the dialing, and is the only goroutine that changes them.
type swarm struct {
	c      *content
	cfg    swarmConfig
	log    *slog.Logger
	desc   *hcrypto.Descriptor // nil until learned
	win    windowTuning        // set with pk
	events chan any
	up     *uploader
	wg     sync.WaitGroup
	cancel context.CancelFunc
	quit   chan struct{} // closed when the swarm stops
	origin bool          // the content is this node's share: it never fetches (a live one gains chunks from its feeder)
	// serving says the content has an onion service (a share, a blind host,
	// or a download that reshares); clientKey is its client-authorization
	// key if it is private. Both are the record's for the swarm's life
	// (SetReshare starts a new swarm).
	serving   bool
	clientKey *onion.ClientPrivateKey
	session   string // random, in isolation tags

	peers map[*peer]bool
	addrs map[string]*addrState
	own   map[string]bool // our own addresses: never dialed
	// refusedClaims are addresses announced by accepted peers that sent a
	// bad chunk: an accepted peer announcing one is refused (ban).
	refusedClaims map[string]bool
	pk            *picker
	storeQ        []storeJob
	storeIn       chan storeJob
	storeOut      chan storeResult
	listener      onion.Listener
	listenAt      time.Time
	pexDirty      time.Time // a new address to pass on since then; zero: none
	finished      bool
	failure       error
	ending        string // why sharing stops on its own (stopshare.go); "": it does not
	inbound       int
	// replacing is the dial of a circuit that replaces a slow one; nil: none.
	replacing *replacement
	// rdv is its rendezvous discovery (rendezvous.go); nil without a swarm secret.
	rdv *rendezvous

	// fig are the swarm's own figures (its peers are len(peers)), handed
	// to the content by report; lastUp is the upload count at the last
	// measure.
	fig    figures
	lastUp int64
	// ticks counts the loop's ticks, for tests that wait on it (look).
	ticks int
}

// newSwarm prepares a swarm for c.
func newSwarm(c *content, cfg swarmConfig) *swarm {
	s := &swarm{c: c, cfg: cfg, log: cfg.log.With("content", c.id), events: make(chan any, 16),
		quit: make(chan struct{}), peers: map[*peer]bool{}, addrs: map[string]*addrState{},
		own: map[string]bool{}, refusedClaims: map[string]bool{}, storeIn: make(chan storeJob), storeOut: make(chan storeResult, 8)}
	s.fig = *c.fig.Load()
	s.up = newUploader(s, &c.uploaded)
	s.session = strconv.FormatUint(rand.Uint64(), 36)
	rec := c.record()
	s.desc = c.data.Load().desc
	s.origin = rec.Kind == KindShare
	s.serving = rec.Kind != KindDownload || rec.Reshare
	s.rdv = newRendezvous(c, cfg.rendezvous)
	if len(rec.ClientKey) == 32 {
		s.clientKey = new(onion.ClientPrivateKey)
		copy(s.clientKey[:], rec.ClientKey)
	}
	for _, a := range rec.Peers {
		s.learn(a, nil)
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

// setState changes the content's state and tells the subscribers.
func (s *swarm) setState(st State, err error) {
	s.fig.state, s.fig.err = st, ""
	if err != nil {
		s.fig.err = err.Error()
	}
	s.publish()
}

// report hands the content a new snapshot of the swarm's figures; it is
// called where they change (and once a second, as the rates do).
func (s *swarm) report() {
	f := s.fig
	f.peers, f.conns = s.distinctPeers(), len(s.peers)
	f.sources = s.peerSources()
	s.c.fig.Store(&f)
}

// publish reports the figures and tells the subscribers (throttled by the
// engine's bus).
func (s *swarm) publish() {
	s.report()
	s.cfg.publish(s.c)
}

// run is the swarm goroutine.
func (s *swarm) run(ctx context.Context) {
	defer s.shutdown()
	if s.desc != nil {
		s.ready(ctx)
	} else {
		s.setState(StateStarting, nil)
	}
	s.dialMore(ctx, time.Now())
	s.rendezvousTick(ctx, time.Now())
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	stopAt, stopTimer := s.stopTimer()
	defer stopTimer()
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
		case <-stopAt:
			s.ending = EndedTimer
		case <-s.c.readers.moved:
			s.reprioritize()
		case now := <-tick.C:
			s.ticks++
			if now.Sub(lastRates) >= time.Second {
				s.measure(now.Sub(lastRates))
				lastRates = now
				s.checkStuck()
				s.checkStalls(now)
				s.replaceSlow(ctx)
			}
			s.dialMore(ctx, now)
			s.ensureListener(ctx, now)
			s.rendezvousTick(ctx, now)
			s.sharePEX(now)
			s.publish()
		}
		if s.failure != nil {
			s.setState(StateFailed, s.failure)
			return
		}
		if s.ending != "" {
			s.end(s.ending)
			return
		}
	}
}

// ready starts the data side once the descriptor is known.
func (s *swarm) ready(ctx context.Context) {
	s.desc = s.c.data.Load().desc
	have, err := s.pickerHave(s.c.chunks.bits())
	if err != nil {
		s.failure = err
		return
	}
	s.pk = newPicker(s.desc.NumChunks(), have)
	s.win = tuningFor(int(s.desc.ChunkSize))
	if b := s.cfg.tune.slackBytes; b > 0 {
		s.win.slack = max(1, b/int(s.desc.ChunkSize))
	}
	s.wg.Add(1 + uploadWorkers)
	go func() { defer s.wg.Done(); s.storeLoop(ctx) }()
	for range uploadWorkers {
		go func() { defer s.wg.Done(); s.up.work(ctx) }()
	}
	switch {
	case s.pk.left == 0:
		s.completed(ctx)
	case s.origin:
		s.setState(StateSeeding, nil) // a live share, growing
	default:
		s.setState(StateFetching, nil)
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
	s.closeRendezvous()
	for p := range s.peers {
		p.closeWith(wire.ByeNormal, "", nil)
	}
	// Drain events so helpers blocked on sending can finish.
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
			clear(s.peers)
			s.fig.downRate, s.fig.upRate, s.fig.listenAddr, s.fig.reachable = 0, 0, "", false
			s.fig.waiting, s.fig.publishErr = "", ""
			s.fig.sources, s.fig.discovery = PeerSources{}, Discovery{}
			s.report()
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
		s.strike(ev.p, ev.err, time.Now())
		s.drop(ev.p, ev.err)
	case dialFailed:
		s.failedDial(ev)
	case listening:
		s.listened(ev)
	case liveChunk:
		s.gained(ctx, ev.i)
	case rdvAnswer:
		s.rdvAnswered(ctx, ev)
	case rdvHosted:
		s.rdvHosted(ctx, ev)
	case look:
		ev.fn(s)
		close(ev.done)
	case peerMsg:
		if !s.peers[ev.p] {
			return
		}
		if err := s.message(ctx, ev.p, ev.m); err != nil {
			s.log.Info("dropping peer", "err", err)
			ban := errors.Is(err, hcrypto.ErrBadChunk) || errors.Is(err, hcrypto.ErrBadProof)
			code := wire.ByeProtocol
			if errors.Is(err, errBanned) {
				code = wire.ByeBanned
			}
			if ban {
				code = wire.ByeBanned
				s.ban(ev.p)
			}
			ev.p.closeWith(code, "", err)
		}
	}
}

func (s *swarm) String() string { return fmt.Sprintf("swarm %s", s.c.id) }
