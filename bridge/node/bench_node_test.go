package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
	"github.com/hydre-p2p/hydre/bridge/internal/btlab"
	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
	"github.com/hydre-p2p/hydre/swarm"
)

// nodeRun is one user's fetch of a magnet through a hidden bridge node.
type nodeRun struct {
	leech  time.Duration // request to the node's leech complete
	link   time.Duration // request to the link in the user's hands
	first  time.Duration // request to the first 2 MiB read through the link (Engine.Open)
	whole  time.Duration // request to the file verified on the user's disk
	stream time.Duration // stream request to the first 2 MiB read (a separate request)

	// Where the time to first goes, from the request: the node's content
	// reachable (its onion descriptor uploaded), the user's first
	// connection to it and his first verified chunk.
	published, conn, chunk time.Duration
}

// milestones records, from start, when e's first content matching want
// was first seen in e's events; read it after stop.
func milestones(e *swarm.Engine, start time.Time, want func(swarm.Status) bool) (stop func() time.Duration) {
	events, unsubscribe := e.Subscribe()
	var at time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range events {
			if at == 0 && want(ev.Status) {
				at = time.Since(start)
			}
		}
	}()
	return func() time.Duration {
		unsubscribe()
		<-done
		return at
	}
}

// TestBenchBridgeNode measures what a user waits for when a hidden bridge
// node fetches a torrent for him, on the private Tor network (relays
// unlimited) with an aria2 seeder on loopback limited to a slow swarm's
// rate: the node's own leech time, the time until the user holds the hydre
// link, until he has read the first 2 MiB through it (the live content, over
// Tor), the end-to-end time of 'hydre get MAGNET --bridge ONION', and, as a
// separate request of a fresh node, the time to the first 2 MiB of the
// stream mode. Each run starts a fresh node (no cache). Run by `make bench`
// (HYDRE_BENCH=1); HYDRE_BENCH_BRIDGE_NODE_MIB (default 64),
// HYDRE_BENCH_BRIDGE_NODE_SEED_MIBS (the seeder's upload limit in MiB/s,
// default 4) and HYDRE_BENCH_RUNS (default 3) change it.
func TestBenchBridgeNode(t *testing.T) {
	if os.Getenv("HYDRE_BENCH") != "1" {
		t.Skip("benchmark: set HYDRE_BENCH=1 (make bench)")
	}
	benchBridgeNode(t, 0)
}

// TestBenchBridgeNodeLatency is TestBenchBridgeNode on a private network
// whose every link between tors carries testnet.DefaultLatency each way
// (HYDRE_BENCH_LATENCY overrides it); writes
// $HYDRE_BENCH_OUT/bridge-node-latency.md.
func TestBenchBridgeNodeLatency(t *testing.T) {
	if os.Getenv("HYDRE_BENCH") != "1" {
		t.Skip("benchmark: set HYDRE_BENCH=1 (make bench)")
	}
	lat := testnet.DefaultLatency
	if d, err := time.ParseDuration(os.Getenv("HYDRE_BENCH_LATENCY")); err == nil && d > 0 {
		lat = d
	}
	benchBridgeNode(t, lat)
}

