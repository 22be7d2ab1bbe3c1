package swarm

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// message handles a frame a peer sent; an error drops the peer.
func (s *swarm) message(ctx context.Context, p *peer, m wire.Message) error {
	n := s.desc.NumChunks()
	switch m := m.(type) {
	case wire.Bitfield:
		b := bitmap(m.Bits)
		if p.gotBitfield || !b.validFor(n) {
			return fmt.Errorf("%w: bad or second bitfield", errProtocol)
		}
		p.has = append(bitmap(nil), b...)
		p.gotBitfield = true
		p.wasMissing = p.has.count() < n
		s.pk.addAvail(p.has, 1)
		s.closeIfDone(p)
	case wire.Have:
		i := int(m.Index)
		if !p.gotBitfield || i >= n {
			return fmt.Errorf("%w: have %d", errProtocol, i)
		}
		if !p.has.get(i) {
			p.has.set(i)
			s.pk.avail[i]++
			s.downloaded(p)
			s.closeIfDone(p)
		}
	case wire.Reject:
		i := int(m.Index)
		if _, ok := p.outstanding[i]; ok {
			delete(p.outstanding, i)
			s.pk.inflight[i]--
			p.window = max(s.win.min, p.window/2)
		} else {
			p.settle(i)
		}
	case wire.PEX:
		return s.gotPEX(ctx, p, m)
	case wire.Piece:
		return s.piece(p, m)
	}
	s.schedule(p)
	return nil
}

// piece takes a chunk off the wire; it is verified by the store goroutine.
func (s *swarm) piece(p *peer, m wire.Piece) error {
	i := int(m.Index)
	if i >= s.desc.NumChunks() {
		return fmt.Errorf("%w: piece %d out of range", errProtocol, i)
	}
	if _, ok := p.outstanding[i]; ok {
		delete(p.outstanding, i)
		s.pk.inflight[i]--
	} else if !p.settle(i) {
		return fmt.Errorf("%w: unsolicited piece %d", errProtocol, i)
	}
	if len(m.Data) != s.desc.ChunkLen(i) {
		return fmt.Errorf("piece %d of %d bytes: %w", i, len(m.Data), hcrypto.ErrBadChunk)
	}
	p.tickBytes += int64(len(m.Data))
	p.lastPiece = time.Now()
	if a := s.addrs[p.addr]; a != nil && p.dialed {
		a.strikes = 0 // it serves: a drop after this is no misbehaviour
	}
	if a := s.addrs[p.addr]; a != nil && p.dialed && a.full > 0 && p.dialedAt.After(a.fullAt) {
		a.full = 0 // a circuit dialed after the last refusal was admitted: it has room again
	}
	if s.pk.missing(i) {
		s.pk.pending[i] = true
		s.c.fetched.Add(1)
		// ReadFrame allocates every frame: the slices are ours to keep.
		s.storeQ = append(s.storeQ, storeJob{i: i, ct: m.Data, proof: m.Proof, from: p})
		for q := range s.peers { // endgame: withdraw the duplicates
			if _, dup := q.outstanding[i]; dup && q != p {
				s.withdraw(q, i)
			}
		}
	} else {
		s.c.duplicate.Add(int64(len(m.Data)))
	}
	s.schedule(p)
	return nil
}

// closeIfDone closes the connection to p when neither side can give the
// other anything: both hold every chunk. Kept open (keep-alives hold it
// forever), such connections kept a seeder's connection slots from the
// downloaders that came after.
func (s *swarm) closeIfDone(p *peer) {
	if s.finished && p.gotBitfield && p.has.count() == s.desc.NumChunks() {
		p.closeWith(wire.ByeNormal, "both complete", nil)
	}
}

// gained announces chunk i, verified and stored, or added by a live share's
// feeder, to every peer.
func (s *swarm) gained(ctx context.Context, i int) {
	if s.pk == nil || !s.pk.markHave(i) {
		return
	}
	s.c.markHave(i)
	for q := range s.peers {
		q.send(wire.Have{Index: uint32(i)})
	}
	if s.pk.left == 0 && !s.expandCollection() {
		s.completed(ctx)
		return
	}
	s.scheduleAll()
}

// completed asks the store goroutine to finish the file.
func (s *swarm) completed(ctx context.Context) {
	for q := range s.peers {
		for i := range q.outstanding {
			q.withdraw(i)
		}
		q.outstanding = map[int]time.Time{}
	}
	s.storeQ = append(s.storeQ, storeJob{finish: true})
}

// scheduleAll fills every peer's request window. While a reader has a
// window, its chunks are dealt to the peers one at a time, fastest first:
// each circuit serves its requests in order, so a window handed out in
// runs would come in at one circuit's rate, where dealt round robin its
// head comes over every circuit at once.
func (s *swarm) scheduleAll() {
	if s.pk == nil || !s.pk.windowed {
		for p := range s.peers {
			s.schedule(p)
		}
		return
	}
	ps := s.fastestFirst()
	for len(ps) > 0 {
		next := ps[:0]
		for _, p := range ps {
			if s.scheduleN(p, 1) > 0 {
				next = append(next, p)
			}
		}
		ps = next
	}
}

