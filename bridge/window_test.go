package bridge

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestTransmissionSeederNoStall leeches 40 MiB from a Transmission 3.00
// seeder alone with the stall watchdog out of the way: every request must
// be one Transmission answers, so the download completes without a peer
// dropped (it stopped for good at 16,744,448 bytes when the library filled
// the window to Transmission's reqq).
func TestTransmissionSeederNoStall(t *testing.T) {
	dir := t.TempDir()
	seedDir := filepath.Join(dir, "seed")
	const size = 40<<20 + 777
	sum := writePayload(t, filepath.Join(seedDir, "big.bin"), size, 2)
	tf := filepath.Join(dir, "big.torrent")
	makeTorrent(t, filepath.Join(seedDir, "big.bin"), tf, "", 18)
	port := freePort(t)
	trd := startTransmission(t, filepath.Join(dir, "tr"), port)
	trd.Add(t, tf, seedDir)
	trd.WaitField(t, 60*time.Second, "Percent Done", func(v string) bool { return v == "100%" })

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
	waitDone(t, ctx, bt, filepath.Join(c.cfg.DataDir, "big.bin"), sum)
	cs := c.Counters()
	if cs.StalledPeersDropped != 0 || cs.RejectsReceived != 0 {
		t.Errorf("transmission: %d peers dropped as stalled, %d rejects: want none", cs.StalledPeersDropped, cs.RejectsReceived)
	}
	checkDiscreet(t, cs)
}

func TestRequestWindow(t *testing.T) {
	for _, tc := range []struct{ reqq, want int }{{0, 0}, {1, 1}, {2, 1}, {64, 63}, {250, 249}, {500, 250}, {512, 250}, {1 << 30, 250}, {-5, 0}} {
		if got := requestWindow(tc.reqq); got != tc.want {
			t.Errorf("requestWindow(%d) = %d, want %d", tc.reqq, got, tc.want)
		}
	}
}