// benchBridgeNode measures a bridge node on a private network with the
// given latency (0: testkit's shared network, none).
func benchBridgeNode(t *testing.T, latency time.Duration) {
	size := int64(btlab.EnvInt(t, "HYDRE_BENCH_BRIDGE_NODE_MIB", 64)) << 20
	runs := btlab.EnvInt(t, "HYDRE_BENCH_RUNS", 3)
	seedRate := btlab.EnvInt(t, "HYDRE_BENCH_BRIDGE_NODE_SEED_MIBS", 4)
	dir := t.TempDir()
	seedDir := filepath.Join(dir, "seed")
	sum := btlab.WritePayload(t, filepath.Join(seedDir, "film.bin"), size, 11)
	tf := filepath.Join(dir, "film.torrent")
	btlab.MakeTorrent(t, filepath.Join(seedDir, "film.bin"), tf, "", 20)
	port := btlab.FreePort(t)
	aria := btlab.StartAria2Seeder(t, tf, seedDir, port, fmt.Sprintf("--max-overall-upload-limit=%dM", seedRate))
	aria.Out.Wait(t, 120*time.Second, func(l string) bool { return strings.Contains(l, "listening on TCP port") })
	magnet := "magnet:?xt=urn:btih:" + mustInfoHash(t, tf) + "&dn=film.bin"
	peer := fmt.Sprintf("127.0.0.1:%d", port)

	var nw *testnet.Network
	if latency == 0 {
		nw = testkit.Shared(t, testnet.Options{})
	} else {
		testkit.SkipWithoutTor(t)
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		var err error
		nw, err = testnet.Start(ctx, testnet.Options{Dir: t.TempDir(), Latency: latency})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nw.Close() })
	}
	bridgeTor, userTor := testkit.StartTor(t, nw), testkit.StartTor(t, nw)
	var rs []nodeRun
	for r := range runs {
		run := benchNodeOnce(t, bridgeTor, userTor, peer, magnet, sum, size)
		t.Logf("run %d: leech %v, link %v, first 2 MiB through it %v, whole %v, first 2 MiB of a stream %v; content reachable %v, user's first connection %v, first verified chunk %v",
			r+1, run.leech, run.link, run.first, run.whole, run.stream, run.published, run.conn, run.chunk)
		rs = append(rs, run)
	}
	med := func(f func(nodeRun) time.Duration) time.Duration {
		var ds []time.Duration
		for _, r := range rs {
			ds = append(ds, f(r))
		}
		return btlab.Median(ds)
	}
	all := func(f func(nodeRun) time.Duration) string {
		var ds []time.Duration
		for _, r := range rs {
			ds = append(ds, f(r))
		}
		return fmt.Sprint(btlab.RoundAll(ds))
	}
	leech, link, whole, stream := med(func(r nodeRun) time.Duration { return r.leech }), med(func(r nodeRun) time.Duration { return r.link }),
		med(func(r nodeRun) time.Duration { return r.whole }), med(func(r nodeRun) time.Duration { return r.stream })
	first := med(func(r nodeRun) time.Duration { return r.first })
	var b strings.Builder
	file := "bridge-node.md"
	if latency == 0 {
		fmt.Fprintf(&b, "## Bridge node\n\n")
	} else {
		file = "bridge-node-latency.md"
		fmt.Fprintf(&b, "## Bridge node, latency %v\n\nThe Bridge node section's measure again, on a private network where every link "+
			"between two tors carries %v each way (testnet Latency; see the Latency section).\n\n", latency, latency)
	}
	fmt.Fprintf(&b, "A user fetches a %d MiB torrent (1 MiB pieces) through a hidden bridge node: the node leeches it from one aria2 seeder on 127.0.0.1 "+
		"limited to %d MiB/s (a slow swarm; given as the operator's peer, no DHT), answers with a hydre link as soon as it has the metadata and the content's onion service is up, "+
		"and serves each chunk of the live content as the pieces under it arrive; the user downloads it over the private Tor "+
		"network (3 authorities + 2 relays, unlimited; node and user on their own tor). A fresh node each run (nothing cached); medians of %d runs.\n\n", size>>20, seedRate, runs)
	fmt.Fprintf(&b, "| from the request to | median | runs | vs the node's leech |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| the node's leech complete | %v | %s | 1.00× |\n", leech.Round(time.Millisecond), all(func(r nodeRun) time.Duration { return r.leech }))
	fmt.Fprintf(&b, "| the link in the user's hands | %v | %s | %.2f× |\n", link.Round(time.Millisecond), all(func(r nodeRun) time.Duration { return r.link }), link.Seconds()/leech.Seconds())
	fmt.Fprintf(&b, "| the first 2 MiB read through the link (over hydre) | %v | %s | %.2f× |\n", first.Round(time.Millisecond), all(func(r nodeRun) time.Duration { return r.first }), first.Seconds()/leech.Seconds())
	fmt.Fprintf(&b, "| the file verified on the user's disk (`hydre get MAGNET --bridge ONION`) | %v | %s | %.2f× |\n", whole.Round(time.Millisecond), all(func(r nodeRun) time.Duration { return r.whole }), whole.Seconds()/leech.Seconds())
	fmt.Fprintf(&b, "| the first 2 MiB of the stream mode (a fresh node) | %v | %s | %.2f× |\n", stream.Round(time.Millisecond), all(func(r nodeRun) time.Duration { return r.stream }), stream.Seconds()/leech.Seconds())
	fmt.Fprintf(&b, "\nThe link comes before any data (the live content is named by its signing key, not by a hash of data not yet leeched; "+
		"the time includes reaching the fresh node's onion service, retried every 2 s). The user's download follows the node's leech, "+
		"so the whole file lands a fraction of a second after the leech ends instead of a whole hydre download after it. Each content "+
		"has an onion service of its own (unlinkable); the node hands a new content an identity its engine published ahead of time "+
		"(a spare, docs/protocol.md W1), so the link is not held back for a descriptor upload and answers at its first dial. The first "+
		"megabytes through the link still come later than through the stream mode: after the link, the user's tor reaches a new onion "+
		"service (descriptor, introduction, rendezvous: about 5 s here), where the stream comes over the connection to the node.\n")
	fmt.Fprintf(&b, "\nThe first 2 MiB through the link against the stream mode's, ratio of the medians: **%.2f×** (goal <= 1.5×).\n",
		first.Seconds()/stream.Seconds())
	t.Log("\n" + b.String())
	if out := os.Getenv("HYDRE_BENCH_OUT"); out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, file), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// benchNodeOnce runs a fresh node and a fresh user engine for one fetch,
