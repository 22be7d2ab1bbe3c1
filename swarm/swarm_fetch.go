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

// stored handles the verdict of the store goroutine on one chunk.
func (s *swarm) stored(ctx context.Context, r storeResult) {
	switch {
	case r.finish:
		if r.err != nil {
			s.failure = r.err
			return
		}
		s.finished = true
		for p := range s.peers {
			s.closeIfDone(p)
		}
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
		r.from.closeWith(wire.ByeBanned, "bad chunk", r.err)
		s.scheduleAll()
		return
	case r.err != nil:
		s.failure = r.err
		return
	}
	s.gained(ctx, r.i)
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

// reprioritize follows the readers: their windows go first, and requests
// outside every window are withdrawn when they hold back window chunks.
// A peer serves requests in the order they came, so when a reader jumps
// (it opened, or seeked) or is starved (the chunks where it reads are
// requested from no one), every request but those for the head of the
// latest reader's window is withdrawn, so that the head is first in the
// peers' queues rather than behind seconds of other chunks; the rest is
// asked for again after it, in priority order. Otherwise (a reader moving
// ahead as it plays) only as many are withdrawn as make room for the
// window.
func (s *swarm) reprioritize() {
	if s.pk == nil {
		return
	}
	ws, jumped, moved := s.c.windows(s.rate())
	s.pk.dupHead = time.Since(moved) < hedgeFor
	if !s.pk.setPriority(ws) {
		return
	}
	if jumped || s.pk.starved(ws) {
		for p := range s.peers {
			for i := range p.outstanding {
				if r := s.pk.prio[i]; r < 0 || r >= recentLead {
					s.withdraw(p, i)
				}
			}
		}
		if jumped && len(ws) > 0 {
			s.hedge(ws[0].start)
		}
		s.scheduleAll()
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
			s.withdraw(p, i)
			urgent--
		}
	}
	s.scheduleAll()
}

// hedgeFor is how long after a reader opened or seeked the head of its
// window may be asked of a second peer (picker.dupHead). Later, a reader
// that waits is one that caught up with the download, where copies would
// only halve the rate.
const hedgeFor = 5 * time.Second

// hedge puts the new place of a reader that jumped ahead of everything else:
// the chunk at start is asked of every peer that has it, then each peer,
// fastest first, is asked for one of the chunks after it. What a circuit
// was sent before the jump is inside tor, where no Cancel reaches it, so
// which circuit brings the first chunk soonest is not known: the first copy
// wins and the others are withdrawn when it comes. The chunks after it are
// not copied: a player that decodes on to an exact time reads them at once,
// and copies of them on every circuit would each take a circuit's whole
// throughput for a chunk another circuit is already bringing.
func (s *swarm) hedge(start int) {
	peers := slices.DeleteFunc(s.fastestFirst(), func(p *peer) bool { return !p.gotBitfield })
	ask := func(p *peer, i int) bool {
		if _, ok := p.outstanding[i]; ok || !p.has.get(i) || len(s.storeQ) >= s.win.storeQueue {
			return false
		}
		s.request(p, i)
		return true
	}
	if s.pk.missing(start) {
		for _, p := range peers {
			ask(p, start)
		}
	}
	next, end := start+1, min(s.pk.n, start+1+len(peers))
	for _, p := range peers {
		for next < end && (!s.pk.missing(next) || s.pk.inflight[next] > 0) {
			next++
		}
		if next >= end {
			return
		}
		if ask(p, next) {
			next++
		}
	}
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

func (s *swarm) rate() float64 {
	var r float64
	for p := range s.peers {
		r += p.rate
	}
	return r
}

// checkStuck says in Status.Waiting when the peers a download has cannot
// help it: every one that sent its bitfield lacks every missing chunk (a
// swarm of partial copies whose seeder left). Without peers, the dials'
// failures say why instead (handle, dialFailed).
func (s *swarm) checkStuck() {
	if s.pk == nil || s.pk.left == 0 || len(s.peers) == 0 {
		return
	}
	known := 0
	for p := range s.peers {
		if p.gotBitfield {
			known++
		}
	}
	reason := ""
	if known > 0 && !s.pk.anyWanted() {
		reason = fmt.Sprintf("no peer connected has any of the missing chunks (%d connections); waiting for one that has", known)
	}
	s.c.mu.Lock()
	s.c.waiting = reason
	s.c.mu.Unlock()
}

// measure updates rates and windows once a second.
func (s *swarm) measure(d time.Duration) {
	var down float64
	latency, slack, floor, step := windowLatency, s.win.slack, s.win.min, s.win.step
	if s.c.playing(time.Now()) {
		latency, slack, floor, step = playLatency, 1, 1, s.win.max // shrink at once
	}
	for p := range s.peers {
		inst := float64(p.tickBytes) / d.Seconds()
		p.sample(p.tickBytes, d)
		if len(p.outstanding) > 0 || p.tickBytes > 0 {
			p.busy += d
		}
		p.tickBytes = 0
		p.rate = 0.6*p.rate + 0.4*inst
		down += p.rate
		if s.desc != nil {
			// Keep the circuit full: enough requests to cover the rate over the
			// latency of a request, plus slack.
			// The instant rate lets the window grow as fast as the circuit does
			// (a window-limited circuit delivers a full window per round trip).
			p.window = s.win.size(max(p.rate, inst), latency.Seconds(), slack, floor, step, p.window)
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
		for i, w := range p.cancelled {
			if now.Sub(w.at) > cancelledKeep {
				delete(p.cancelled, i) // the peer honoured the Cancel
			}
		}
		if len(p.outstanding) == 0 {
			continue
		}
		last := max(p.lastPiece.UnixNano(), p.joined.UnixNano())
		if now.Sub(time.Unix(0, last)) > stallTimeout {
			p.closeWith(wire.ByeNormal, "stalled", fmt.Errorf("stalled"))
			continue
		}
		for i, at := range p.outstanding {
			if now.Sub(at) > requestTimeout {
				s.withdraw(p, i)
				p.window = max(s.win.min, p.window/2)
			}
		}
	}
}
