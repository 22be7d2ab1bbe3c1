package swarm

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
)

// picker chooses which chunks to request from which peer: chunks just ahead
// of an open reader first (in reading order), then the rarest chunks among
// the connected peers (ties broken by a per-node random order, so that
// downloaders spread over the swarm). Once every missing chunk is requested
// the swarm moves requests between circuits instead (swarm.steal). It is
// owned by the swarm goroutine.
type picker struct {
	n        int
	have     bitmap  // verified and written
	pending  []bool  // received, waiting to be verified and written
	inflight []uint8 // outstanding requests
	avail    []int32 // connected peers holding the chunk
	tie      []uint32
	prio     []int32 // rank in a reader's window; -1 for none
	windowed bool    // some chunk has a rank
	dupHead  bool    // the head of the latest reader's window may be asked twice
	left     int     // chunks not in have
}

// maxDuplicates bounds the requests for one chunk.
const maxDuplicates = 2

// headCopies is how many chunks at the head of a reader's window may be
// asked of a second peer while the first still owes them, when dupHead.
const headCopies = 4

// anyWanted reports whether a missing chunk is on its way: received and
// waiting to be written, or held by a connected peer.
func (pk *picker) anyWanted() bool {
	for i := range pk.n {
		if !pk.have.get(i) && (pk.pending[i] || pk.avail[i] > 0) {
			return true
		}
	}
	return false
}

func newPicker(n int, have bitmap) *picker {
	pk := &picker{n: n, have: have, pending: make([]bool, n), inflight: make([]uint8, n),
		avail: make([]int32, n), tie: make([]uint32, n), prio: make([]int32, n)}
	for i := range n {
		pk.tie[i] = rand.Uint32()
		pk.prio[i] = -1
		if !have.get(i) {
			pk.left++
		}
	}
	return pk
}

// missing reports whether chunk i is neither held nor being stored.
func (pk *picker) missing(i int) bool { return !pk.have.get(i) && !pk.pending[i] }

func (pk *picker) addAvail(b bitmap, delta int32) {
	for i := range pk.n {
		if b.get(i) {
			pk.avail[i] += delta
		}
	}
}

// markHave records chunk i as verified; it reports false if it already was.
func (pk *picker) markHave(i int) bool {
	pk.pending[i] = false
	if pk.have.get(i) {
		return false
	}
	pk.have.set(i)
	pk.left--
	return true
}

// window is a range of chunks a reader is about to read, in order.
type window struct{ start, count int }

// recentLead is how many chunks of the window of the reader that moved
// last rank before any chunk of the other readers' windows: a player that
// seeks opens a new connection while its old one still reads ahead, and
// the new place is what the person waits for. Beyond the lead the windows
// interleave, so that two streams a player reads at once both progress.
const recentLead = 8

// setPriority ranks the chunks of the readers' windows, given the most
// recently moved reader's first; it reports whether any chunk of a window
// is missing.
func (pk *picker) setPriority(ws []window) bool {
	for i := range pk.prio {
		pk.prio[i] = -1
	}
	pk.windowed = false
	any := false
	for j, w := range ws {
		lead := int32(min(j, 1) * recentLead)
		for k := 0; k < w.count && w.start+k < pk.n; k++ {
			i := w.start + k
			if i < 0 {
				continue
			}
			if r := int32(k) + lead; pk.prio[i] < 0 || r < pk.prio[i] {
				pk.prio[i] = r
			}
			pk.windowed = true
			if pk.missing(i) {
				any = true
			}
		}
	}
	return any
}

// starvedHead is how many chunks at the start of a reader's window must be
// requested from someone for the reader not to count as starved.
const starvedHead = 2

// starved reports whether a reader waits, or is about to, for a chunk that
// a connected peer has but no one was asked for.
func (pk *picker) starved(ws []window) bool {
	for _, w := range ws {
		for k := 0; k < min(starvedHead, w.count) && w.start+k < pk.n; k++ {
			if i := w.start + k; i >= 0 && pk.missing(i) && pk.inflight[i] == 0 && pk.avail[i] > 0 {
				return true
			}
		}
	}
	return false
}