// then a second fresh node for one stream.
func benchNodeOnce(t *testing.T, bridgeTor, userTor onion.Transport, peer, magnet string, sum [32]byte, size int64) nodeRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var r nodeRun
	node, c, e, stop := startBenchNode(t, ctx, bridgeTor, peer)
	start := time.Now()
	leeched := watchLeech(ctx, c, size, start)
	published := milestones(e, start, func(st swarm.Status) bool { return st.Reachable })
	link, err := requestRetry(ctx, userTor, node.Address(), magnet)
	if err != nil {
		t.Fatal(err)
	}
	r.link = time.Since(start)
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	user := openEngine(t, userTor, "user")
	conn := milestones(user, start, func(st swarm.Status) bool { return st.Connections > 0 })
	chunk := milestones(user, start, func(st swarm.Status) bool { return st.Verified > 0 })
	if _, err := user.Get(ctx, link, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	f, err := user.Open(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(f, make([]byte, 2<<20)); err != nil {
		t.Fatal(err)
	}
	r.first = time.Since(start)
	f.Close()
	for {
		st, err := user.Status(l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == swarm.StateSeeding || st.State == swarm.StateDone { // at its final name
			r.whole = time.Since(start)
			if btlab.FileSHA(t, st.Path) != sum {
				t.Fatal("the file fetched through the bridge node differs")
			}
			break
		}
		if st.State == swarm.StateFailed || ctx.Err() != nil {
			t.Fatalf("user fetch: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.leech = <-leeched
	r.published, r.conn, r.chunk = published(), conn(), chunk()
	checkDiscreet(t, c.Counters())
	stop()

	node, _, _, stop = startBenchNode(t, ctx, bridgeTor, peer)
	defer stop()
	start = time.Now()
	s, err := openStreamRetry(ctx, userTor, node.Address(), magnet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]byte, 2<<20)
	if _, err := io.ReadFull(s, buf); err != nil {
		t.Fatal(err)
	}
	r.stream = time.Since(start)
	return r
}

// startBenchNode starts a hidden bridge node with its own client and
// engine, fetching from peer only; stop ends it.
func startBenchNode(t *testing.T, ctx context.Context, tr onion.Transport, peer string) (*Node, *bridge.Client, *swarm.Engine, func()) {
	t.Helper()
	dir := t.TempDir()
	e, err := swarm.Open(context.Background(), swarm.Config{DataDir: filepath.Join(dir, "engine"), Transport: tr,
		DownloadDir: filepath.Join(dir, "dl"), Reshare: true, Logger: btlab.Logger(t).With("engine", "bridge")})
	if err != nil {
		t.Fatal(err)
	}
	node, stopNode := serveNode(t, ctx, Config{Leech: bridge.Config{DataDir: filepath.Join(dir, "data")}, Engine: e, Transport: tr, StateDir: filepath.Join(dir, "node"),
		Logger: btlab.Logger(t), Peers: []string{peer}})
	return node, node.Client(), e, func() {
		stopNode()
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	}
}

// watchLeech reports how long after start c's torrent had all size bytes.
func watchLeech(ctx context.Context, c *bridge.Client, size int64, start time.Time) <-chan time.Duration {
	out := make(chan time.Duration, 1)
	go func() {
		for ctx.Err() == nil {
			done := leechedBytes(c)
			if done >= size {
				out <- time.Since(start)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		out <- 0
	}()
	return out
}

// openStreamRetry is OpenStream, retried while a fresh onion service is not
// yet reachable.
func openStreamRetry(ctx context.Context, tr onion.Transport, addr, magnet string) (*Stream, error) {
	for attempt := 0; ; attempt++ {
		s, err := OpenStream(ctx, tr, addr, magnet)
		if err == nil || attempt == 5 || !errors.Is(err, ErrUnreachable) {
			return s, err
		}
		time.Sleep(2 * time.Second)
	}
}

// requestRetry is Request, retried while a fresh onion service is not yet
// reachable.
func requestRetry(ctx context.Context, tr onion.Transport, addr, magnet string) (string, error) {
	for attempt := 0; ; attempt++ {
		link, err := singleLink(Request(ctx, tr, addr, magnet, nil))
		if err == nil || attempt == 5 || !errors.Is(err, ErrUnreachable) {
			return link, err
		}
		time.Sleep(2 * time.Second)
	}
}
