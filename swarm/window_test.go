package swarm

import "testing"

func TestTuningFor(t *testing.T) {
	tests := []struct {
		chunk int
		want  windowTuning
	}{
		// The default chunk size keeps the windows hydre was measured with.
		{256 << 10, windowTuning{chunk: 256 << 10, initial: 8, min: 2, slack: 4, max: 64, step: 1, storeQueue: 64}},
		{64 << 10, windowTuning{chunk: 64 << 10, initial: 8, min: 8, slack: 16, max: 128, step: 4, storeQueue: 256}},
		{1 << 10, windowTuning{chunk: 1 << 10, initial: 8, min: 128, slack: 128, max: 128, step: 128, storeQueue: 16384}},
		{16 << 20, windowTuning{chunk: 16 << 20, initial: 1, min: 1, slack: 1, max: 1, step: 1, storeQueue: 1}},
	}
	for _, tt := range tests {
		if got := tuningFor(tt.chunk); got != tt.want {
			t.Errorf("tuningFor(%d) = %+v, want %+v", tt.chunk, got, tt.want)
		}
	}
}

// TestWindowBytesInFlight checks that a circuit is allowed the same bytes
// in flight whatever the chunk size, wherever no bound in chunks applies.
func TestWindowBytesInFlight(t *testing.T) {
	big, small := tuningFor(256<<10), tuningFor(64<<10)
	for _, rate := range []float64{20e3, 60e3, 100e3, 400e3, 1e6} {
		b := big.size(rate, 3, big.slack, big.min, big.step, 0) * big.chunk
		s := small.size(rate, 3, small.slack, small.min, small.step, 0) * small.chunk
		// The small chunks round down by less than one big chunk.
		if s < b || s-b >= big.chunk {
			t.Errorf("rate %.0f B/s: %d bytes in flight with 256 KiB chunks, %d with 64 KiB", rate, b, s)
		}
	}
}

func TestWindowSize(t *testing.T) {
	w := tuningFor(256 << 10)
	tests := []struct {
		name                    string
		rate, latency           float64
		slack, floor, step, cur int
		want                    int
	}{
		{"rate over latency plus slack", 1 << 20, 3, 4, 2, 1, 0, 16},
		{"idle: the floor", 0, 3, 0, 2, 1, 0, 2},
		{"shrinks one step at a time", 0, 3, 4, 2, 1, 30, 29},
		{"shrinks at once", 0, 1, 1, 1, w.max, 30, 1},
		{"capped", 100 << 20, 3, 4, 2, 1, 0, w.max},
	}
	for _, tt := range tests {
		if got := w.size(tt.rate, tt.latency, tt.slack, tt.floor, tt.step, tt.cur); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