// fastestFirst returns the peers by falling rate (then by circuit, so
// that equal rates come in a fixed order).
func (s *swarm) fastestFirst() []*peer {
	ps := slices.Collect(maps.Keys(s.peers))
	slices.SortFunc(ps, func(a, b *peer) int {
		if c := cmp.Compare(b.rate, a.rate); c != 0 {
			return c
		}
		return cmp.Compare(a.circ, b.circ)
	})
	return ps
}

// schedule fills p's request window.
func (s *swarm) schedule(p *peer) { s.scheduleN(p, s.win.max) }

// scheduleN requests up to max more chunks from p, within its window, and
// returns how many it requested.
func (s *swarm) scheduleN(p *peer, max int) int {
	if s.pk == nil || s.pk.left == 0 || !p.gotBitfield || len(s.storeQ) >= s.win.storeQueue || s.origin {
		return 0
	}
	free := min(max, p.window-len(p.outstanding))
	if free <= 0 {
		return 0
	}
	picked := s.pk.pick(p.has, func(i int) bool { _, ok := p.outstanding[i]; return ok }, free)
	for _, i := range picked {
		s.request(p, i)
	}
	if len(picked) < free && s.pk.endgame() {
		return len(picked) + s.steal(p, free-len(picked))
	}
	return len(picked)
}

// In the endgame, when every missing chunk is requested from someone, a
// circuit that has room takes over a request another circuit would answer
// later than it (steal). Before it, a circuit to a peer that lacks what is
// left unrequested stays idle: moving requests to downloaders that serve
// each other early in a download made four of them a quarter slower (the
// memory benchmark's swarm: 365 instead of 491 MiB each in a minute).
// A circuit's oldest endgameCommitted requests count as on their way: the
// seeder has encrypted them, or they are in its socket or in tor, where a
// Cancel does not reach; those are asked for a second time, and only of a
// circuit at least copyGain times sooner, since on shared relays the copy
// slows the original. A later request is moved instead: its Cancel
// reaches the seeder before it is sent, so nothing crosses the network
// twice. The times are reckoned with each circuit's sustained rate (ten
// seconds): with the rate smoothed over a second or two, a busy circuit
// that had just brought a chunk looked twice as fast as the others, and
// 16 busy circuits received 6-11% of the file twice (5.5-5.9% with ten
// seconds, the throughput the same within the noise).
const (
	endgameCommitted = 2
	stealGain        = 4.0 / 3 // a move must make a chunk come this much sooner
	copyGain         = 2.0
)

// steal gives q up to n requests that other circuits owe and would answer
// enough later than q, latest first, and returns how many.
func (s *swarm) steal(q *peer, n int) int {
	if !q.gotBitfield {
		return 0
	}
	chunk := float64(s.desc.ChunkLen(0))
	rates := make(map[*peer]float64, len(s.peers))
	known, sum := 0, 0.0
	for p := range s.peers {
		if r := p.sustainedRate(); r > 0 {
			rates[p] = r
			known++
			sum += r
		}
	}
	rateOf := func(p *peer) float64 {
		switch r := rates[p]; {
		case r > 0:
			return r
		case known > 0:
			return sum / float64(known) // a new circuit: assume the mean
		}
		return 1
	}
	queues := map[*peer][]int{}
	for p := range s.peers {
		if p != q && len(p.outstanding) > 0 {
			queues[p] = p.queue()
		}
	}
	got := 0
	for got < n {
		etaQ := float64(len(q.outstanding)+1) * chunk / rateOf(q)
		var from *peer
		idx, rank, eta := -1, 0, 0.0
		for p, queue := range queues {
			for k, i := range queue {
				if s.pk.inflight[i] != 1 || !s.pk.missing(i) || !q.has.get(i) {
					continue
				}
				if _, ok := q.outstanding[i]; ok {
					continue
				}
				gain := stealGain
				if k < endgameCommitted {
					gain = copyGain
				}
				if e := float64(k+1) * chunk / rateOf(p); e > etaQ*gain && e > eta {
					from, idx, rank, eta = p, i, k, e
				}
			}
		}
		if from == nil {
			break
		}
		if rank >= endgameCommitted {
			s.withdraw(from, idx)
			queues[from] = slices.Delete(queues[from], rank, rank+1)
		}
		s.request(q, idx)
		got++
	}
	return got
}

// request asks p for chunk i.
func (s *swarm) request(p *peer, i int) {
	p.outstanding[i] = time.Now()
	s.pk.inflight[i]++
	p.send(wire.Request{Index: uint32(i)})
}

// withdraw cancels the request for chunk i outstanding at p.
func (s *swarm) withdraw(p *peer, i int) {
	delete(p.outstanding, i)
	s.pk.inflight[i]--
	p.withdraw(i)
}
