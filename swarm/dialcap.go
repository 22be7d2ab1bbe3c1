package swarm

import (
	"strings"
	"sync"
	"time"
)

// What a downloader shows the Tor network (docs/protocol.md, W1). Every
// circuit to an onion service picks a new rendezvous point and, for a
// service not contacted lately, new directory and introduction circuits;
// an adversary who makes a client connect to many onion services of its
// own, or build many circuits, gets many draws of the relays after the
// client's guard: Tor's vanguards specification names this the client
// side of guard discovery. Tor's vanguards-lite (on by default since
// 0.4.7; how the managed tor was checked is in docs/protocol.md) pins the
// second hop, so the draws reach the client's 4 layer-2 relays rather
// than its guard, but their number is still the adversary's to choose
// unless the client bounds it. The engine bounds it for all its downloads
// together: in any dialWindow, first circuits to at most
// maxOnionsPerWindow onion services not contacted in the window before,
// and at most maxDialsPerWindow circuits (dials and replacements). A
// download that reaches a bound waits for the window to move on; the
// addresses it knows stay in its address book, and when a place frees it
// goes to the best of them (dialMore's order: proven, named by the link,
// claimed, then by fewest failures), so made-up addresses that took the
// places first give them up to a real source a window later. A quarter of
// the onion places (trustedOnionShare) is kept for the addresses a
// download has most reason to trust (proven, named by the link, hosting a
// rendezvous slot): addresses only heard of (PEX, slot answers) cannot
// take them, so made-up holders that a hijacked slot answers a few
// milliseconds before the real slot host do not make it wait a window
// (TestRendezvousHijackedSlots).
const (
	dialWindow = time.Minute
	// maxOnionsPerWindow: a typical download contacts 1 to 6 onion
	// services (the link's seeders, then those PEX names; measured in
	// BENCHMARKS.md, Latency); a content holds at most 32 connections
	// (MaxPeersPerContent), so 32 is one full connection table of new
	// services a minute; and one source may add only 16 addresses
	// (maxAddrsPerSource), so one hostile peer's made-up addresses cannot
	// take every place (with 16 they did, and the real seeder another peer
	// named waited a minute: TestAttackPEXFlood).
	maxOnionsPerWindow = 32
	// maxDialsPerWindow: a download from four seeders opens 16 circuits
	// at once (DefaultCircuitsPerPeer each), then a replacement or a
	// redial now and then (17-18 dials in all, measured); 64 lets four
	// downloads start in the same minute.
	maxDialsPerWindow = 64
	// trustedOnionShare: the part of maxOnions (1/trustedOnionShare) that
	// only trusted addresses may take. A download has at most 6 slot
	// hosts (3 slots, two periods near a boundary) and the link's few
	// hints: 8 of 32 places cover them.
	trustedOnionShare = 4
)

// dialLimiter holds the engine-wide bounds on new onion services and
// circuits per window; the swarms of all contents share one. The zero
// limits of a nil *dialLimiter mean no bound.
type dialLimiter struct {
	window              time.Duration
	maxOnions, maxDials int

	mu     sync.Mutex
	onions map[string]time.Time // onion host -> its first circuit of the window
	dials  []time.Time          // the dials of the last window, oldest first
}

// newDialLimiter returns the limiter of an engine; a zero argument takes
// the constant.
func newDialLimiter(window time.Duration, maxOnions, maxDials int) *dialLimiter {
	if window <= 0 {
		window = dialWindow
	}
	if maxOnions <= 0 {
		maxOnions = maxOnionsPerWindow
	}
	if maxDials <= 0 {
		maxDials = maxDialsPerWindow
	}
	return &dialLimiter{window: window, maxOnions: maxOnions, maxDials: maxDials, onions: map[string]time.Time{}}
}

// reserve books one circuit to addr (host:port) at now if both bounds
// allow it; an address that is not trusted may not take the places kept
// for trusted ones. If not, it returns false and when the binding bound
// frees a place.
func (l *dialLimiter) reserve(addr string, trusted bool, now time.Time) (ok bool, retry time.Time) {
	if l == nil {
		return true, time.Time{}
	}
	host, _, _ := strings.Cut(addr, ":")
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now)
	if len(l.dials) >= l.maxDials {
		return false, l.dials[0].Add(l.window)
	}
	_, known := l.onions[host]
	limit := l.maxOnions
	if !trusted {
		limit -= l.maxOnions / trustedOnionShare
	}
	if !known && len(l.onions) >= limit {
		oldest := now
		for _, at := range l.onions {
			if at.Before(oldest) {
				oldest = at
			}
		}
		return false, oldest.Add(l.window)
	}
	if !known {
		l.onions[host] = now
	}
	l.dials = append(l.dials, now)
	return true, time.Time{}
}

// expire forgets what is older than the window.
func (l *dialLimiter) expire(now time.Time) {
	cut := now.Add(-l.window)
	i := 0
	for i < len(l.dials) && !l.dials[i].After(cut) {
		i++
	}
	l.dials = l.dials[i:]
	for h, at := range l.onions {
		if !at.After(cut) {
			delete(l.onions, h)
		}
	}
}

// counts says how many onion services and circuits the window holds now.
func (l *dialLimiter) counts(now time.Time) (onions, dials int) {
	if l == nil {
		return 0, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now)
	return len(l.onions), len(l.dials)
}
