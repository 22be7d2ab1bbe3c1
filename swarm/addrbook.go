package swarm

import (
	"strings"
	"time"

	"github.com/hydre-p2p/hydre/onion"
)

// The address book: what a swarm knows of each onion address that may serve
// its content, and when to dial it again (docs/protocol.md, W1).
const (
	maxKnownAddrs    = 256
	dialBackoffFirst = time.Second
	dialBackoffMax   = 2 * time.Minute
	// fullBackoffMax bounds the wait before asking a node that said it was
	// full for room again: one circuit, once in a while, so that a
	// downloader kept to one circuit by a crowd takes the others back soon
	// after the crowd leaves.
	fullBackoffMax = 16 * time.Second
)

// freeCircuit returns the lowest circuit index neither in use nor retired.
func (st *addrState) freeCircuit() int {
	circ := 0
	for st.conns[circ] || st.retired[circ] {
		circ++
	}
	return circ
}

// addrState is what a swarm knows of one address.
type addrState struct {
	conns   map[int]bool // circuit index -> connected or dialing
	fails   int          // dial failures since the last handshake, a burst counting once
	failAt  time.Time    // when the last counted failure came
	retryAt time.Time
	banned  bool
	good    bool         // a handshake succeeded, or a peer announced it as its own
	hint    bool         // the link names it
	rdv     bool         // a rendezvous slot named it (and not the link)
	full    int          // refusals for a full connection table since a circuit admitted after them brought a chunk
	fullAt  time.Time    // the last of those refusals
	retired map[int]bool // circuit indexes of replaced circuits: never dialed again
	lead    int          // the circuit dialed without Hello.Extra; -1: none
}

// open takes circuit circ and says whether it is an extra one (Hello.Extra):
// the first circuit to an address leads, and the next one leads only once
// no other does.
func (st *addrState) open(circ int) (extra bool) {
	st.conns[circ] = true
	if st.lead < 0 {
		st.lead = circ
		return false
	}
	return true
}

// waitingReason says, for Status.Waiting, why the dial of ev found no peer.
func waitingReason(ev dialFailed) string {
	if ev.full {
		return "every peer is full for now; asking again"
	}
	msg := ev.err.Error()
	for _, p := range []string{"dial: ", "dial onion: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return "no peer reachable yet: " + msg
}

// failed counts a dial, started at start, that failed at now, and puts off
// the next dial. Dials started together fail together when the service is
// not reachable yet (its descriptor is not published): only the first of
// them counts, so that four circuits failing at once wait 1 s, not 8.
func (st *addrState) failed(start, now time.Time) {
	if st.fails > 0 && start.Before(st.failAt) {
		return // dialed before the last counted failure came
	}
	st.fails++
	st.failAt = now
	st.retryAt = now.Add(backoff(st.fails, dialBackoffMax))
}

// shut frees circuit circ, whether it failed to join or left.
func (st *addrState) shut(circ int) {
	delete(st.conns, circ)
	if st.lead == circ {
		st.lead = -1
	}
}

func (s *swarm) learn(addr string) {
	if _, ok := s.addrs[addr]; ok || len(s.addrs) >= maxKnownAddrs || s.own[addr] {
		return
	}
	if _, _, err := onion.ParseAddress(addr); err != nil {
		return
	}
	s.addrs[addr] = &addrState{conns: map[int]bool{}, retired: map[int]bool{}, lead: -1}
}

// refused backs off from an address that said it is full: it answered, so
// it is no dial failure, but dialing it again at once would be refused
// again.
func (a *addrState) refused() {
	a.full++
	a.fullAt = time.Now()
	a.retryAt = a.fullAt.Add(a.fullBackoff())
}

// fullBackoff is how long to wait before asking again for room.
func (a *addrState) fullBackoff() time.Duration { return backoff(a.full, fullBackoffMax) }

// backoff is the wait after the n-th failure in a row (n >= 1):
// dialBackoffFirst, doubling each time, up to ceiling.
func backoff(n int, ceiling time.Duration) time.Duration {
	return min(ceiling, dialBackoffFirst<<min(n-1, 10))
}
