package swarm

import (
	"context"
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
		if st.good && !st.banned && a != p.addr {
			m.Addrs = append(m.Addrs, a)
		}
	}
	return m
}

// gotPEX learns the addresses a peer sent, and the peer's own if it serves
// the content and put it first.
func (s *swarm) gotPEX(ctx context.Context, p *peer, m wire.PEX) {
	for _, a := range m.Addrs {
		s.learn(a)
	}
	if len(m.Addrs) > 0 && p.serves && p.addr == "" && !s.own[m.Addrs[0]] {
		p.addr = m.Addrs[0] // it announced itself
		if a := s.addrs[p.addr]; a != nil && !a.good {
			a.good = true
			s.pexDirty = time.Now()
		}
	}
	s.dialMore(ctx, time.Now())
}
