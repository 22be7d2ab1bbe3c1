package stream

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
	"github.com/hydre-p2p/hydre/swarm"
)

// limitedNet is the private network of these tests: middle relays at
// 1 MiB/s, guards fast, as on the real network.
func limitedNet(t testing.TB) *testnet.Network {
	return testkit.Shared(t, testnet.Options{RelayBandwidth: 1 << 20, LimitMiddlesOnly: true})
}

func needPrograms(t testing.TB, progs ...string) {
	t.Helper()
	for _, p := range progs {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed: required in CI", p)
			}
			t.Skipf("%s is not installed (scripts/deps.sh)", p)
		}
	}
}

// TestTorPlayers streams videos from a seeder over the private Tor network
// with rate-limited middle relays, into real players: ffprobe reads the
// duration and codecs once a small part has arrived, ffmpeg decodes a frame
// at 75% long before the download gets there, and mpv plays a few seconds;
// with the moov atom at the start of the file and at its end.
func TestTorPlayers(t *testing.T) {
	needPrograms(t, "ffmpeg", "ffprobe", "mpv")
	nw := limitedNet(t)
	seeder := openEngine(t, testkit.StartTor(t, nw), "seeder")
	leechTor := testkit.StartTor(t, nw)
	for _, m := range []media{{Seconds: 160, Mbps: 6, FastStart: true}, {Seconds: 160, Mbps: 6}} {
		t.Run(m.name(), func(t *testing.T) {
			path := makeMedia(t, m)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			size := fi.Size()
			leech := openEngine(t, leechTor, "leech")
			start := time.Now()
			id := shareAndGet(t, seeder, leech, path)
			s := startServer(t, leech)
			u, err := s.URL(id)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()

			p, err := ffprobe(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := verified(t, leech, id)
			t.Logf("ffprobe: %.1fs %v after %v, %.1f%% verified", p.Duration, p.Codecs,
				time.Since(start).Round(time.Millisecond), pct(v, size))
			if p.Duration < float64(m.Seconds)-1 || !slices.Contains(p.Codecs, "h264") || !slices.Contains(p.Codecs, "aac") {
				t.Errorf("ffprobe: duration %.1fs, codecs %v; want %ds, h264 and aac", p.Duration, p.Codecs, m.Seconds)
			}
			if v > size/5 {
				t.Errorf("ffprobe answered only once %.1f%% had arrived, want < 20%%", pct(v, size))
			}

			at := 0.75 * float64(m.Seconds)
			t0 := time.Now()
			got, err := decodeFrame(ctx, u, at)
			if err != nil {
				t.Fatal(err)
			}
			v, _ = verified(t, leech, id)
			t.Logf("ffmpeg: frame at %.0fs decoded in %v, %.1f%% verified", at, time.Since(t0).Round(time.Millisecond), pct(v, size))
			if v > size/2 {
				t.Errorf("the frame at 75%% came only once %.1f%% had arrived, want < 50%%", pct(v, size))
			}

			if want, err := decodeFrame(ctx, path, at); err != nil || got != want {
				t.Errorf("frame at %.0fs over the stream: %q, from the file: %q (%v)", at, got, want, err)
			}

			t0 = time.Now()
			if err := playMPV(ctx, u, 5, 0); err != nil {
				t.Fatal(err)
			}
			v, _ = verified(t, leech, id)
			t.Logf("mpv: 5 s played in %v, %.1f%% verified", time.Since(t0).Round(time.Millisecond), pct(v, size))
			t0 = time.Now()
			if err := playMPV(ctx, u, 3, 0.5*float64(m.Seconds)); err != nil {
				t.Fatal(err)
			}
			t.Logf("mpv: 3 s played from 50%% in %v", time.Since(t0).Round(time.Millisecond))
			if err := leech.Remove(id, true); err != nil {
				t.Error(err)
			}
		})
	}
}

func pct(v, size int64) float64 { return float64(v) * 100 / float64(max(size, 1)) }

// waitDone polls until id is complete on e.
func waitDone(t testing.TB, e *swarm.Engine, id hcrypto.ContentID, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		st, err := e.Status(id)
		if err == nil && st.Done() {
			return
		}
		if err == nil && st.State == swarm.StateFailed {
			t.Fatalf("download failed: %s", st.Err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("download not complete in %v: %+v", d, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
