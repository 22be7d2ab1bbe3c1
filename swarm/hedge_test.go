package swarm

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// TestHedge checks what a reader's jump asks for: the chunk at the new
// place of every circuit, then one following chunk of each circuit, fastest
// first, skipping chunks held or already asked for and circuits that lack
// the next one.
func TestHedge(t *testing.T) {
	const n, start = 16, 4
	tests := []struct {
		name  string
		have  []int   // verified before the jump
		asked []int   // owed by the slowest circuit before the jump
		lacks [][]int // chunks each circuit's peer does not hold, fastest first
		want  [][]int // what each circuit owes after, fastest first
	}{
		{name: "head everywhere, the next ones spread",
			want: [][]int{{4, 5}, {4, 6}, {4, 7}, {4, 8}}},
		{name: "held and asked chunks are skipped",
			have: []int{5}, asked: []int{6},
			want: [][]int{{4, 7}, {4, 8}, {4}, {4, 6}}},
		{name: "a circuit without the next chunk leaves it to the next circuit",
			lacks: [][]int{{5}, nil, nil, nil},
			want:  [][]int{{4}, {4, 5}, {4, 6}, {4, 7}}},
		{name: "a circuit without the head only gets a following chunk",
			lacks: [][]int{nil, {4}, nil, nil},
			want:  [][]int{{4, 5}, {6}, {4, 7}, {4, 8}}},
		{name: "head already verified",
			have: []int{4},
			want: [][]int{{5}, {6}, {7}, {8}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := stealSwarm(t, n, 1024)
			for _, i := range tt.have {
				s.pk.markHave(i)
			}
			var circs []*peer
			for k, rate := range []float64{400, 300, 200, 100} {
				has := newBitmap(n)
				for i := range n {
					has.set(i)
				}
				if k < len(tt.lacks) {
					for _, i := range tt.lacks[k] {
						has[i/8] &^= 0x80 >> (i % 8)
					}
				}
				var out []int
				if k == 3 {
					out = tt.asked
				}
				circs = append(circs, addCircuit(s, rate, has, out, time.Now()))
			}
			s.hedge(start)
			for k, p := range circs {
				got := slices.Sorted(maps.Keys(p.outstanding))
				if !slices.Equal(got, tt.want[k]) {
					t.Errorf("circuit %d (rate %.0f) owes %v, want %v", k, p.rate, got, tt.want[k])
				}
			}
			for i := range n {
				c := 0
				for _, p := range circs {
					if _, ok := p.outstanding[i]; ok {
						c++
					}
				}
				if int(s.pk.inflight[i]) != c {
					t.Errorf("chunk %d: picker counts %d requests, circuits owe %d", i, s.pk.inflight[i], c)
				}
			}
		})
	}
}
