package swarm

import (
	"time"

	"github.com/hydre-p2p/hydre/swarm/wire"
)

// Sharing that stops on its own, as OnionShare's does: after the first
// complete download (ShareOptions.Once) or when a timer runs out
// (ShareOptions.StopAfter). The content is then paused, with the reason in
// Status.Ended, its onion service gone: a downloader that comes after
// cannot reach it. Resume shares it again (until the next complete
// download, for a once share; with no timer).

// Reasons in Status.Ended.
const (
	EndedOnce  = "stopped after the first complete download"
	EndedTimer = "stopped: the share's time ran out"
)

// stopTimer returns a channel that fires when the content's timer runs out
// (at once if it has already), nil without one, and a function that stops
// it.
func (s *swarm) stopTimer() (<-chan time.Time, func() bool) {
	at := s.c.record().StopAt
	if at.IsZero() {
		return nil, func() bool { return false }
	}
	t := time.NewTimer(time.Until(at))
	return t.C, t.Stop
}

// downloaded notes that p, missing chunks when it connected, now holds
// every chunk: a complete download, which ends a once share.
func (s *swarm) downloaded(p *peer) {
	if !p.wasMissing || p.has.count() != s.desc.NumChunks() {
		return
	}
	p.wasMissing = false
	s.log.Info("a peer completed its download", "once", s.c.record().Once)
	if s.c.record().Once && s.ending == "" {
		s.ending = EndedOnce
	}
}

// end pauses the content with why, from its swarm goroutine, which then
// returns: the record says so (kept across restarts) before the onion
// service closes.
func (s *swarm) end(why string) {
	if err := s.c.update(func(r *record) { r.Paused, r.Ended = true, why }); err != nil {
		s.log.Error("stop sharing", "err", err)
	}
	s.log.Info("sharing stopped", "why", why)
	s.c.e.note(s.c.status(), why)
}

// resumedTimer is the stop time of a content resumed: none once it has
// passed (else it would stop again at once), at kept otherwise.
func resumedTimer(at time.Time) time.Time {
	if !at.IsZero() && !time.Now().Before(at) {
		return time.Time{}
	}
	return at
}

// queuedHaves returns the Haves among a peer's queued control frames.
func queuedHaves(ctrl []wire.Message) []wire.Message {
	var out []wire.Message
	for _, m := range ctrl {
		if h, ok := m.(wire.Have); ok {
			out = append(out, h)
		}
	}
	return out
}
