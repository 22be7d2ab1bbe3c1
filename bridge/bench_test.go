package bridge

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/hydre-p2p/hydre/bridge/internal/btlab"
)

// TestBenchBridge compares the discreet client with a default-config
// anacrolix client (loopback only) leeching 256 MiB from one aria2 seeder,
// in interleaved pairs (default, discreet, default, discreet, ...) so both
// see the same machine load, and measures the time to the first peer
// through a private DHT with and without the spy finder. Run by `make
// bench` (HYDRE_BENCH=1); HYDRE_BENCH_PAIRS (default 7, at least 5) and
// HYDRE_BENCH_BRIDGE_MIB (default 256) change the run.
func TestBenchBridge(t *testing.T) {
	if os.Getenv("HYDRE_BENCH") != "1" {
		t.Skip("benchmark: set HYDRE_BENCH=1 (make bench)")
	}
	pairs := envInt(t, "HYDRE_BENCH_PAIRS", 7)
	if pairs < 5 {
		t.Fatalf("HYDRE_BENCH_PAIRS=%d: want at least 5 pairs", pairs)
	}
	size := int64(envInt(t, "HYDRE_BENCH_BRIDGE_MIB", 256)) << 20
	const runs = 5 // time-to-first-peer runs
	dir := t.TempDir()
	payload := btlab.NewPayload(t, dir, "bench.bin", size, 9, "", 20)
	port, _ := payload.SeedWithAria2(t)
	tf, mi := payload.Torrent, payload.Info
	seeder := fmt.Sprintf("127.0.0.1:%d", port)

	// Interleaved pairs, the same order each time: each discreet run is
	// compared with the default run just before it, so a change of machine
	// load (other jobs on the shared cores) hits both halves of a pair.
	loadBefore := loadAverage()
	var discreet, normal []time.Duration
	var ratios []float64
	for i := range pairs {
		normal = append(normal, benchNormal(t, tf, seeder))
		discreet = append(discreet, benchDiscreet(t, tf, seeder))
		ratios = append(ratios, float64(discreet[i])/float64(normal[i]))
		t.Logf("pair %d: default %v, discreet %v, ratio %.2f", i, normal[i], discreet[i], ratios[i])
	}

	// Time to first peer through a private DHT of 8 bittorrent-dht nodes
	// that knows one spy node.
	spy := startSpyNode(t, "127.0.0.66", "127.0.0.77:6881")
	var ready dhtReady
	startNode(t, "dht.mjs", &ready, "8",
		fmt.Sprintf("%s:%d", mi.HashInfoBytes().HexString(), port),
		fmt.Sprintf("%s:%d:%x", spy.addr().Addr(), spy.addr().Port(), spy.id))
	boot := []string{fmt.Sprintf("127.0.0.1:%d", ready.Ports[0])}
	var withSpy, withoutSpy []time.Duration
	for range runs {
		withoutSpy = append(withoutSpy, benchFirstPeer(t, mi, boot, true))
		withSpy = append(withSpy, benchFirstPeer(t, mi, boot, false))
	}

	loadAfter := loadAverage()
	md := median(normal)
	dd := median(discreet)
	sorted := slices.Clone(ratios)
	slices.Sort(sorted)
	ratio := sorted[len(sorted)/2]
	q1, q3 := sorted[len(sorted)/4], sorted[(3*len(sorted))/4]
	mbps := func(d time.Duration) float64 { return float64(size) / d.Seconds() / (1 << 20) }
	var b strings.Builder
	fmt.Fprintf(&b, "## Bridge\n\n")
	fmt.Fprintf(&b, "Leech of a %d MiB torrent (1 MiB pieces) from one aria2 %s seeder on 127.0.0.1, %d interleaved pairs (default then discreet, each pair back to back); ", size>>20, aria2Version(), pairs)
	fmt.Fprintf(&b, "the peer is anacrolix/torrent v1.61.0 with its default config made loopback-only (no DHT, no port forwarding).\n\n")
	fmt.Fprintf(&b, "| client | median time | median MiB/s | runs, in order |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| anacrolix default | %v | %.1f | %v |\n", md.Round(time.Millisecond), mbps(md), roundAll(normal))
	fmt.Fprintf(&b, "| hydre bridge (discreet) | %v | %.1f | %v |\n", dd.Round(time.Millisecond), mbps(dd), roundAll(discreet))
	fmt.Fprintf(&b, "\nRatio discreet/default, median of the %d per-pair ratios: **%.2f** (target <= 1.1); spread: min %.2f, quartiles %.2f–%.2f, max %.2f; ratio of the medians %.2f. Per-pair ratios: %s.\n\n",
		pairs, ratio, sorted[0], q1, q3, sorted[len(sorted)-1], float64(dd)/float64(md), fmtRatios(ratios))
	fmt.Fprintf(&b, "Machine: %d CPUs, 1-minute load average %s before the pairs and %s after (other jobs share the machine; a spread wider than the target means the ratio cannot be judged from this run).\n\n",
		runtime.NumCPU(), loadBefore, loadAfter)
	fmt.Fprintf(&b, "Time to first peer connection through a private DHT (8 bittorrent-dht nodes and one spy node on loopback, seeder announced):\n\n")
	fmt.Fprintf(&b, "| spy finder | median | runs |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| off | %v | %v |\n", median(withoutSpy).Round(time.Millisecond), roundAll(withoutSpy))
	fmt.Fprintf(&b, "| on (2 decoy walks first) | %v | %v |\n", median(withSpy).Round(time.Millisecond), roundAll(withSpy))
	fmt.Fprintf(&b, "\nRuns are in order and get slower: bittorrent-dht (k-rpc) ignores BEP 43's read-only flag and keeps each closed look-up socket of the bridge in its routing tables, so later walks wait for more dead nodes (3 s query timeout). Nodes that honour the flag (libtorrent) do not add the bridge at all.\n")
	t.Log("\n" + b.String())
	if out := os.Getenv("HYDRE_BENCH_OUT"); out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "bridge.md"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func benchDiscreet(t *testing.T, tf, seeder string) time.Duration {
	d, _ := benchDiscreetFirst(t, tf, seeder)
	return d
}

// benchDiscreetFirst times one discreet leech of tf from seeder alone, and
// the part of it before the first piece data arrived (a seeder's unchoke
// delay: Transmission unchokes a new peer at its next 10 s rechoke).
func benchDiscreetFirst(t *testing.T, tf, seeder string) (total, first time.Duration) {
	c := newTestClient(t, Config{Logger: testLogger(t), DataDir: t.TempDir()})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	bt, err := c.Add(ctx, tf)
	if err != nil {
		t.Fatal(err)
	}
	bt.AddPeers(seeder)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-bt.Done():
			done = true
		case <-tick.C:
			if first == 0 && c.Counters().BytesDownloaded > 0 {
				first = time.Since(start)
			}
		case <-ctx.Done():
			t.Fatal("discreet bench download timed out")
		}
	}
	total = time.Since(start)
	checkDiscreet(t, c.Counters())
	return total, first
}

