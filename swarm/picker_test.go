package swarm

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/hydre-p2p/hydre/swarm/wire"
)

func bitsOf(n int, idx ...int) bitmap {
	b := newBitmap(n)
	for _, i := range idx {
		b.set(i)
	}
	return b
}

func TestPicker(t *testing.T) {
	none := func(int) bool { return false }
	tests := []struct {
		name     string
		have     []int
		peers    [][]int // other peers' holdings (availability)
		inflight []int
		windows  []window
		peerHas  []int
		max      int
		noCopies bool // a reader that moved long ago: no copies of its head
		want     []int
	}{
		{name: "rarest first", peers: [][]int{{0, 1, 2}, {0, 1}, {0}}, peerHas: []int{0, 1, 2, 3}, max: 2, want: []int{3, 2}},
		{name: "skips held", have: []int{3}, peers: [][]int{{0, 1, 2}}, peerHas: []int{0, 1, 2, 3}, max: 4, want: []int{0, 1, 2}},
		{name: "reader window first", peers: [][]int{{5}}, windows: []window{{start: 6, count: 2}}, peerHas: []int{0, 5, 6, 7}, max: 2, want: []int{6, 7}},
		{name: "latest reader's head first", windows: []window{{start: 6, count: 2}, {start: 0, count: 3}}, peerHas: []int{0, 1, 2, 6, 7}, max: 5, want: []int{6, 7, 0, 1, 2}},
		{name: "window in order", windows: []window{{start: 4, count: 4}}, peerHas: []int{7, 6, 5, 4}, max: 4, want: []int{4, 5, 6, 7}},
		{name: "not in flight", inflight: []int{0, 1}, peerHas: []int{0, 1, 2}, max: 3, want: []int{2}},
		{name: "no second request without a reader", have: []int{2, 3, 4, 5, 6, 7}, inflight: []int{0, 1}, peerHas: []int{0, 1}, max: 3, want: nil},
		{name: "nothing to give", peerHas: nil, max: 4, want: nil},
		{name: "window head asked twice", inflight: []int{2, 3}, windows: []window{{start: 2, count: 6}}, peerHas: []int{0, 1, 2, 3, 4, 5, 6, 7}, max: 3, want: []int{2, 3, 4}},
		{name: "head asked at most twice", inflight: []int{2, 2, 3}, windows: []window{{start: 2, count: 6}}, peerHas: []int{2, 3}, max: 2, want: []int{3}},
		{name: "beyond the head asked once", inflight: []int{4, 5}, windows: []window{{start: 0, count: 8}}, have: []int{0, 1, 2, 3}, peerHas: []int{4, 5, 6}, max: 3, want: []int{6}},
		{name: "no duplicates without a reader", inflight: []int{2, 3}, peerHas: []int{2, 3}, max: 2, want: nil},
		{name: "no copies long after a move", inflight: []int{2, 3}, windows: []window{{start: 2, count: 6}}, peerHas: []int{2, 3}, max: 2, noCopies: true, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 8
			pk := newPicker(n, bitsOf(n, tt.have...))
			for _, p := range tt.peers {
				pk.addAvail(bitsOf(n, p...), 1)
			}
			for _, i := range tt.inflight {
				pk.inflight[i]++
			}
			pk.dupHead = !tt.noCopies
			pk.setPriority(tt.windows)
			got := pk.pick(bitsOf(n, tt.peerHas...), none, tt.max)
			if tt.name == "skips held" {
				slices.Sort(got)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("picked %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPickerStarved(t *testing.T) {
	tests := []struct {
		name     string
		have     []int
		inflight []int
		windows  []window
		noPeer   bool // no connected peer has any chunk
		want     bool
	}{
		{name: "no reader", want: false},
		{name: "jumped: head requested from no one", windows: []window{{start: 4, count: 3}}, want: true},
		{name: "second chunk of the head unrequested", inflight: []int{4}, windows: []window{{start: 4, count: 3}}, want: true},
		{name: "head requested", inflight: []int{4, 5}, windows: []window{{start: 4, count: 3}}, want: false},
		{name: "head held", have: []int{4, 5}, windows: []window{{start: 4, count: 3}}, want: false},
		{name: "one of two readers starved", inflight: []int{0, 1}, windows: []window{{start: 0, count: 2}, {start: 6, count: 2}}, want: true},
		{name: "window past the end", have: []int{7}, windows: []window{{start: 7, count: 4}}, want: false},
		{name: "head held by no peer", noPeer: true, windows: []window{{start: 4, count: 3}}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 8
			pk := newPicker(n, bitsOf(n, tt.have...))
			if !tt.noPeer {
				pk.addAvail(bitsOf(n, 0, 1, 2, 3, 4, 5, 6, 7), 1)
			}
			for _, i := range tt.inflight {
				pk.inflight[i]++
			}
			if got := pk.starved(tt.windows); got != tt.want {
				t.Fatalf("starved = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBitmapValidFor(t *testing.T) {
	tests := []struct {
		b    bitmap
		n    int
		want bool
	}{
		{bitmap{0xff}, 8, true},
		{bitmap{0xfe}, 7, true},
		{bitmap{0xff}, 7, false}, // a bit past the end
		{bitmap{0xff, 0}, 8, false},
		{bitmap{}, 1, false},
		{bitmap{0x80}, 1, true},
	}
	for _, tt := range tests {
		if got := tt.b.validFor(tt.n); got != tt.want {
			t.Errorf("%08b validFor(%d) = %v, want %v", []byte(tt.b), tt.n, got, tt.want)
		}
	}
}

// TestCancelDropsQueuedWork: a Cancel drops the request while it is queued,
// and the sealed piece while it waits for the writer, freeing its slot; a
// piece already handed to the writer is not affected.
func TestCancelDropsQueuedWork(t *testing.T) {
	u := newUploader(nil, new(atomic.Int64))
	p := &peer{reqs: []uint32{7, 8}, pieces: []wire.Piece{{Index: 3}, {Index: 5}}, piecesOut: 2}
	tests := []struct {
		idx       uint32
		reqs      []uint32
		pieces    []uint32
		piecesOut int
	}{
		{idx: 8, reqs: []uint32{7}, pieces: []uint32{3, 5}, piecesOut: 2},
		{idx: 5, reqs: []uint32{7}, pieces: []uint32{3}, piecesOut: 1},
		{idx: 9, reqs: []uint32{7}, pieces: []uint32{3}, piecesOut: 1},
	}
	for _, tt := range tests {
		u.cancel(p, tt.idx)
		var pieces []uint32
		for _, m := range p.pieces {
			pieces = append(pieces, m.Index)
		}
		if !slices.Equal(p.reqs, tt.reqs) || !slices.Equal(pieces, tt.pieces) || p.piecesOut != tt.piecesOut {
			t.Errorf("after cancel %d: reqs %v, pieces %v, out %d; want %v, %v, %d",
				tt.idx, p.reqs, pieces, p.piecesOut, tt.reqs, tt.pieces, tt.piecesOut)
		}
	}
}

// TestPickIsTheBestOfASort checks the picker's selection against a sort of
// every candidate by the same order, on random states: holdings, copies in
// flight, readers' windows, availability with many ties.
func TestPickIsTheBestOfASort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 500 {
		n := 1 + rng.IntN(300)
		have, peerHas := newBitmap(n), newBitmap(n)
		for i := range n {
			if rng.IntN(3) == 0 {
				have.set(i)
			}
			if rng.IntN(4) != 0 {
				peerHas.set(i)
			}
		}
		pk := newPicker(n, have)
		for i := range n {
			pk.avail[i] = int32(rng.IntN(3))
			pk.inflight[i] = uint8(rng.IntN(3) / 2)
			pk.pending[i] = rng.IntN(20) == 0
			if rng.IntN(2) == 0 {
				pk.tie[i] = uint32(rng.IntN(4)) // ties broken by index
			}
		}
		var ws []window
		for range rng.IntN(3) {
			ws = append(ws, window{start: rng.IntN(n), count: 1 + rng.IntN(10)})
		}
		pk.setPriority(ws)
		pk.dupHead = rng.IntN(2) == 0
		requested := func(i int) bool { return i%5 == 0 }
		max := 1 + rng.IntN(12)

		var want []int
		for i := range n {
			if !pk.missing(i) || !peerHas.get(i) {
				continue
			}
			copyOK := pk.windowed && pk.dupHead && pk.prio[i] >= 0 && pk.prio[i] < headCopies &&
				pk.inflight[i] > 0 && pk.inflight[i] < maxDuplicates && !requested(i)
			if pk.inflight[i] == 0 || copyOK {
				want = append(want, i)
			}
		}
		slices.SortFunc(want, func(a, b int) int {
			ka, kb := pk.key(a), pk.key(b)
			return cmp.Or(cmp.Compare(ka.rank, kb.rank), cmp.Compare(ka.avail, kb.avail), cmp.Compare(ka.tie, kb.tie), cmp.Compare(a, b))
		})
		want = want[:min(max, len(want))]
		if got := pk.pick(peerHas, requested, max); !slices.Equal(got, want) && (len(got) != 0 || len(want) != 0) {
			t.Fatalf("round %d (n %d, max %d): picked %v, want %v", round, n, max, got, want)
		}
	}
}

// BenchmarkPick measures one pick of a few chunks from a seeder, halfway
// through a download, for contents of 256 chunks (64 MiB in 256 KiB
// chunks), 8192 (2 GiB) and 65536 (16 GiB): a download makes about one
// pick per chunk, so the cost of a pick times the number of chunks is the
// picker's share of a whole download.
func BenchmarkPick(b *testing.B) {
	for _, n := range []int{256, 8192, 65536} {
		b.Run(fmt.Sprintf("chunks=%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			have, all := newBitmap(n), newBitmap(n)
			for i := range n {
				all.set(i)
				if rng.IntN(2) == 0 {
					have.set(i)
				}
			}
			pk := newPicker(n, have)
			for range 3 {
				peer := newBitmap(n)
				for i := range n {
					if rng.IntN(2) == 0 {
						peer.set(i)
					}
				}
				pk.addAvail(peer, 1)
			}
			pk.addAvail(all, 1)
			none := func(int) bool { return false }
			b.ReportAllocs()
			for b.Loop() {
				if got := pk.pick(all, none, 4); len(got) != 4 {
					b.Fatalf("picked %v", got)
				}
			}
		})
	}
}

func TestAnyWanted(t *testing.T) {
	pk := newPicker(4, bitmap{0b1100_0000}) // chunks 0 and 1 held
	if pk.anyWanted() {
		t.Fatal("wanted with no peer")
	}
	pk.avail[0] = 1 // a peer holds only what we have
	if pk.anyWanted() {
		t.Fatal("wanted a chunk already held")
	}
	pk.pending[2] = true // received, not yet written
	if !pk.anyWanted() {
		t.Fatal("a received chunk not counted")
	}
	pk.pending[2] = false
	pk.avail[3] = 1
	if !pk.anyWanted() {
		t.Fatal("a peer's missing chunk not counted")
	}
}
