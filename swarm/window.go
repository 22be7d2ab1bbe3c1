package swarm

import "time"

// The request window of a circuit (how many chunks it may owe us) is tuned
// in bytes, not chunks: what keeps a circuit full is the bytes it has in
// flight, whatever the content's chunk size (a power of two from 1 KiB to
// 16 MiB, chosen by whoever shared it). Counted in chunks, a content of
// 64 KiB chunks had a quarter of the bytes in flight of one of 256 KiB: on
// the busy-relays network one seeder gave it 0.30 and 0.32 MiB/s where the
// 256 KiB content got 0.42 and 0.38 in the same run; counted in bytes (and
// 2 MiB to start), 0.46 and 0.31 against 0.39 and 0.27. For the default
// 256 KiB chunks these are the windows hydre was tuned with: 8 chunks to
// start, 2 to 64, a slack of 4, one less per measure.
//
// While a content plays, a window is the least that keeps the player fed,
// counted in requests: its rate over playLatency plus one request, and a
// new circuit starts with playWindowStart (see playLatency). Every byte
// beyond that is on its way ahead of the old place when the player seeks.
const playWindowStart = 2

// windowInitialMax bounds a new circuit's requests when chunks are small:
// a circuit's first requests are still on their way when a player opens or
// seeks, and TestJumpGoesToTheHeadOfTheQueue (16 KiB chunks) found 15-17
// chunks served ahead of the new place with 2 MiB of them, 0-3 with 8.
const windowInitialMax = 8

const (
	windowInitialBytes = 2 << 20   // owed by a new circuit before its rate is known (at most windowInitialMax requests)
	windowMinBytes     = 512 << 10 // the least a circuit may owe
	windowSlackBytes   = 1 << 20   // owed beyond its rate times windowLatency
	windowMaxBytes     = 16 << 20  // the most a circuit may owe
	windowStepBytes    = 256 << 10 // how far a window shrinks per measure
	storeQueueBytes    = 16 << 20  // received, waiting for the disk: no more requests
)

// windowTuning is the request window's bounds in chunks of one content.
type windowTuning struct {
	chunk                          int // chunk size, bytes
	initial, min, slack, max, step int
	storeQueue                     int
}

// tuningFor converts the byte bounds to chunks of chunkSize bytes: at least
// one chunk each, and windows never more than a peer queues for us (a
// request beyond maxRemoteRequests is rejected).
func tuningFor(chunkSize int) windowTuning {
	chunks := func(b int) int { return max(1, b/chunkSize) }
	owed := func(b int) int { return min(maxRemoteRequests, chunks(b)) }
	return windowTuning{chunk: chunkSize,
		initial: min(windowInitialMax, owed(windowInitialBytes)), min: owed(windowMinBytes), slack: owed(windowSlackBytes),
		max: owed(windowMaxBytes), step: owed(windowStepBytes), storeQueue: chunks(storeQueueBytes)}
}

// size returns the window, in chunks, that covers rate bytes/s over latency
// seconds plus slack, within [floor, max] and shrinking by at most step from
// the current window cur.
func (w windowTuning) size(rate, latency float64, slack, floor, step, cur int) int {
	want := int(rate*latency)/w.chunk + slack
	return min(w.max, max(floor, want, cur-step))
}

// tuning overrides constants of the request window in A/B tests (issue
// 27's tuning on the latency network); the zero value keeps them.
type tuning struct {
	windowLatency time.Duration // windowLatency
	slackBytes    int           // windowSlackBytes
}
