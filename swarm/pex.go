package swarm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hydre-p2p/hydre/swarm/wire"
)

// pexInterval is the least time between two PEX messages passing new
// addresses on (docs/protocol.md, W6).
const pexInterval = time.Second

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
	} else if s.serving {
		return m
	}
	for a, st := range s.addrs {
		if len(m.Addrs) >= wire.MaxPEXAddrs {
			break
		}
		if (st.good || st.claimed) && !st.banned && a != p.addr {
			m.Addrs = append(m.Addrs, a)
		}
	}
	return m
}

// gotPEX learns the addresses a peer sent (as many as its quota allows),
// and the peer's own if it serves the content and put it first. That claim
// is not proof: the address is passed on (others dial it with one circuit,
// as any address heard of), but it is good only once a handshake there
// succeeded. A peer that claims an address banned here, or one that an
// accepted peer which sent a bad chunk claimed (refusedClaims), is refused.
func (s *swarm) gotPEX(ctx context.Context, p *peer, m wire.PEX) error {
	if len(m.Addrs) > 0 && p.serves && p.addr == "" && !p.dialed && !s.own[m.Addrs[0]] {
		if s.refusedClaims[m.Addrs[0]] {
			return fmt.Errorf("%w: announced the address of a peer that sent a bad chunk", errBanned)
		}
		s.learn(m.Addrs[0], nil) // its own: not charged to what it may name
		if a := s.addrs[m.Addrs[0]]; a != nil {
			if a.banned {
				return fmt.Errorf("%w: announced a banned address", errBanned)
			}
			p.addr = m.Addrs[0] // it announced itself
			if !a.claimed && !a.good {
				a.claimed = true
				s.pexDirty = time.Now()
			}
		}
	}
	q := s.quota(p)
	for _, a := range m.Addrs {
		s.learn(a, q)
	}
	s.dialMore(ctx, time.Now())
	return nil
}

// errBanned marks a peer refused for what it did before (ByeBanned).
var errBanned = errors.New("banned")
