package swarm

import (
	"context"
	"errors"
	"time"

	"github.com/hydre-p2p/hydre/swarm/wire"
)

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
	if s.full(p) && !p.dialed && !p.extra {
		if q := s.squatter(time.Now()); q != nil {
			s.log.Debug("closing an idle connection for a newcomer")
			q.closeWith(wire.ByeFull, "an idle connection yields to a newcomer", nil)
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
			if a.full == 0 && a.strikes == 0 {
				a.retryAt = time.Time{} // circuits that failed beside this one are dialed again now
			}
		}
		defer s.dialMore(ctx, time.Now()) // it answers: open its other circuits now
	} else {
		s.inbound++
	}
	s.peers[p] = true
	p.window = s.win.initial
	if s.c.readers.playing(time.Now()) {
		// A player may seek at any moment: a new circuit's requests stay few
		// until its rate is known (see playLatency).
		p.window = playWindowStart
	}
	s.up.add(p)
	if p.dialed {
		s.replaced(p.addr, p.circ, true)
	}
	s.fig.waiting = ""
	p.send(wire.Bitfield{Bits: s.c.chunks.bits()})
	if pex := s.pexFor(p); len(pex.Addrs) > 0 {
		p.send(pex)
	}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); p.readLoop(ctx) }()
	go func() { defer s.wg.Done(); p.writeLoop() }()
	s.publish()
}

// full says whether the connection table has no room for p.
func (s *swarm) full(p *peer) bool {
	return len(s.peers) >= s.cfg.maxPeers || (!p.dialed && s.inbound >= s.cfg.maxUploads)
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

// squatter returns the accepted connection that has gone longest without
// asking for anything, if that is more than squatIdle and nothing it asked
// for is still queued or being sent; nil if there is none. Connections that
// claim to be a downloader's first and then ask for nothing held every slot
// of a seeder, and every later downloader was refused.
func (s *swarm) squatter(now time.Time) *peer {
	var y *peer
	var yAt time.Time
	for q := range s.peers {
		if q.dialed {
			continue
		}
		at := q.joined
		if t := q.asked.Load(); t != 0 {
			at = time.Unix(0, t)
		}
		if now.Sub(at) < squatIdle || s.up.busy(q) {
			continue
		}
		if y == nil || at.Before(yAt) {
			y, yAt = q, at
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
	if len(s.peers) == 0 {
		s.fig.waiting = "" // a reason about peers that are gone
	}
	s.report()
	if err != nil {
		s.log.Debug("peer gone", "err", err)
	}
	s.scheduleAll()
}

// ban bans a dialed peer's address for the content, closing every circuit
// to it. An accepted peer is known only by the address it announced (which
// anyone can announce): that address stays dialable (a handshake there
// proves it), but an accepted connection that announces it again is
// refused (gotPEX) and those that did are closed.
func (s *swarm) ban(p *peer) {
	if p.addr == "" {
		return
	}
	if p.dialed {
		if a := s.addrs[p.addr]; a != nil {
			a.banned = true
		}
	} else if len(s.refusedClaims) < maxKnownAddrs {
		s.refusedClaims[p.addr] = true
		if a := s.addrs[p.addr]; a != nil {
			a.claimed = false
		}
	}
	for q := range s.peers { // every circuit to or from the liar
		if q != p && q.addr == p.addr && q.dialed == p.dialed {
			q.closeWith(wire.ByeBanned, "", nil)
		}
	}
}

// strike books a connection that ended (peerGone): one that broke the
// protocol, or a dialed one that the peer ended soon after it joined
// without bringing a chunk, puts off the next dial of its address and may
// get it banned (misbehaved).
func (s *swarm) strike(p *peer, err error, now time.Time) {
	a := s.addrs[p.addr]
	if a == nil || !s.peers[p] || !p.dialed { // an accepted peer's address is only its claim
		return
	}
	p.mu.Lock()
	why := p.err
	p.mu.Unlock()
	switch {
	case errors.Is(why, errProtocol) || errors.Is(err, errProtocol):
		a.misbehaved(true, p.dialedAt, now)
		if a.banned {
			s.ban(p)
		}
	case (err != nil || why != nil) && !errors.Is(err, errPeerFull) && p.lastPiece.IsZero() && now.Sub(p.joined) < quickDrop:
		// It ended the connection (our writes failing is that too: the
		// reader then stops without an error of its own).
		a.misbehaved(false, p.dialedAt, now)
	}
}
