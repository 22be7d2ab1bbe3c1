package swarm

import (
	"cmp"
	"slices"
	"sync"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// readers are a content's open Files: their places steer its download.
type readers struct {
	mu    sync.Mutex
	files map[*file]struct{}
	left  time.Time     // when the last one closed (players reopen to seek)
	moved chan struct{} // poked when one opens, moves or closes
}

// add and remove open and close a File.
func (r *readers) add(f *file) {
	r.mu.Lock()
	r.files[f] = struct{}{}
	r.mu.Unlock()
	r.poke()
}

func (r *readers) remove(f *file) {
	r.mu.Lock()
	delete(r.files, f)
	r.left = time.Now()
	r.mu.Unlock()
	r.poke()
}

// poke tells the swarm that a reader moved.
func (r *readers) poke() {
	select {
	case r.moved <- struct{}{}:
	default:
	}
}

// look returns the open Files, the one that opened or seeked last first,
// and when the last one closed.
func (r *readers) look() (files []*file, left time.Time) {
	r.mu.Lock()
	files = make([]*file, 0, len(r.files))
	for f := range r.files {
		files = append(files, f)
	}
	left = r.left
	r.mu.Unlock()
	slices.SortFunc(files, func(a, b *file) int { return cmp.Compare(b.moved.Load(), a.moved.Load()) })
	return files, left
}

// playing reports whether a reader has the content open, or had it less
// than playHold ago: a player between two connections (many reopen to
// seek) still counts.
func (r *readers) playing(now time.Time) bool {
	files, left := r.look()
	return len(files) > 0 || now.Sub(left) < playHold
}

// windows returns the readahead windows of the open Files of a content of
// descriptor desc, for the picker, the one that opened or seeked last
// first, whether any of them opened or seeked since the last call, and
// when the last one did.
func (r *readers) windows(desc *hcrypto.Descriptor, rate float64) (ws []window, jumped bool, moved time.Time) {
	if desc == nil {
		return nil, false, time.Time{}
	}
	files, _ := r.look()
	if len(files) > 0 {
		moved = time.Unix(0, files[0].moved.Load())
	}
	bytes := max(minReadahead, int64(rate*readaheadTime))
	chunk := int64(desc.ChunkSize)
	count := int(min(max(1, maxReadahead/chunk), max(2, bytes/chunk)))
	for _, f := range files {
		if f.jumped.Swap(false) {
			jumped = true
		}
		pos := f.at.Load()
		if pos >= desc.Size {
			continue
		}
		ws = append(ws, window{start: int(pos / int64(desc.ChunkSize)), count: count})
	}
	return ws, jumped, moved
}

// While a content plays, a circuit's requests cover playLatency of its
// rate plus one: what a circuit carries when the player seeks is ahead of
// the new place, inside tor, where cancels cannot reach it (seeks took 6-11
// times the first frame with windowLatency and a slack of 4). A content
// plays while a reader has it open and for playHold after.
const (
	playLatency = time.Second
	playHold    = 2 * time.Minute
)

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
	ws, jumped, moved := s.c.readers.windows(s.desc, s.rate())
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
