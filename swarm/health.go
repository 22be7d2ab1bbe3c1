package swarm

import (
	"cmp"
	"fmt"
	"time"

	"github.com/hydre-p2p/hydre/swarm/wire"
)

// Liveness (docs/protocol.md, W7) and the measure of rates and windows.
const (
	windowLatency  = 3 * time.Second // a circuit's window covers its rate over this (window.go)
	requestTimeout = 45 * time.Second
	cancelledKeep  = 3 * time.Minute  // a withdrawn request's piece is still accepted for this long
	stallTimeout   = 90 * time.Second // outstanding requests and no piece: drop the peer
)

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
	s.fig.waiting = reason
	s.report()
}

// measure updates rates and windows once a second.
func (s *swarm) measure(d time.Duration) {
	var down float64
	latency, slack, floor, step := cmp.Or(s.cfg.tune.windowLatency, windowLatency), s.win.slack, s.win.min, s.win.step
	if s.c.readers.playing(time.Now()) {
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
	up := s.up.total.Load()
	if s.finished || s.pk == nil || s.pk.left == 0 {
		down = 0
	}
	s.fig.downRate = down
	s.fig.upRate = 0.6*s.fig.upRate + 0.4*float64(up-s.lastUp)/d.Seconds()
	s.lastUp = up
	s.report()
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