// urgentUnrequested counts the chunks of a window that are missing and not
// requested from anyone.
func (pk *picker) urgentUnrequested(peerHas bitmap) int {
	n := 0
	for i, p := range pk.prio {
		if p >= 0 && pk.missing(i) && pk.inflight[i] == 0 && peerHas.get(i) {
			n++
		}
	}
	return n
}

// endgame reports whether every missing chunk is requested from someone.
func (pk *picker) endgame() bool {
	for i := range pk.n {
		if pk.inflight[i] == 0 && pk.missing(i) {
			return false
		}
	}
	return true
}

// pick returns up to max chunks to request from a peer holding peerHas,
// excluding those already requested from it, best first (pickKey). It keeps
// only the best max candidates as it scans: sorting every candidate made a
// pick cost O(n log n), 1.6 ms for 8192 chunks (a 2 GiB file in 256 KiB
// chunks) and 18 ms for 65536 (16 GiB), once per chunk of a download, on
// the goroutine that runs the swarm (BenchmarkPick).
func (pk *picker) pick(peerHas bitmap, requested func(int) bool, max int) []int {
	if max <= 0 || pk.left == 0 {
		return nil
	}
	t := topKeys{max: max}
	for j := range min(len(peerHas), len(pk.have)) {
		for x := peerHas[j] &^ pk.have[j]; x != 0; x &= x - 1 {
			i := j*8 + 7 - bits.TrailingZeros8(x)
			if i < pk.n && pk.inflight[i] == 0 && !pk.pending[i] {
				// t.offer, by hand: this runs for every candidate chunk.
				if k := pk.key(i); len(t.keys) < max || k.less(t.keys[max-1]) {
					t.insert(k)
				}
			}
		}
	}
	if pk.windowed && pk.dupHead {
		// A reader waits for the head of its window: a chunk there that
		// another circuit still owes is asked of this one too, and the
		// first copy wins (a slow circuit must not hold the player).
		for i, r := range pk.prio {
			if r >= 0 && r < headCopies && pk.inflight[i] > 0 && pk.inflight[i] < maxDuplicates && pk.missing(i) &&
				peerHas.get(i) && !requested(i) {
				t.offer(pk.key(i))
			}
		}
	}
	picked := make([]int, len(t.keys))
	for k, key := range t.keys {
		picked[k] = key.i
	}
	return picked
}

// pickKey orders the chunks to pick: a reader's window first, by rank;
// then the rarest; then by the node's random order (then by index, so
// that the order is total).
type pickKey struct {
	rank, avail int32
	tie         uint32
	i           int
}

func (pk *picker) key(i int) pickKey {
	rank := pk.prio[i]
	if rank < 0 {
		rank = math.MaxInt32
	}
	return pickKey{rank: rank, avail: pk.avail[i], tie: pk.tie[i], i: i}
}

// topKeys keeps the max least keys offered, in order.
type topKeys struct {
	max  int
	keys []pickKey
}

func (t *topKeys) offer(k pickKey) {
	if n := len(t.keys); n < t.max || k.less(t.keys[n-1]) {
		t.insert(k)
	}
}

func (t *topKeys) insert(k pickKey) {
	if len(t.keys) == t.max {
		t.keys = t.keys[:t.max-1]
	}
	at := sort.Search(len(t.keys), func(j int) bool { return k.less(t.keys[j]) })
	t.keys = slices.Insert(t.keys, at, k)
}

func (a pickKey) less(b pickKey) bool {
	switch {
	case a.rank != b.rank:
		return a.rank < b.rank
	case a.avail != b.avail:
		return a.avail < b.avail
	case a.tie != b.tie:
		return a.tie < b.tie
	}
	return a.i < b.i
}