func benchNormal(t *testing.T, tf, seeder string) time.Duration {
	cfg := torrent.NewDefaultClientConfig()
	cfg.DataDir = t.TempDir()
	cfg.ListenHost = torrent.LoopbackListenHost
	cfg.ListenPort = 0
	cfg.NoDHT = true
	cfg.NoDefaultPortForwarding = true
	cfg.Slogger = testLogger(t)
	cl, err := torrent.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	mi, err := metainfo.LoadFromFile(tf)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	tt, err := cl.AddTorrent(mi)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(seeder)
	var p int
	fmt.Sscan(port, &p)
	tt.AddPeers([]torrent.PeerInfo{{Addr: &net.TCPAddr{IP: net.ParseIP(host), Port: p}}})
	tt.DownloadAll()
	select {
	case <-tt.Complete().On():
	case <-time.After(5 * time.Minute):
		t.Fatal("default bench download timed out")
	}
	return time.Since(start)
}

func benchFirstPeer(t *testing.T, mi *metainfo.MetaInfo, boot []string, spyOff bool) time.Duration {
	c := newTestClient(t, Config{DataDir: t.TempDir(), DHTBootstrap: boot, Spy: SpyConfig{Disabled: spyOff}, PeerRetry: 200 * time.Millisecond})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	bt, err := c.Add(ctx, "magnet:?xt=urn:btih:"+mi.HashInfoBytes().HexString())
	if err != nil {
		t.Fatal(err)
	}
	defer bt.Drop()
	for c.Counters().BytesIn == 0 {
		if ctx.Err() != nil {
			t.Fatal("no peer found through the dht")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func aria2Version() string {
	b, err := execOutput("aria2c", "--version")
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(b, "\n")
	return strings.TrimPrefix(first, "aria2 version ")
}

func fmtRatios(rs []float64) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmt.Sprintf("%.2f", r)
	}
	return strings.Join(out, ", ")
}

// loadAverage returns the 1-minute load average, or "?" off Linux.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	first, _, _ := strings.Cut(string(b), " ")
	return first
}
