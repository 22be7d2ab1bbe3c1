package swarm

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/hydre-p2p/hydre/swarm/wire"
)

// Tor circuits to one peer differ in speed by an order of magnitude: a
// circuit that crosses a congested relay waits seconds for each cell, and
// it stays that slow for its whole life. On the private network's busy
// relays, one to three of 16 circuits to four seeders brought 1-3 chunks
// where the median circuit brought 15 (a 7 s round trip, the first piece 20
// to 27 s after its request). A circuit that has had requests outstanding
// for replaceAge and brought less than 1/replaceRatio of the median of the
// circuits to the same peer (replaceQuorum of them or more, so that a slow
// peer, whose circuits are all slow, keeps them) is replaced: a circuit
// with a new isolation tag (so new rendezvous and middle relays) is dialed
// to that peer, and once it has joined the slow one is closed and its
// requests go elsewhere. One replacement at a time per content, and none
// when less than replaceMinLeft of the download is left, since a new
// circuit takes seconds to come up. Measured there (64 MiB from four
// seeders, four interleaved pairs): four replacements in four downloads;
// three new circuits brought twice the rate of the one they replaced, one
// took 37 s to come up; the downloads' throughput was the same within the
// noise (medians 0.89 and 0.90 MiB/s), the bad circuits being few.
const (
	replaceAge     = 15 * time.Second
	replaceRatio   = 3
	replaceQuorum  = 3
	replaceMinLeft = 30 * time.Second
)

// replacement is a circuit being dialed to replace a slow one.
type replacement struct {
	old  *peer
	addr string
	circ int
}

// busyRate is what p brought per second of the time it owed chunks.
func (p *peer) busyRate() float64 {
	if p.busy <= 0 {
		return 0
	}
	return float64(p.rx.Load()) / p.busy.Seconds()
}

// slowCircuit returns the dialed circuit to replace, or nil: the slowest
// of those busy for age or more that is slower than 1/replaceRatio of the
// median circuit to its peer.
func (s *swarm) slowCircuit(age time.Duration) *peer {
	byAddr := map[string][]*peer{}
	for p := range s.peers {
		if p.dialed && p.addr != "" && p.busy >= age {
			byAddr[p.addr] = append(byAddr[p.addr], p)
		}
	}
	var slow *peer
	for _, ps := range byAddr {
		if len(ps) < replaceQuorum {
			continue
		}
		slices.SortFunc(ps, func(a, b *peer) int {
			return cmp.Or(cmp.Compare(a.busyRate(), b.busyRate()), cmp.Compare(a.circ, b.circ))
		})
		if ps[0].busyRate()*replaceRatio < ps[len(ps)/2].busyRate() &&
			(slow == nil || ps[0].busyRate() < slow.busyRate()) {
			slow = ps[0]
		}
	}
	return slow
}

// replaceSlow starts the replacement of the slowest circuit, if one is
// slow enough (slowCircuit) and enough of the download is left.
func (s *swarm) replaceSlow(ctx context.Context) {
	if s.replacing != nil || s.pk == nil || s.pk.left == 0 || s.finished {
		return
	}
	r := s.rate()
	minLeft := cmp.Or(s.cfg.replaceMinLeft, replaceMinLeft)
	if r <= 0 || float64(s.pk.left*s.desc.ChunkLen(0))/r < minLeft.Seconds() {
		return
	}
	p := s.slowCircuit(cmp.Or(s.cfg.replaceAge, replaceAge))
	if p == nil {
		return
	}
	st := s.addrs[p.addr]
	if st == nil || st.banned {
		return
	}
	if ok, _ := s.cfg.dials.reserve(p.addr, st.trusted(), time.Now()); !ok {
		return
	}
	circ := st.freeCircuit()
	extra := st.open(circ)
	if st.lead == p.circ {
		// The replacement takes the lead in its place: left with extra
		// circuits only, the download would give them all up to newcomers.
		st.lead, extra = circ, false
	}
	s.replacing = &replacement{old: p, addr: p.addr, circ: circ}
	s.log.Debug("replacing a slow circuit", "circuit", p.circ, "rate", int(p.busyRate()), "by", circ)
	s.wg.Add(1)
	start := time.Now()
	go func() { defer s.wg.Done(); s.dial(ctx, p.addr, circ, extra, start) }()
}

// replaced ends the replacement that the dial of addr's circuit circ was,
// if it was one: when it joined, the slow circuit is closed, and its
// isolation tag never used again (tor would give the same circuit).
func (s *swarm) replaced(addr string, circ int, joined bool) {
	r := s.replacing
	if r == nil || r.addr != addr || r.circ != circ {
		return
	}
	s.replacing = nil
	if !joined {
		return
	}
	if st := s.addrs[addr]; st != nil {
		st.retired[r.old.circ] = true // even if it is gone already
	}
	if s.peers[r.old] {
		r.old.closeWith(wire.ByeNormal, "replaced by a new circuit", nil)
	}
}
