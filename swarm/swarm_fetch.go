package swarm

import (
	"context"
	"fmt"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// message handles a frame a peer sent; an error drops the peer.
func (s *swarm) message(ctx context.Context, p *peer, m Message) error {
	n := s.desc.NumChunks()
	switch m := m.(type) {
	case Bitfield:
		b := bitmap(m.Bits)
		if p.gotBitfield || !b.validFor(n) {
			return fmt.Errorf("%w: bad or second bitfield", errProtocol)
		}
		p.has = append(bitmap(nil), b...)
		p.gotBitfield = true
		s.pk.addAvail(p.has, 1)
	case Have:
		i := int(m.Index)
		if !p.gotBitfield || i >= n {
			return fmt.Errorf("%w: have %d", errProtocol, i)
		}
		if !p.has.get(i) {
			p.has.set(i)
			s.pk.avail[i]++
		}
	case Reject:
		i := int(m.Index)
		if _, ok := p.outstanding[i]; ok {
			delete(p.outstanding, i)
			s.pk.inflight[i]--
			p.window = max(minWindow, p.window/2)
		}
		delete(p.cancelled, i)
	case PEX:
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
		return nil
	case Piece:
		return s.piece(p, m)
	}
	s.schedule(p)
	return nil
}

// piece takes a chunk off the wire; it is verified by the store goroutine.
func (s *swarm) piece(p *peer, m Piece) error {
	i := int(m.Index)
	if i >= s.desc.NumChunks() {
		return fmt.Errorf("%w: piece %d out of range", errProtocol, i)
	}
	if _, ok := p.outstanding[i]; ok {
		delete(p.outstanding, i)
		s.pk.inflight[i]--
	} else if p.cancelled[i] {
		delete(p.cancelled, i)
	} else {
		return fmt.Errorf("%w: unsolicited piece %d", errProtocol, i)
	}
	if len(m.Data) != s.desc.ChunkLen(i) {
		return fmt.Errorf("piece %d of %d bytes: %w", i, len(m.Data), hcrypto.ErrBadChunk)
	}
	p.tickBytes += int64(len(m.Data))
	p.lastPiece = time.Now()
	if s.pk.missing(i) {
		s.pk.pending[i] = true
		s.c.fetched.Add(1)
		// ReadFrame allocates every frame: the slices are ours to keep.
		s.storeQ = append(s.storeQ, storeJob{i: i, ct: m.Data, proof: m.Proof, from: p})
		for q := range s.peers { // endgame: withdraw the duplicates
			if _, dup := q.outstanding[i]; dup && q != p {
				delete(q.outstanding, i)
				s.pk.inflight[i]--
				q.cancelled[i] = true
				q.send(Cancel{Index: uint32(i)})
			}
		}
	}
	s.schedule(p)
	return nil
}

// stored handles the verdict of the store goroutine on one chunk.
func (s *swarm) stored(ctx context.Context, r storeResult) {
	switch {
	case r.finish:
		if r.err != nil {
			s.failure = r.err
			return
		}
		s.finished = true
		if s.c.serving() {
			s.c.setState(StateSeeding, nil)
		} else {
			s.c.setState(StateDone, nil)
			s.cancel()
		}
		return
	case r.err != nil && r.bad:
		s.pk.pending[r.i] = false
		s.log.Warn("peer sent a bad chunk; banned for this content", "chunk", r.i, "err", r.err)
		s.ban(r.from)
		r.from.closeWith(ByeBanned, "bad chunk", r.err)
		s.scheduleAll()
		return
	case r.err != nil:
		s.failure = r.err
		return
	}
	if !s.pk.markHave(r.i) {
		return
	}
	s.c.markHave(r.i)
	for q := range s.peers {
		q.send(Have{Index: uint32(r.i)})
	}
	if s.pk.left == 0 {
		s.completed(ctx)
		return
	}
	s.scheduleAll()
}

// completed asks the store goroutine to finish the file.
func (s *swarm) completed(ctx context.Context) {
	for q := range s.peers {
		for i := range q.outstanding {
			q.send(Cancel{Index: uint32(i)})
		}
		q.outstanding = map[int]time.Time{}
	}
	s.storeQ = append(s.storeQ, storeJob{finish: true})
}

func (s *swarm) scheduleAll() {
	for p := range s.peers {
		s.schedule(p)
	}
}

// schedule fills p's request window.
func (s *swarm) schedule(p *peer) {
	if s.pk == nil || s.pk.left == 0 || !p.gotBitfield || len(s.storeQ) >= maxStoreQueue {
		return
	}
	free := p.window - len(p.outstanding)
	if free <= 0 {
		return
	}
	for _, i := range s.pk.pick(p.has, func(i int) bool { _, ok := p.outstanding[i]; return ok }, free) {
		p.outstanding[i] = time.Now()
		s.pk.inflight[i]++
		p.send(Request{Index: uint32(i)})
	}
}

// reprioritize follows the readers: their windows go first, and requests
// outside every window are withdrawn when they hold back window chunks.
func (s *swarm) reprioritize() {
	if s.pk == nil {
		return
	}
	if !s.pk.setPriority(s.c.windows(s.rate())) {
		return
	}
	for p := range s.peers {
		urgent := s.pk.urgentUnrequested(p.has)
		for i := range p.outstanding {
			if urgent <= 0 || len(p.outstanding) < p.window {
				break
			}
			if s.pk.prio[i] >= 0 {
				continue
			}
			delete(p.outstanding, i)
			s.pk.inflight[i]--
			p.cancelled[i] = true
			p.send(Cancel{Index: uint32(i)})
			urgent--
		}
		s.schedule(p)
	}
}

func (s *swarm) rate() float64 {
	var r float64
	for p := range s.peers {
		r += p.rate
	}
	return r
}

// measure updates rates and windows once a second.
func (s *swarm) measure(d time.Duration) {
	var down float64
	for p := range s.peers {
		inst := float64(p.tickBytes) / d.Seconds()
		p.tickBytes = 0
		p.rate = 0.6*p.rate + 0.4*inst
		down += p.rate
		if s.desc != nil {
			// Keep the circuit full: enough requests to cover the rate over the
			// latency of a request, plus slack.
			// The instant rate lets the window grow as fast as the circuit does
			// (a window-limited circuit delivers a full window per round trip).
			w := int(max(p.rate, inst)*windowLatency.Seconds())/s.desc.ChunkLen(0) + minWindow + 2
			p.window = min(maxWindow, max(minWindow, w, p.window-1))
			if len(p.outstanding) > 0 {
				s.log.Debug("peer", "circuit", p.circ, "rate", int(p.rate), "window", p.window, "outstanding", len(p.outstanding))
			}
		}
	}
	up := float64(s.up.total.Load())
	s.c.mu.Lock()
	if s.finished || s.pk == nil || s.pk.left == 0 {
		down = 0
	}
	s.c.downRate = down
	s.c.upRate = 0.6*s.c.upRate + 0.4*(up-float64(s.c.uploaded))/d.Seconds()
	s.c.uploaded = int64(up)
	s.c.mu.Unlock()
	if s.pk != nil {
		s.reprioritize()
		s.scheduleAll()
	}
}

// checkStalls withdraws requests that took too long and drops silent peers.
func (s *swarm) checkStalls(now time.Time) {
	for p := range s.peers {
		if len(p.outstanding) == 0 {
			continue
		}
		last := max(p.lastPiece.UnixNano(), p.joined.UnixNano())
		if now.Sub(time.Unix(0, last)) > stallTimeout {
			p.closeWith(ByeNormal, "stalled", fmt.Errorf("stalled"))
			continue
		}
		for i, at := range p.outstanding {
			if now.Sub(at) > requestTimeout {
				delete(p.outstanding, i)
				s.pk.inflight[i]--
				p.cancelled[i] = true
				p.send(Cancel{Index: uint32(i)})
				p.window = max(minWindow, p.window/2)
			}
		}
	}
}
