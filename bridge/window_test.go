package bridge

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/bridge/internal/btlab"
)

// TestTransmissionSeederNoStall leeches 40 MiB from a Transmission 3.00
// seeder alone with the stall watchdog out of the way: every request must
// be one Transmission answers, so the download completes without a peer
// dropped and keeps moving (it stopped for good at 16,744,448 bytes when
// the library filled the window to Transmission's reqq). A stretch of
// stallLimit without piece data fails; the timing is logged, not checked.
func TestTransmissionSeederNoStall(t *testing.T) {
	dir := t.TempDir()
	const size = 40<<20 + 777
	payload := btlab.NewPayload(t, dir, "big.bin", size, 2, "", 18)
	port, _ := payload.SeedWithTransmission(t)
	sum, tf := payload.Sum, payload.Torrent

	c := newTestClient(t, Config{StallTimeout: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bt, err := c.Add(ctx, tf)
	if err != nil {
		t.Fatal(err)
	}
	if err := bt.AddPeers(fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		t.Fatal(err)
	}
	lt := waitProgress(t, ctx, c, bt, stallLimit)
	t.Logf("from transmission: %v", lt)
	waitDone(t, ctx, bt, filepath.Join(c.cfg.DataDir, "big.bin"), sum)
	cs := c.Counters()
	if cs.StalledPeersDropped != 0 || cs.RejectsReceived != 0 {
		t.Errorf("transmission: %d peers dropped as stalled, %d rejects: want none", cs.StalledPeersDropped, cs.RejectsReceived)
	}
	checkDiscreet(t, cs)
}

// stallLimit is how long a leech from one Transmission seeder may go
// without piece data before a test calls it stalled: Transmission unchokes
// a new peer at its next rechoke (every 10 s) and then sends every 500 ms.
const stallLimit = 20 * time.Second

// leechTiming is when a leech's piece data came.
type leechTiming struct {
	size       int64
	first      time.Duration // from waitProgress's call to the first piece data
	total      time.Duration // to the torrent's completion
	longestGap time.Duration // the longest stretch without piece data after the first
}

func (l leechTiming) String() string {
	data := l.total - l.first
	return fmt.Sprintf("%.1f MiB in %v (first piece data after %v, then %v: %.1f MiB/s; longest gap %v)",
		float64(l.size)/(1<<20), l.total.Round(time.Millisecond), l.first.Round(time.Millisecond),
		data.Round(time.Millisecond), float64(l.size)/(1<<20)/max(data.Seconds(), 1e-3), l.longestGap.Round(time.Millisecond))
}

// waitProgress polls c's piece bytes until bt completes and fails the
// test when none came for stall (before the first data too).
func waitProgress(t *testing.T, ctx context.Context, c *Client, bt *Torrent, stall time.Duration) leechTiming {
	t.Helper()
	start := time.Now()
	var lt leechTiming
	last, lastAt := int64(0), start
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-bt.Done():
			lt.total = time.Since(start)
			lt.size = c.Counters().BytesDownloaded
			return lt
		case <-ctx.Done():
			t.Fatalf("leech not done: %d of %d bytes", bt.BytesCompleted(), bt.Length())
		case now := <-tick.C:
			n := c.Counters().BytesDownloaded
			if n != last {
				if last == 0 {
					lt.first = now.Sub(start)
				} else {
					lt.longestGap = max(lt.longestGap, now.Sub(lastAt))
				}
				last, lastAt = n, now
				continue
			}
			if now.Sub(lastAt) > stall {
				t.Fatalf("stalled: no piece data for %v at %d of %d bytes (%d verified)", stall, n, bt.Length(), bt.BytesCompleted())
			}
		}
	}
}

func TestRequestWindow(t *testing.T) {
	for _, tc := range []struct{ reqq, want int }{{0, 0}, {1, 1}, {2, 1}, {64, 63}, {250, 249}, {500, 499}, {512, 511}, {513, 511}, {2000, 511}, {1 << 30, 511}, {-5, 0}} {
		if got := requestWindow(tc.reqq); got != tc.want {
			t.Errorf("requestWindow(%d) = %d, want %d", tc.reqq, got, tc.want)
		}
	}
}
