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
	// maxAddrsPerSource bounds the addresses one source (an address we
	// dialed, or one accepted connection) may add to the address book: one
	// hostile peer filled all maxKnownAddrs with made-up addresses and the
	// real seeder was never learned.
	maxAddrsPerSource = 16
	// maxViolations is how many times an address's connections may break
	// the protocol before it is banned for the content; quickDrop is how
	// soon after joining a connection that ends without bringing a chunk
	// counts as misbehaving (a peer that joins and leaves at once was
	// dialed again ~30 times a second).
	maxViolations = 3
	quickDrop     = 10 * time.Second
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
	conns    map[int]bool // circuit index -> connected or dialing
	fails    int          // dial failures since the last handshake, a burst counting once
	failAt   time.Time    // when the last counted failure came
	retryAt  time.Time
	banned   bool
	good     bool         // a handshake succeeded there
	claimed  bool         // an accepted peer announced it as its own (not proven: passed on, dialed with one circuit)
	lent     int          // addresses this address's connections may still add to the book
	strikes  int          // connections that broke the protocol or left at once, since the last chunk it brought
	broke    int          // connections that broke the protocol
	strikeAt time.Time    // when the last strike was counted
	hint     bool         // the link names it
	rdv      bool         // a rendezvous slot named it (and not the link)
	slots    uint8        // the slots of the moment that named it, a bit each (learnHolders)
	slotHost bool         // it came first in a slot's Answer: the slot's host, by R6
	full     int          // refusals for a full connection table since a circuit admitted after them brought a chunk
	fullAt   time.Time    // the last of those refusals
	retired  map[int]bool // circuit indexes of replaced circuits: never dialed again
	lead     int          // the circuit dialed without Hello.Extra; -1: none
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

// learn adds addr to the address book; quota is what its source may still
// add (nil: no bound, for the link's own peers), and is charged for it. A
// full book makes room by forgetting an address that was dialed, never
// answered and is not dialed now; an address that answered, or that the
// link names, is never forgotten.
func (s *swarm) learn(addr string, quota *int) {
	if _, ok := s.addrs[addr]; ok || s.own[addr] || (quota != nil && *quota <= 0) {
		return
	}
	if _, _, err := onion.ParseAddress(addr); err != nil {
		return
	}
	if len(s.addrs) >= maxKnownAddrs && !s.forgetOne() {
		return
	}
	if quota != nil {
		*quota--
	}
	s.addrs[addr] = &addrState{conns: map[int]bool{}, retired: map[int]bool{}, lead: -1, lent: maxAddrsPerSource}
}

// forgetOne removes the address that failed most among those that never
// answered and are not being dialed; it says whether there was one.
func (s *swarm) forgetOne() bool {
	var worst string
	for a, st := range s.addrs {
		if st.good || st.hint || st.claimed || len(st.conns) > 0 || (st.fails == 0 && !st.banned) {
			continue
		}
		if w := s.addrs[worst]; worst == "" || st.banned && !w.banned || st.fails > w.fails {
			worst = a
		}
	}
	if worst == "" {
		return false
	}
	delete(s.addrs, worst)
	return true
}

// quota is what p may still add to the address book: an accepted
// connection's own, a dialed one's shared with its address's other
// circuits.
func (s *swarm) quota(p *peer) *int {
	if a := s.addrs[p.addr]; a != nil && p.dialed {
		return &a.lent
	}
	return &p.lent
}

// misbehaved counts a connection to the address that broke the protocol
// (violation) or left soon after joining without bringing a chunk, and puts
// off the next dial: 1 s, doubling, up to dialBackoffMax; the address is
// banned at its maxViolations-th violation. Circuits whose dial began
// before the last strike count once with it: four circuits of one round
// wait 1 s, not 8, however spread out their handshakes were (counting by
// when each joined, a loaded machine's round struck up to four times and
// the third round waited minutes).
func (a *addrState) misbehaved(violation bool, dialed, now time.Time) {
	if a.strikes > 0 && dialed.Before(a.strikeAt) {
		return
	}
	a.strikeAt = now
	a.strikes++
	if violation {
		a.broke++
		a.banned = a.banned || a.broke >= maxViolations
	}
	a.retryAt = now.Add(backoff(a.strikes, dialBackoffMax))
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
