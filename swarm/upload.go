package swarm

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hydre-p2p/hydre/swarm/wire"
)

// uploadWorkers is the number of chunks one content reads and encrypts at
// once.
const uploadWorkers = 2

// uploader serves the chunk requests of every peer of one content, round
// robin between the peers' queues, so that a greedy peer cannot starve the
// others; each peer has at most maxPiecesQueued encrypted chunks waiting for
// its writer, which bounds memory and lets the network pace the reads.
type uploader struct {
	s    *swarm
	mu   sync.Mutex
	cond *sync.Cond
	ring []*peer
	next int
	stop bool

	total *atomic.Int64 // bytes sent: the content's count (content.uploaded)
}

func newUploader(s *swarm, total *atomic.Int64) *uploader {
	u := &uploader{s: s, total: total}
	u.cond = sync.NewCond(&u.mu)
	return u
}

// add makes p eligible for uploads; remove drops it and its queue.
func (u *uploader) add(p *peer) {
	u.mu.Lock()
	u.ring = append(u.ring, p)
	u.mu.Unlock()
}

func (u *uploader) remove(p *peer) {
	u.mu.Lock()
	if i := slices.Index(u.ring, p); i >= 0 {
		u.ring = slices.Delete(u.ring, i, i+1)
	}
	p.reqs = nil
	u.mu.Unlock()
}

// request queues a peer's request, or rejects it.
func (u *uploader) request(p *peer, idx uint32) {
	if !u.s.c.chunks.has(int(idx)) {
		p.send(wire.Reject{Index: idx})
		return
	}
	u.mu.Lock()
	if len(p.reqs) >= maxRemoteRequests || slices.Contains(p.reqs, idx) {
		u.mu.Unlock()
		p.send(wire.Reject{Index: idx})
		return
	}
	p.reqs = append(p.reqs, idx)
	u.mu.Unlock()
	u.cond.Signal()
}

// cancel withdraws a peer's request: still queued, it is dropped; sealed
// and waiting for the peer's writer, it is dropped too (what is being
// written, or was, goes out anyway).
func (u *uploader) cancel(p *peer, idx uint32) {
	u.mu.Lock()
	if i := slices.Index(p.reqs, idx); i >= 0 {
		p.reqs = slices.Delete(p.reqs, i, i+1)
		u.mu.Unlock()
		return
	}
	u.mu.Unlock()
	if p.dropPiece(idx) {
		u.mu.Lock()
		p.piecesOut--
		u.mu.Unlock()
		u.cond.Signal()
	}
}

// busy says whether p has requests queued or pieces on their way.
func (u *uploader) busy(p *peer) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(p.reqs) > 0 || p.piecesOut > 0
}

// sent is called by a peer's writer after a piece went out.
func (u *uploader) sent(p *peer, n int) {
	u.total.Add(int64(n))
	u.mu.Lock()
	p.piecesOut--
	p.uploadedB += int64(n)
	u.mu.Unlock()
	u.cond.Signal()
}

func (u *uploader) shutdown() {
	u.mu.Lock()
	u.stop = true
	u.mu.Unlock()
	u.cond.Broadcast()
}

// take waits for the next (peer, chunk) to serve, round robin.
func (u *uploader) take() (*peer, uint32, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for !u.stop {
		for k := range u.ring {
			p := u.ring[(u.next+k)%len(u.ring)]
			if len(p.reqs) > 0 && p.piecesOut < maxPiecesQueued {
				idx := p.reqs[0]
				p.reqs = p.reqs[1:]
				p.piecesOut++
				u.next = (u.next + k + 1) % len(u.ring)
				return p, idx, true
			}
		}
		u.cond.Wait()
	}
	return nil, 0, false
}

// work serves requests until shutdown.
func (u *uploader) work(ctx context.Context) {
	for {
		p, idx, ok := u.take()
		if !ok {
			return
		}
		piece, err := u.s.c.piece(int(idx))
		if err != nil {
			u.mu.Lock()
			p.piecesOut--
			u.mu.Unlock()
			p.send(wire.Reject{Index: idx})
			u.s.log.Warn("serve chunk", "chunk", idx, "err", err)
			if errors.Is(err, errChanged) {
				u.s.fatal(err)
			}
			continue
		}
		p.sendPiece(piece)
	}
}
