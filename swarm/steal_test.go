package swarm

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// TestSteal checks which requests a circuit with room takes over in the
// endgame, and that the in-flight counts stay those of the queues.
func TestSteal(t *testing.T) {
	const chunk = 16 << 10
	type circ struct {
		rate float64 // over the last ten seconds
		now  float64 // over the last second or two, if not rate
		out  []int   // outstanding, oldest first
		lack []int   // chunks its peer does not have
	}
	tests := []struct {
		name      string
		others    []circ
		q         circ
		n         int
		wantQ     []int   // chunks q owes afterwards
		wantLeft  [][]int // what the others still owe afterwards
		wantMoved int     // requests withdrawn from the others
	}{
		{
			name:   "moves the last request of a slow circuit",
			others: []circ{{rate: 100e3, out: []int{0}}, {rate: 10e3, out: []int{1, 2, 3, 4, 5}}},
			q:      circ{rate: 100e3}, n: 1,
			wantQ: []int{5}, wantLeft: [][]int{{0}, {1, 2, 3, 4}}, wantMoved: 1,
		},
		{
			name:   "moves as many as come sooner, latest first",
			others: []circ{{rate: 10e3, out: []int{1, 2, 3, 4, 5}}},
			q:      circ{rate: 100e3}, n: 3,
			wantQ: []int{5, 4, 3}, wantLeft: [][]int{{1, 2}}, wantMoved: 3,
		},
		{
			name:   "copies a committed chunk only of a much faster circuit",
			others: []circ{{rate: 10e3, out: []int{1}}},
			q:      circ{rate: 100e3}, n: 1,
			wantQ: []int{1}, wantLeft: [][]int{{1}},
		},
		{
			name:   "no copy for a circuit as fast",
			others: []circ{{rate: 120e3, out: []int{1, 2}}},
			q:      circ{rate: 100e3}, n: 1,
			wantLeft: [][]int{{1, 2}},
		},
		{
			name:   "no move that does not come sooner",
			others: []circ{{rate: 100e3, out: []int{1, 2, 3}}},
			q:      circ{rate: 100e3, out: []int{6, 7}}, n: 1,
			wantQ: []int{6, 7}, wantLeft: [][]int{{1, 2, 3}},
		},
		{
			name:   "a move that qualifies beats a later copy that does not",
			others: []circ{{rate: 9300, out: []int{1}}, {rate: 33000, out: []int{2, 3, 4}}},
			q:      circ{rate: 100e3, out: []int{5, 6, 7, 8, 9}}, n: 1,
			wantQ: []int{5, 6, 7, 8, 9, 4}, wantLeft: [][]int{{1}, {2, 3}}, wantMoved: 1,
		},
		{
			name:   "never a chunk q's peer lacks",
			others: []circ{{rate: 10e3, out: []int{1, 2, 3, 4, 5}}},
			q:      circ{rate: 100e3, lack: []int{5, 4}}, n: 1,
			wantQ: []int{3}, wantLeft: [][]int{{1, 2, 4, 5}}, wantMoved: 1,
		},
		{
			name:   "a circuit that just brought a chunk is no faster for it",
			others: []circ{{rate: 100e3, now: 20e3, out: []int{1, 2}}},
			q:      circ{rate: 100e3, now: 300e3}, n: 1,
			wantLeft: [][]int{{1, 2}},
		},
		{
			name:   "a new circuit counts at the mean rate",
			others: []circ{{rate: 100e3, out: []int{1, 2, 3, 4, 5, 6}}},
			q:      circ{}, n: 1,
			wantQ: []int{6}, wantLeft: [][]int{{1, 2, 3, 4, 5}}, wantMoved: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 10
			s := stealSwarm(t, n, chunk)
			base := time.Now()
			add := func(c circ) *peer {
				has := newBitmap(n)
				for i := range n {
					if !slices.Contains(c.lack, i) {
						has.set(i)
					}
				}
				p := addCircuit(s, c.rate, has, c.out, base)
				if c.now > 0 {
					p.rate = c.now
				}
				return p
			}
			var others []*peer
			for _, c := range tt.others {
				others = append(others, add(c))
			}
			q := add(tt.q)
			got := s.steal(q, tt.n)
			if want := len(tt.wantQ) - len(tt.q.out); got != want {
				t.Errorf("steal returned %d, want %d", got, want)
			}
			if gotQ := slices.Sorted(maps.Keys(q.outstanding)); !slices.Equal(gotQ, slices.Sorted(slices.Values(tt.wantQ))) {
				t.Errorf("q owes %v, want %v", gotQ, tt.wantQ)
			}
			moved := 0
			for j, p := range others {
				if left := slices.Sorted(maps.Keys(p.outstanding)); !slices.Equal(left, tt.wantLeft[j]) {
					t.Errorf("circuit %d owes %v, want %v", j, left, tt.wantLeft[j])
				}
				moved += len(p.cancelled)
			}
			if moved != tt.wantMoved {
				t.Errorf("%d requests withdrawn, want %d", moved, tt.wantMoved)
			}
			for i := range n {
				owe := 0
				for p := range s.peers {
					if _, ok := p.outstanding[i]; ok {
						owe++
					}
				}
				if int(s.pk.inflight[i]) != owe {
					t.Errorf("chunk %d: inflight %d, %d circuits owe it", i, s.pk.inflight[i], owe)
				}
			}
		})
	}
}

// TestStealOnlyInEndgame checks that a circuit whose peer lacks what is
// left unrequested takes nothing over until every missing chunk is asked
// for.
func TestStealOnlyInEndgame(t *testing.T) {
	const chunk, n = 16 << 10, 10
	s := stealSwarm(t, n, chunk)
	base := time.Now()
	slow := addCircuit(s, 10e3, bitsOf(n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9), []int{1, 2, 3, 4, 5}, base)
	q := addCircuit(s, 100e3, bitsOf(n, 1, 2, 3, 4, 5), nil, base)
	slow.window, q.window = s.win.max, 4
	if got := s.scheduleN(q, 4); got != 0 || len(slow.outstanding) != 5 {
		t.Fatalf("before the endgame: %d requests taken, the slow circuit owes %d of 5", got, len(slow.outstanding))
	}
	for k, i := range []int{0, 6, 7, 8, 9} {
		slow.outstanding[i] = base.Add(time.Duration(10+k) * time.Millisecond)
		s.pk.inflight[i]++
	}
	if got := s.scheduleN(q, 4); got == 0 {
		t.Fatal("in the endgame the fast circuit took nothing over")
	}
}

// stealSwarm is a swarm of n chunks with no circuit yet.
func stealSwarm(t *testing.T, n, chunk int) *swarm {
	t.Helper()
	sealed := sealBytes(t, "s", make([]byte, n*chunk), chunk)
	return &swarm{desc: sealed.Descriptor, peers: map[*peer]bool{}, pk: newPicker(n, newBitmap(n)), win: tuningFor(chunk)}
}

// addCircuit adds a circuit to s whose peer holds has and owes out, asked
// for in that order from base on.
func addCircuit(s *swarm, rate float64, has bitmap, out []int, base time.Time) *peer {
	p := newPeer(s, nil, "", true, len(s.peers))
	p.rate, p.gotBitfield, p.has, p.window = rate, true, has, 8
	for range 10 {
		p.sample(int64(rate), time.Second)
	}
	for k, i := range out {
		p.outstanding[i] = base.Add(time.Duration(k) * time.Millisecond)
		s.pk.inflight[i]++
	}
	s.peers[p] = true
	return p
}
