package swarm

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"math/bits"
	"slices"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
)

// dialFailed tells the swarm goroutine that a dial found no peer.
type dialFailed struct {
	addr string
	circ int
	err  error
	ban  bool
	full bool      // it answered, but had no room (Goodbye 3)
	pex  []string  // the other sources it named when it refused
	at   time.Time // when the dial started
}

// dialMore opens connections while the content is incomplete: to every known
// source, with CircuitsPerPeer isolated circuits to each as long as
// MaxPeersPerContent holds them (fewer each when there are many sources).
// Circuits of different sources take different relays, so where the relays
// are the bottleneck more sources only help if each keeps its circuits:
// dividing four circuits among four seeders made four seeders no faster
// than one (BENCHMARKS.md, Swarm).
//
// The link's own peers get all their circuits at once; an address learned
// from a peer (PEX), or a link's peer that failed to answer, gets one
// circuit until a handshake proves it serves the content, so that a
// hostile peer's made-up addresses cost one circuit each. Waiting for the
// first handshake before dialing the link's peers' other circuits put a
// second rendezvous, seconds long on busy relays, before most of them.
func (s *swarm) dialMore(ctx context.Context, now time.Time) {
	if s.finished || (s.pk != nil && s.pk.left == 0) {
		return
	}
	var sources []string
	conns := 0
	for a, st := range s.addrs {
		conns += len(st.conns)
		if !st.banned {
			sources = append(sources, a)
		}
	}
	if len(sources) == 0 {
		if len(s.addrs) > 0 && len(s.peers) == 0 {
			s.fig.waiting = "every peer known sent data that failed verification or broke the protocol and is banned; no other source yet"
			s.report()
		}
		return
	}
	s.dialOrder(sources)
	limit := s.cfg.maxPeers - s.inbound
	perSource := max(1, min(s.cfg.circuitsPerPeer, limit/len(sources)))
	for _, a := range sources {
		st := s.addrs[a]
		if now.Before(st.retryAt) {
			continue
		}
		want := perSource
		switch {
		case !st.good && (!st.hint || st.fails > 0):
			want = 1 // prove it answers before opening more circuits
		case st.full > 0:
			// It said it was full: one more circuit at a time, each after a
			// longer wait, until one it admits brings a chunk.
			want = min(perSource, len(st.conns)+1)
			if len(st.conns) < want {
				st.retryAt = now.Add(st.fullBackoff())
			}
		}
		for len(st.conns) < want && conns < limit {
			if ok, retry := s.cfg.dials.reserve(a, st.trusted(), now); !ok {
				st.retryAt = retry // the engine's bound (dialcap.go)
				break
			}
			circ := st.freeCircuit()
			extra := st.open(circ)
			s.log.Debug("dialing", "circuit", circ, "extra", extra, "refusals", st.full)
			conns++
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.dial(ctx, a, circ, extra, now) }()
		}
	}
}

// dialOrder sorts addresses for dialing: those that answered first, then
// the link's, then those an accepted peer claimed, then slot hosts and
// those more rendezvous slots named (learnHolders), then the rest by fewest
// failures: made-up addresses never take the circuits of one that serves.
// Ties go in an order of this swarm run's own, not the addresses': a
// hostile slot host could otherwise make up keys whose addresses sort
// first.
func (s *swarm) dialOrder(sources []string) {
	slices.SortFunc(sources, func(x, y string) int {
		a, b := s.addrs[x], s.addrs[y]
		return cmp.Or(-cmp.Compare(rank(a), rank(b)), -cmp.Compare(slotRank(a), slotRank(b)),
			cmp.Compare(a.fails, b.fails), cmp.Compare(s.tiebreak(x), s.tiebreak(y)), cmp.Compare(x, y))
	})
}

// slotRank orders addresses the rendezvous slots named: a slot's host
// first, then by how many slots named it.
func slotRank(a *addrState) int {
	r := bits.OnesCount8(a.slots)
	if a.slotHost {
		r += 8
	}
	return r
}

// tiebreak orders addresses for dialing where nothing else does, in an
// order drawn for this swarm run (its session).
func (s *swarm) tiebreak(addr string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s.session))
	h.Write([]byte(addr))
	return h.Sum64()
}

// trusted says whether an address may take the onion places the engine
// keeps for the sources a download has most reason to believe: proven,
// named by the link, or hosting a rendezvous slot (dialcap.go).
func (a *addrState) trusted() bool { return a.good || a.hint || a.slotHost }

// rank orders addresses for dialing: proven, named by the link, claimed,
// heard of.
func rank(a *addrState) int {
	switch {
	case a.good:
		return 3
	case a.hint:
		return 2
	case a.claimed:
		return 1
	}
	return 0
}

// isolationTag names the circuit of one dial: distinct per content, swarm
// run, peer and circuit index, so that circuits of different contents (or of
// one content before and after a restart) are never shared.
func (s *swarm) isolationTag(addr string, circ int) string {
	return fmt.Sprintf("hydre-%s-%s-%s-%d", hex.EncodeToString(s.c.id[:8]), s.session, addr, circ)
}

// dial connects to addr and runs the dialer's side of the handshake; extra
// says the circuit is not the address's first (Hello.Extra), and start is
// when the swarm decided to dial.
func (s *swarm) dial(ctx context.Context, addr string, circ int, extra bool, start time.Time) {
	p, err := s.dialPeer(ctx, addr, circ, extra)
	var ev any = peerJoined{p: p}
	if err != nil {
		f := dialFailed{addr: addr, circ: circ, err: err, at: start,
			ban: errors.Is(err, hcrypto.ErrBadDescriptor) || errors.Is(err, errProtocol)}
		var full *fullError
		if errors.As(err, &full) {
			f.full, f.pex = true, full.pex
		}
		ev = f
		if local := (localError{}); errors.As(err, &local) {
			ev = fatalErr{local.err}
		}
	}
	select {
	case s.events <- ev:
	case <-ctx.Done():
		if p != nil {
			p.close(nil)
		}
	}
}

func (s *swarm) dialPeer(ctx context.Context, addr string, circ int, extra bool) (*peer, error) {
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	conn, err := s.cfg.transport.Dial(dctx, addr, onion.DialOptions{Isolation: s.isolationTag(addr, circ), ClientKey: s.clientKey})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	stop := context.AfterFunc(dctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	p, err := s.clientHandshake(conn, addr, circ, extra)
	if err != nil {
		conn.Close()
		return nil, err
	}
	p.dialedAt = start
	conn.SetDeadline(time.Time{})
	return p, nil
}

// failedDial books a dial that found no peer.
func (s *swarm) failedDial(ev dialFailed) {
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
	if a := s.addrs[ev.addr]; a != nil {
		for _, x := range ev.pex {
			s.learn(x, &a.lent)
		}
	}
	if len(s.peers) == 0 {
		s.fig.waiting = waitingReason(ev)
		s.report()
	}
	s.log.Debug("dial failed", "err", ev.err)
	if s.desc == nil && errors.Is(ev.err, hcrypto.ErrBadDescriptor) {
		s.log.Warn("peer sent a wrong descriptor")
	}
}
