package swarm

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestBenchSwarm measures whole-system download throughput on private Tor
// networks (HYDRE_BENCH=1; writes $HYDRE_BENCH_OUT/swarm.md):
//  1. one seeder, relays unlimited: hydre (1 and N circuits) against
//     onionshare-cli and curl fetching from an HTTP server, through the same
//     tors, interleaved;
//  2. hydre with 1, 2 and 4 seeders, and curl for reference, where the
//     network limits: middle relays at 1 MiB/s (guards fast, as on the real
//     network), idle and then busy with other users' downloads, then
//     seeders' uplinks at 1 MiB/s;
//  3. a crowd on one seeder: how soon a downloader that comes after four
//     others have taken its slots gets data, against OnionShare;
//  4. peak memory of a seeder serving 2 GiB to 4 downloaders, and of them.
//
// For experiments, HYDRE_BENCH_SWARM_SKIP_UNLIMITED, _LIMITED, _CROWD and
// _MEMORY skip a part, HYDRE_BENCH_LIMITED_ONLY keeps the limited models whose
// title contains it, and HYDRE_BENCH_LIMITED_MIB sets their file size.
func TestBenchSwarm(t *testing.T) {
	if os.Getenv("HYDRE_BENCH") != "1" {
		t.Skip("whole-system benchmark: set HYDRE_BENCH=1 (make bench)")
	}
	testkit.SkipWithoutTor(t)
	runs := envInt("HYDRE_BENCH_RUNS", 3)
	var md strings.Builder
	fmt.Fprintf(&md, "## Swarm\n\n")
	// Each part is a subtest, so that its network and nodes stop when it
	// ends: left to the end of the whole test, the parts' networks (57 tors
	// during the third part) kept the machine at a load average of 30-40,
	// and the later parts measured the CPU rather than the network.
	part := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	if os.Getenv("HYDRE_BENCH_SWARM_SKIP_UNLIMITED") == "" {
		part("unlimited", func(t *testing.T) { benchUnlimited(t, &md, runs) })
	}
	if os.Getenv("HYDRE_BENCH_SWARM_SKIP_LIMITED") == "" {
		for _, lm := range limitedModels {
			if lm.runs(os.Getenv("HYDRE_BENCH_LIMITED_ONLY")) {
				part(lm.title, func(t *testing.T) { benchLimited(t, &md, runs, lm) })
			}
		}
	}
	if os.Getenv("HYDRE_BENCH_SWARM_SKIP_CROWD") == "" {
		part("crowd", func(t *testing.T) { benchCrowd(t, &md, runs) })
	}
	if os.Getenv("HYDRE_BENCH_SWARM_SKIP_MEMORY") == "" {
		part("memory", func(t *testing.T) { benchMemory(t, &md) })
	}
	t.Log("\n" + md.String())
	if dir := os.Getenv("HYDRE_BENCH_OUT"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "swarm.md"), []byte(md.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func startNetwork(t *testing.T, opts testnet.Options) *testnet.Network {
	t.Helper()
	opts.Dir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	nw, err := testnet.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close() })
	return nw
}

const mib = 1 << 20

// series collects throughputs in MiB/s.
type series map[string][]float64

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtRuns(xs []float64) string {
	var p []string
	for _, x := range xs {
		p = append(p, fmt.Sprintf("%.2f", x))
	}
	return strings.Join(p, ", ")
}

// hydreFetch downloads link with a fresh engine on tor and returns MiB/s.
func hydreFetch(t *testing.T, tor onion.Transport, link string, size int64, want []byte, circuits int) float64 {
	t.Helper()
	nd := torNode(t, tor, "bench-get")
	nd.cfg.CircuitsPerPeer = circuits
	nd.close()
	nd.open0()
	start := time.Now()
	st := nd.get(link)
	done := nd.waitDone(st.ID, 20*time.Minute)
	el := time.Since(start)
	checkFile(t, done.Path, want)
	if c, err := nd.e.get(st.ID); err == nil {
		t.Logf("hydre %d circuits/peer: %.2f MiB/s, %.1f%% of the file received twice", nd.e.cfg.CircuitsPerPeer,
			float64(size)/mib/el.Seconds(), 100*float64(c.duplicate.Load())/float64(size))
	}
	nd.close()
	os.RemoveAll(nd.dl)
	return float64(size) / mib / el.Seconds()
}

// open0 opens the engine without memnet (tor transports).
func (nd *node) open0() {
	nd.t.Helper()
	e, err := Open(context.Background(), nd.cfg)
	if err != nil {
		nd.t.Fatal(err)
	}
	nd.e = e
}

// httpOnion serves dir over HTTP (with Range) behind an onion service of tor.
func httpOnion(t *testing.T, tor onion.Transport, dir string) string {
	t.Helper()
	l, err := tor.Listen(context.Background(), onion.ServiceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close(); l.Close() })
	host, _, _ := strings.Cut(l.Address(), ":")
	_, port, _ := strings.Cut(l.Address(), ":")
	return "http://" + host + ":" + port
}

// warmUp has tor open one connection to each onion address (host:port or
// an http URL) and close it, so that no measured client pays for tor's first
// descriptor fetches: on the busy network, the first connection of a fresh
// tor once took 43 s where later ones take one or two.
func warmUp(t *testing.T, tor onion.Transport, addrs ...string) {
	t.Helper()
	for i, a := range addrs {
		if u, err := url.Parse(a); err == nil && u.Scheme == "http" {
			a = u.Host
			if u.Port() == "" {
				a += ":80"
			}
		}
		var err error
		for try := range warmUpTries {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			var c net.Conn
			c, err = tor.Dial(ctx, a, onion.DialOptions{Isolation: fmt.Sprintf("warm-up-%d-%d", i, try)})
			cancel()
			if err == nil {
				c.Close()
				break
			}
			// A rendezvous fails now and then on the busy network ("general
			// SOCKS server failure"); the warm-up is untimed, so try again
			// rather than lose the whole bench.
			t.Logf("warm-up %d, try %d: %v", i, try+1, err)
		}
		if err != nil {
			t.Fatalf("warm-up: %v", err)
		}
	}
}

// warmUpTries is how many times warmUp dials an address before it gives up.
const warmUpTries = 3

// curlFetch downloads url through tor's SOCKS port on a fresh circuit and
// returns MiB/s, checking the size.
func curlFetch(t *testing.T, socks, url string, size int64, run int) float64 {
	t.Helper()
	out := filepath.Join(t.TempDir(), "curl.out")
	cmd := exec.Command("curl", "-sS", "--fail", "--max-time", "1800", "--socks5-hostname", socks,
		"--proxy-user", fmt.Sprintf("bench%d:x", run), "-o", out, "-w", "%{size_download} %{time_total}", url)
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl %s: %v", url, err)
	}
	var n int64
	var secs float64
	fmt.Sscanf(string(b), "%d %f", &n, &secs)
	if n != size {
		t.Fatalf("curl got %d bytes, want %d", n, size)
	}
	os.Remove(out)
	return float64(size) / mib / secs
}

// curlRanges downloads want from urls (copies of one file) as
// parts byte ranges per URL, each by its own curl on its own isolated circuit,
// all at once, checks every byte and returns MiB/s over the whole. It measures
// what the network gives a client that opens as many circuits as hydre does,
// without hydre.
func curlRanges(t *testing.T, socks string, urls []string, parts int, want []byte, run int) float64 {
	t.Helper()
	dir := t.TempDir()
	n := len(urls) * parts
	size := int64(len(want))
	type result struct {
		i   int
		err error
	}
	done := make(chan result, n)
	start := time.Now()
	for i := range n {
		from, to := size*int64(i)/int64(n), size*int64(i+1)/int64(n)-1
		out := filepath.Join(dir, strconv.Itoa(i))
		go func() {
			// A rendezvous sometimes fails on the private network (SOCKS
			// error 6, curl exit 97); a client would try again, on a new
			// circuit, and the time counts.
			var err error
			for try := range 3 {
				cmd := exec.Command("curl", "-sS", "--fail", "--max-time", "1800", "--socks5-hostname", socks,
					"--proxy-user", fmt.Sprintf("ranges%d-%d-%d:x", run, i, try), "-r", fmt.Sprintf("%d-%d", from, to), "-o", out, urls[i%len(urls)])
				var b []byte
				if b, err = cmd.CombinedOutput(); err == nil {
					break
				}
				err = fmt.Errorf("curl part %d: %w: %s", i, err, b)
			}
			if err == nil {
				if got, rerr := os.ReadFile(out); rerr != nil || !bytes.Equal(got, want[from:to+1]) {
					err = fmt.Errorf("curl part %d: %d bytes, not bytes %d-%d of the file (%v)", i, len(got), from, to, rerr)
				}
			}
			done <- result{i, err}
		}()
	}
	for range n {
		if r := <-done; r.err != nil {
			t.Fatal(r.err)
		}
	}
	return float64(size) / mib / time.Since(start).Seconds()
}

// startOnionShare shares path with onionshare-cli attached to the tor whose
// control port is ctrl, and returns its download URL.
func startOnionShare(t *testing.T, ctrl, path string) string {
	t.Helper()
	if _, err := exec.LookPath("onionshare-cli"); err != nil {
		t.Skip("onionshare-cli is not installed (scripts/deps.sh bench)")
	}
	host, port, _ := strings.Cut(ctrl, ":")
	p, _ := strconv.Atoi(port)
	dir := t.TempDir()
	settings := map[string]any{"connection_type": "control_port", "control_port_address": host,
		"control_port_port": p, "auth_type": "no_auth", "bridges_enabled": false}
	b, _ := json.Marshal(settings)
	var check map[string]any
	if err := json.Unmarshal(b, &check); err != nil || check["connection_type"] != "control_port" {
		t.Fatalf("onionshare settings do not round-trip: %v", err) // else it would start its own tor
	}
	cfg := filepath.Join(dir, "settings.json")
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("onionshare-cli", "--config", cfg, "--data-dir", dir, "--public", "--no-autostop-sharing", path)
	cmd.SysProcAttr = childAttr()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	re := regexp.MustCompile(`http://[a-z2-7]{56}\.onion\S*`)
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		found := false
		for sc.Scan() {
			if m := re.FindString(sc.Text()); m != "" && !found {
				found = true
				urlc <- m
			}
		}
		close(urlc)
	}()
	select {
	case u, ok := <-urlc:
		if !ok {
			t.Fatal("onionshare-cli exited without an address")
		}
		u = strings.TrimSuffix(u, "/")
		if !strings.HasSuffix(u, "/download") {
			u += "/download"
		}
		return u
	case <-time.After(3 * time.Minute):
		t.Fatal("onionshare-cli printed no address in 3 minutes")
	}
	return ""
}

func benchUnlimited(t *testing.T, md *strings.Builder, runs int) {
	nw := startNetwork(t, testnet.Options{})
	seedTor, getTor := torFor(t, nw), torFor(t, nw)
	dir := t.TempDir()
	path, data := writeFile(t, dir, "bench64.bin", 64*mib)
	size := int64(len(data))
	a := torNode(t, seedTor, "seeder")
	st := a.share(path, 0)
	socks, err := getTor.SocksAddr()
	if err != nil {
		t.Fatal(err)
	}
	httpURL := httpOnion(t, seedTor, dir) + "/bench64.bin"
	osURL := startOnionShare(t, seedTor.ControlAddr(), path)
	warmUp(t, getTor, append(linkPeers(t, st.Link), httpURL, osURL)...)
	s := series{}
	for r := range runs {
		s["hydre, 1 circuit"] = append(s["hydre, 1 circuit"], hydreFetch(t, getTor, st.Link, size, data, 1))
		s["hydre, 4 circuits"] = append(s["hydre, 4 circuits"], hydreFetch(t, getTor, st.Link, size, data, 4))
		s["onionshare-cli 2.6 + curl"] = append(s["onionshare-cli 2.6 + curl"], curlFetch(t, socks, osURL, size, 100+r))
		s["curl, Go HTTP server behind an onion"] = append(s["curl, Go HTTP server behind an onion"], curlFetch(t, socks, httpURL, size, 200+r))
		t.Logf("run %d: %v", r, s)
	}
	fmt.Fprintf(md, "### One seeder, relays unlimited (64 MiB)\n\n")
	fmt.Fprintf(md, "Private network: 3 authorities + %d relays on 127.0.0.1, no rate limit; seeder and downloader each on their own tor; "+
		"%d interleaved runs, fresh downloader state each run, after one untimed connection of the downloader's tor to each onion (warmUp). Throughput = file size / wall time from Get to fully verified on disk.\n\n", 2, runs)
	fmt.Fprintf(md, "| client | runs (MiB/s) | median MiB/s | vs onionshare |\n|---|---|---|---|\n")
	base := median(s["onionshare-cli 2.6 + curl"])
	for _, k := range []string{"hydre, 4 circuits", "hydre, 1 circuit", "onionshare-cli 2.6 + curl", "curl, Go HTTP server behind an onion"} {
		fmt.Fprintf(md, "| %s | %s | %.2f | %.2f× |\n", k, fmtRuns(s[k]), median(s[k]), median(s[k])/base)
	}
	fmt.Fprintf(md, "\n")
}

// importShare makes nd a seeder of a content src shares (same key, same
// file), as if it had downloaded it.
func (nd *node) importShare(t *testing.T, src *node, st Status) Status {
	t.Helper()
	c, err := src.e.get(st.ID)
	if err != nil {
		t.Fatal(err)
	}
	rec := *c.record()
	rec.Peers = nil
	bits, tree, err := src.e.db.loadProgress(st.ID)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nd.e.add(st.ID, &rec, func(nc *content) error {
		if err := nd.e.db.saveProgress(st.ID, bits, tree); err != nil {
			return err
		}
		return nc.loadData(c.data.Load().desc, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	return nc.status()
}

// limitedModel is a way to make the network, not the machines, the limit.
type limitedModel struct {
	title, model string
	opts         testnet.Options
	seederTorrc  []string      // extra torrc lines of each seeder's tor
	others       int           // other users' bulk downloads during the runs (otherUsers)
	otherTors    int           // client and service tor pairs they are spread over
	sizeMiB      int           // the file; 0: 32 MiB
	noSingle     bool          // skip the one-circuit rows (hydre's and curl's), too slow there
	note         func() string // what the figures say about the model; nil: nothing
	// only, if set, keeps the model out of a full bench: it runs when
	// HYDRE_BENCH_LIMITED_ONLY is this word.
	only string
}

// runs reports whether the bench runs lm when HYDRE_BENCH_LIMITED_ONLY is
// only ("" for every model but those kept out).
func (lm limitedModel) runs(only string) bool {
	if lm.only != "" {
		return only == lm.only
	}
	return only == "" || strings.Contains(lm.title, only)
}

var limitedModels = []limitedModel{
	{
		title: "Middle relays limited to 1 MiB/s",
		model: "3 authorities (unlimited, the only guards, each tor taking one of them in turn) + 16 relays at RelayBandwidthRate 1 MiB/s used as middles " +
			"and HS layer-2 nodes (testnet LimitMiddlesOnly). Limiting every relay instead would make the client's and the service's " +
			"guards the bottleneck, which no multi-source download can beat and which is not how the real network behaves " +
			"(guards are among the fastest relays). With few limited relays, all circuits share them and nothing scales: " +
			"16 relays let circuits of different seeders take different middles.",
		opts: testnet.Options{Relays: 16, RelayBandwidth: 1 << 20, LimitMiddlesOnly: true},
		note: middleRelaysNote,
	},
	{
		title: "48 middle relays limited to 1 MiB/s, busy with other users",
		model: fmt.Sprintf("3 authorities as the only guards, each tor taking one of them in turn so that they share the load "+
			"evenly, %d relays at 1 MiB/s as middles and HS layer-2 nodes (testnet LimitMiddlesOnly), and other users on it: %d bulk downloads from other onion services to other "+
			"clients, each on its own circuit, run through every measurement (otherUsers), so that the limited relays are busy "+
			"as relays of the real network are, and a circuit gets a share of each relay it crosses rather than all of it. "+
			"The real network has thousands of relays, where the circuits of one download seldom cross the same middle.",
			busyRelays, busyOthers),
		opts:   testnet.Options{Relays: busyRelays, RelayBandwidth: 1 << 20, LimitMiddlesOnly: true},
		others: busyOthers,
		// 24 downloads per tor pair: until 2026-12-01 all 96 ran between one
		// client tor and one service tor, and twice in three benches they
		// broke together during a run.
		otherTors: busyOthers / 24,
		sizeMiB:   64, // a short download is mostly ramp-up and endgame (16 circuits: 0.44 MiB/s with 8 MiB, 0.60 with 24)
		noSingle:  true,
		note:      busyRelaysNote,
	},
	{
		title: "Middle relays limited to 1 MiB/s, busy, four layer-2 relays per tor",
		model: fmt.Sprintf("3 authorities as the only guards (one per tor, in turn), %d relays at 1 MiB/s as middles and HS layer-2 nodes, "+
			"where each tor (the seeders', the downloader's, the other users') takes the layer-2 hop of all its onion-service "+
			"circuits among 4 of the %d relays drawn for it (testnet Vanguards), as tor's default vanguards-lite keeps 4, "+
			"instead of among all of them; %d other users' bulk downloads.", vgRelays, vgRelays, vgOthers),
		opts:      testnet.Options{Relays: vgRelays, RelayBandwidth: 1 << 20, LimitMiddlesOnly: true, Vanguards: 4},
		others:    vgOthers,
		otherTors: 1, // as it was measured
		sizeMiB:   64,
		noSingle:  true,
		note:      vanguardsNote,
		only:      "vanguards", // 25 minutes more; make bench runs the three others
	},
	{
		title: "Seeders' uplinks limited to 1 MiB/s",
		model: "Relays unlimited; each seeder's tor has BandwidthRate/BandwidthBurst 1 MiB/s (a home connection's upload, " +
			"the classic limit of peer-to-peer sharing); the downloader's tor is unlimited.",
		opts:        testnet.Options{},
		seederTorrc: []string{"BandwidthRate 1 MBytes", "BandwidthBurst 1 MBytes"},
	},
}

// The busy-relays model's network: busyRelays limited relays and
// busyOthers other users' downloads. Until 2026-12-01 it had 16 relays and
// 32 others: as many other circuits per relay (about 8), but a download's
// own circuits crossed each other's relays far more than among the real
// network's thousands, and max-min-fair sharing allowed 16 circuits 3.1x
// the rate of 4, against 3.6x on 48 (busyRelaysNote). 48 relays became
// possible when the private network's consensus went from one every 10 s
// to one a minute: idle, its 51 tors took 30% of the two cores before, 5%
// after.
const (
	busyRelays = 48
	busyOthers = 96
)

// The network of the part with four layer-2 relays per tor, which runs only
// when asked: it was measured on 16 relays with 32 other users, and keeps
// them so that its figures can be measured again alike.
const (
	vgRelays = 16
	vgOthers = 32
)

// busyRelaysNote explains, from relayPathModel, what the busy-relays model
// allows any client.
func busyRelaysNote() string {
	rng := rand.New(rand.NewPCG(1, 2))
	const draws = 400
	one, four, sixteen := relayPathModel(busyRelays, busyOthers, 1, draws, rng), relayPathModel(busyRelays, busyOthers, 4, draws, rng),
		relayPathModel(busyRelays, busyOthers, 16, draws, rng)
	idle := relayPathModel(busyRelays, 0, 16, draws, rng) / relayPathModel(busyRelays, 0, 4, draws, rng)
	small := relayPathModel(vgRelays, vgOthers, 16, draws, rng) / relayPathModel(vgRelays, vgOthers, 4, draws, rng)
	spread := pathModel{relays: busyRelays, others: busyOthers, vanguards: 4, othersSpread: true}
	kept := spread.rate(4, 4, vanguardsDraws, rng) / spread.rate(1, 4, vanguardsDraws, rng)
	return fmt.Sprintf("Max-min-fair sharing of these paths with %d other circuits (relayPathModel, mean of %d draws) gives "+
		"1 circuit %.2f, 4 circuits %.2f, 16 circuits %.2f units of one relay: at best %.2fx for 16 circuits over 4, where the idle "+
		"network allows %.1fx, and %d relays with %d other users (this part until 2026-12-01: 2.55-2.84x measured over six benches, "+
		"curl alike) %.2fx. That is the private network's path choice: its tors draw each circuit's layer-2 relay among all "+
		"%d (HSLayer2Nodes). A tor left to its default keeps four layer-2 relays (vanguards-lite) for all its onion circuits, "+
		"so a download's circuits to every seeder share its four; the same sharing on this network, with the other users from "+
		"as many tors as circuits, gives 4 seeders %.2fx of one (pathModel). The model is a guide, not a bound.",
		busyOthers, draws, one, four, sixteen, sixteen/four, idle, vgRelays, vgOthers, small, busyRelays, kept)
}

// vanguardsNote explains, from pathModel, what the busy-relays model with
// four layer-2 relays per tor allows any client.
func vanguardsNote() string {
	one, four, ratio := vanguardsCeiling()
	rng := rand.New(rand.NewPCG(1, 2))
	free := pathModel{relays: vgRelays, others: vgOthers}
	return fmt.Sprintf("Max-min-fair sharing of these paths (pathModel, each tor's layer 2 among its own 4 relays, the other "+
		"users from one client and one service, mean of %d draws) gives 4 circuits to one seeder %.2f and 4 to each of four "+
		"%.2f units of one relay: at best %.2fx, where the same network with every relay as layer 2 allows %.1fx.", vanguardsDraws, one, four, ratio,
		free.rate(4, 4, vanguardsDraws, rng)/free.rate(1, 4, vanguardsDraws, rng))
}

// vanguardsDraws is how many draws the vanguards figures average: each
// draw also draws every tor's four layer-2 relays, and with 400 the ratio
// moved between 2.45 and 2.76 from one seed to another (2.58-2.62 with 4000).
const vanguardsDraws = 4000

// vanguardsCeiling returns the vanguards part's rates of 4 circuits to one
// seeder and to each of four, and their ratio, with four layer-2 relays per
// tor and the other users from one client and one service, as measured.
func vanguardsCeiling() (one, four, ratio float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := pathModel{relays: vgRelays, others: vgOthers, vanguards: 4}
	one, four = m.rate(1, 4, vanguardsDraws, rng), m.rate(4, 4, vanguardsDraws, rng)
	return one, four, four / one
}

// middleRelaysNote explains, from relayPathModel, what the middle-relays
// model allows any client.
func middleRelaysNote() string {
	rng := rand.New(rand.NewPCG(1, 2))
	const draws = 400
	one, four, sixteen := relayPathModel(16, 0, 1, draws, rng), relayPathModel(16, 0, 4, draws, rng), relayPathModel(16, 0, 16, draws, rng)
	var bigger []string
	need := 0
	for _, r := range []int{64, 100, 200, 500, 1000} {
		g := relayPathModel(r, 0, 16, draws, rng) / relayPathModel(r, 0, 4, draws, rng)
		bigger = append(bigger, fmt.Sprintf("%.1fx with %d", g, r))
		if g >= 3 && need == 0 {
			need = r
		}
	}
	return fmt.Sprintf("Every circuit, whoever its seeder, crosses three or four of the same 16 limited relays (the service's "+
		"layer-2 and middle, the rendezvous point, the client's layer-2), so four seeders add little capacity that one "+
		"seeder's four circuits do not already reach for. Max-min-fair sharing of such paths (relayPathModel: each relay "+
		"one unit, mean of %d random draws) gives 1 circuit %.2f, 4 circuits %.2f, 16 circuits %.2f units: at best %.2fx for 16 "+
		"circuits over 4, whoever serves them; it is %s relays, and 3x needs about %d. The curl rows measure the "+
		"same ceiling without hydre.", draws, one, four, sixteen, sixteen/four, strings.Join(bigger, ", "), need)
}

// relayPathModel returns the mean aggregate rate, in units of one relay's
// capacity, that max-min-fair sharing gives n circuits on a network of
// relays equal limited relays and 3 unlimited authorities, while background
// circuits of other users, drawn alike, share the relays with them, each
// circuit's layer-2 relay drawn as on the private network (pathModel).
func relayPathModel(relays, background, n, draws int, rng *rand.Rand) float64 {
	return pathModel{relays: relays, others: background}.rate(1, n, draws, rng)
}

// pathModel draws the paths of onion-service circuits as tor draws them
// under testnet.LimitMiddlesOnly: the service's layer-2 and middle (two
// distinct relays), a rendezvous point among every node, the client's
// layer-2; authorities are the (unlimited) guards. The relays are limited
// to one unit each.
type pathModel struct {
	relays, others int // limited relays; other users' circuits
	// vanguards is how many layer-2 relays each tor keeps for all its
	// onion-service circuits. 0 draws a circuit's layer 2 among all the
	// relays, as on the private network, whose tors name every relay in
	// HSLayer2Nodes; 4 is tor's default (vanguards-lite), where every
	// circuit of a client crosses one of the same four relays, whichever
	// seeder it reaches.
	vanguards int
	// othersSpread draws the other users' circuits from as many tors; by
	// default they come from one client and one service (otherUsers).
	othersSpread bool
}

// rate returns the mean aggregate rate, in units of one relay's capacity,
// of one client's circuits, perSeeder to each of seeders, over draws.
func (m pathModel) rate(seeders, perSeeder, draws int, rng *rand.Rand) float64 {
	keep := func() []int { // one tor's layer-2 relays; nil: any
		if m.vanguards <= 0 {
			return nil
		}
		return rng.Perm(m.relays)[:m.vanguards]
	}
	pick := func(l2 []int) int {
		if l2 == nil {
			return rng.IntN(m.relays)
		}
		return l2[rng.IntN(len(l2))]
	}
	total := 0.0
	for range draws {
		var paths [][]int
		draw := func(client, service []int) {
			a := pick(service)
			b := (a + 1 + rng.IntN(m.relays-1)) % m.relays
			p := []int{a, b, pick(client)}
			if rp := rng.IntN(m.relays + 3); rp < m.relays {
				p = append(p, rp)
			}
			paths = append(paths, p)
		}
		otherClient, otherService, me := keep(), keep(), keep()
		for range m.others {
			if m.othersSpread {
				draw(keep(), keep())
			} else {
				draw(otherClient, otherService)
			}
		}
		for range seeders {
			service := keep()
			for range perSeeder {
				draw(me, service)
			}
		}
		for _, r := range maxMinRates(paths, m.relays)[m.others:] {
			total += r
		}
	}
	return total / float64(draws)
}

// maxMinRates fills the circuits' rates evenly until each meets a saturated
// relay (progressive filling) and returns them; a circuit that crosses a
// relay twice uses it twice.
func maxMinRates(paths [][]int, relays int) []float64 {
	capLeft := make([]float64, relays)
	for i := range capLeft {
		capLeft[i] = 1
	}
	rates := make([]float64, len(paths))
	active := make([]bool, len(paths))
	for i := range active {
		active[i] = true
	}
	for {
		count := make([]int, relays)
		n := 0
		for c, p := range paths {
			if active[c] {
				n++
				for _, r := range p {
					count[r]++
				}
			}
		}
		if n == 0 {
			return rates
		}
		inc := math.Inf(1)
		for r, k := range count {
			if k > 0 {
				inc = min(inc, capLeft[r]/float64(k))
			}
		}
		for c := range paths {
			if active[c] {
				rates[c] += inc
			}
		}
		for r, k := range count {
			capLeft[r] -= inc * float64(k)
		}
		for c, p := range paths {
			// A circuit stops growing at its first saturated relay.
			active[c] = active[c] && !slices.ContainsFunc(p, func(r int) bool { return capLeft[r] < 1e-9 })
		}
	}
}

func benchLimited(t *testing.T, md *strings.Builder, runs int, lm limitedModel) {
	nw := startNetwork(t, lm.opts)
	sizeMiB := envInt("HYDRE_BENCH_LIMITED_MIB", cmp.Or(lm.sizeMiB, 32))
	dir := t.TempDir()
	path, data := writeFile(t, dir, "benchlim.bin", sizeMiB*mib)
	size := int64(len(data))
	var seeders []*node
	var addrs []string
	var st Status
	for i := range 4 {
		nd := torNode(t, torForWith(t, nw, lm.seederTorrc), fmt.Sprintf("seeder%d", i))
		if i == 0 {
			st = nd.share(path, 0)
		} else {
			nd.importShare(t, seeders[0], st)
		}
		s := nd.waitFor(st.ID, time.Minute, "seeding", func(s Status) bool { return s.State == StateSeeding })
		addrs = append(addrs, linkPeers(t, s.Link)[0])
		seeders = append(seeders, nd)
	}
	getTor := torFor(t, nw)
	socks, err := getTor.SocksAddr()
	if err != nil {
		t.Fatal(err)
	}
	var httpURLs []string
	for _, nd := range seeders {
		httpURLs = append(httpURLs, httpOnion(t, nd.e.cfg.Transport, dir)+"/benchlim.bin")
	}
	httpURL := httpURLs[0]
	var others *otherUsers
	ramp := othersRamp()
	if lm.others > 0 {
		others = startOtherUsers(t, nw, lm.others, lm.otherTors, ramp)
	}
	warmUp(t, getTor, append(slices.Clone(addrs), httpURLs...)...)
	cpu := readCPU() // its busy method reports the CPUs' use over the runs
	tors := readTorTicks()
	s := series{}
	// busy holds, for each run of a row, what the other users received
	// while it ran: a run during which their downloads broke and restarted
	// measured a network that was not busy.
	busy := series{}
	// A run during which they received less than othersFloor of their
	// steady rate is measured again, at most othersRetries times, and the
	// note lists it.
	var discarded []string
	measure := func(key string, fetch func() float64) {
		for try := 0; ; try++ {
			from := others.count()
			v := fetch()
			if others == nil {
				s[key] = append(s[key], v)
				return
			}
			got := others.since(from)
			t.Logf("%s: %.2f MiB/s; other users meanwhile %.2f MiB/s, %d broken downloads", key, v, got/mib,
				others.count().breaks-from.breaks)
			if got >= othersFloor*others.steady || try == othersRetries {
				s[key] = append(s[key], v)
				busy[key] = append(busy[key], got/mib)
				return
			}
			discarded = append(discarded, fmt.Sprintf("%s, %.2f MiB/s (other users %.2f)", key, v, got/mib))
		}
	}
	keys := []string{"hydre, 1 seeder", "hydre, 2 seeders", "hydre, 4 seeders",
		"hydre, 1 seeder, 1 circuit", "hydre, 2 seeders, 1 circuit each", "hydre, 4 seeders, 1 circuit each", "curl, 1 circuit",
		"curl, 4 circuits to 1 server (byte ranges)", "curl, 16 circuits to 4 servers (byte ranges)"}
	for r := range runs {
		for i, k := range []int{1, 2, 4} {
			link := linkWith(t, st.Link, addrs[:k]...)
			measure(keys[i], func() float64 { return hydreFetch(t, getTor, link, size, data, 0) })
			if !lm.noSingle {
				measure(keys[3+i], func() float64 { return hydreFetch(t, getTor, link, size, data, 1) })
			}
		}
		if !lm.noSingle {
			measure(keys[6], func() float64 { return curlFetch(t, socks, httpURL, size, 300+r) })
		}
		measure(keys[7], func() float64 { return curlRanges(t, socks, httpURLs[:1], 4, data, 2*r) })
		measure(keys[8], func() float64 { return curlRanges(t, socks, httpURLs, 4, data, 2*r+1) })
		t.Logf("%s, run %d: %v; other users meanwhile %v", lm.title, r, s, busy)
	}
	fmt.Fprintf(md, "### %s (%d MiB)\n\n", lm.title, sizeMiB)
	fmt.Fprintf(md, "Model: %s Each seeder runs its own tor. The hydre rows use the downloader's default "+
		"(4 isolated circuits to each seeder: 4 to one, 16 to four)", lm.model)
	if !lm.noSingle {
		fmt.Fprintf(md, "; the \"1 circuit\" rows open one circuit per seeder, so they show the gain of sources alone")
	}
	fmt.Fprintf(md, ". curl fetches from an HTTP server behind each seeder's tor:")
	if !lm.noSingle {
		fmt.Fprintf(md, " one circuit to the first, then")
	}
	fmt.Fprintf(md, " byte ranges on as many isolated circuits as hydre opens "+
		"(4 to the first server; 4 to each of the four), each range checked: what the same network gives "+
		"a client that is not hydre. %d interleaved runs; before them, the downloader's tor connected once to each of these "+
		"onions, untimed (warmUp).", runs)
	if lm.noSingle {
		fmt.Fprintf(md, " The one-circuit rows of the other models are left out here: at these rates each would take over ten minutes.")
	}
	if others != nil {
		fmt.Fprintf(md, " The other users ran on %d pairs of client and service tors. Before the runs they ramped up until "+
			"their rate was steady (two %v windows within %.0f%%, after at least %v): %.2f MiB/s in all. While the runs "+
			"went on they received %.2f MiB/s in all. A run during which they received less than %.0f%% of their steady "+
			"rate measured a network that was not busy (their downloads had broken); it was measured again, at most %d times",
			lm.otherTors, ramp.window, 100*ramp.steady, ramp.min, others.steady/mib, others.rate()/mib,
			100*othersFloor, othersRetries)
		if len(discarded) > 0 {
			fmt.Fprintf(md, "; runs measured again: %s.", strings.Join(discarded, "; "))
		} else {
			fmt.Fprintf(md, "; none was.")
		}
	}
	if busy, ok := cpu.busy(); ok {
		fmt.Fprintf(md, " The machine's CPUs (%s) were %.0f%% busy over the runs (all of this part's tors and programs).", processor(), 100*busy)
	}
	if shares, ok := torShares(tors, cpu); ok {
		fmt.Fprintf(md, " %s", describeTorShares(shares))
	}
	fmt.Fprintf(md, "\n\n")
	if others != nil {
		fmt.Fprintf(md, "The last column gives what the other users received, in all, during each run of the row.\n\n")
		fmt.Fprintf(md, "| client | runs (MiB/s) | median MiB/s | vs 1 seeder (same circuits rule) | other users meanwhile (MiB/s) |\n|---|---|---|---|---|\n")
	} else {
		fmt.Fprintf(md, "| client | runs (MiB/s) | median MiB/s | vs 1 seeder (same circuits rule) |\n|---|---|---|---|\n")
	}
	for i, k := range keys {
		if len(s[k]) == 0 {
			continue
		}
		base := median(s[keys[0]])
		switch {
		case i >= 3 && i < 6:
			base = median(s[keys[3]])
		case i == 8:
			base = median(s[keys[7]])
		}
		fmt.Fprintf(md, "| %s | %s | %.2f | %.2f× |", k, fmtRuns(s[k]), median(s[k]), median(s[k])/base)
		if others != nil {
			fmt.Fprintf(md, " %s |", fmtRuns(busy[k]))
		}
		fmt.Fprintf(md, "\n")
	}
	fmt.Fprintf(md, "\nThe curl rows compare with hydre's 1-seeder row, except the 16-circuit one, which compares with curl's 4 circuits to one server.")
	if lm.note != nil {
		fmt.Fprintf(md, " %s", lm.note())
	}
	if others != nil {
		per := others.rate() / mib / float64(lm.others)
		fmt.Fprintf(md, " Measured per circuit: each of the other users' circuits %.3f MiB/s; hydre's 4 circuits to one seeder "+
			"%.3f each, its 16 to four seeders %.3f each", per, median(s[keys[0]])/4, median(s[keys[2]])/16)
		if len(s[keys[5]]) > 0 {
			fmt.Fprintf(md, ", its 1 circuit to each of four %.3f each", median(s[keys[5]])/4)
		}
		fmt.Fprintf(md, ".")
	}
	fmt.Fprintf(md, "\n\n")
}

func TestMaxMinRates(t *testing.T) {
	tests := []struct {
		name   string
		paths  [][]int
		relays int
		want   []float64
	}{
		{"one circuit", [][]int{{0, 1}}, 2, []float64{1}},
		{"two circuits share a relay", [][]int{{0, 1}, {1, 2}}, 3, []float64{0.5, 0.5}},
		{"disjoint circuits", [][]int{{0, 1}, {2, 3}}, 4, []float64{1, 1}},
		{"a relay crossed twice", [][]int{{0, 0}}, 1, []float64{0.5}},
		{"a shared bottleneck frees the rest", [][]int{{0}, {0}, {0, 1}, {1}}, 2, []float64{1. / 3, 1. / 3, 1. / 3, 2. / 3}},
	}
	for _, tt := range tests {
		got := maxMinRates(tt.paths, tt.relays)
		if len(got) != len(tt.want) {
			t.Fatalf("%s: %d rates, want %d", tt.name, len(got), len(tt.want))
		}
		for c := range got {
			if math.Abs(got[c]-tt.want[c]) > 1e-9 {
				t.Errorf("%s: rates %v, want %v", tt.name, got, tt.want)
				break
			}
		}
	}
}

// TestLimitedModelRuns checks which models a HYDRE_BENCH_LIMITED_ONLY
// runs: the kept-out vanguards model only when named.
func TestLimitedModelRuns(t *testing.T) {
	for _, tt := range []struct {
		only string
		want int // models that run
		vg   bool
	}{{"", len(limitedModels) - 1, false}, {"busy", 1, false}, {"uplinks", 1, false}, {"vanguards", 1, true}} {
		n, vg := 0, false
		for _, lm := range limitedModels {
			if lm.runs(tt.only) {
				n++
				vg = vg || lm.opts.Vanguards > 0
			}
		}
		if n != tt.want || vg != tt.vg {
			t.Errorf("only %q: %d models run (vanguards %v), want %d (%v)", tt.only, n, vg, tt.want, tt.vg)
		}
	}
}

// TestPathModelVanguards checks what the busy-relays note says of tor's
// default path choice: with four layer-2 relays per tor, the circuits to
// four seeders share the client's four, and the model allows them a smaller
// multiple of one seeder's rate than when each circuit draws its own.
func TestPathModelVanguards(t *testing.T) {
	for _, spread := range []bool{false, true} {
		ratio := func(vanguards int) float64 {
			m := pathModel{relays: vgRelays, others: vgOthers, vanguards: vanguards, othersSpread: spread}
			rng := rand.New(rand.NewPCG(5, 6))
			return m.rate(4, 4, 1000, rng) / m.rate(1, 4, 1000, rng)
		}
		free, kept := ratio(0), ratio(4)
		if kept >= free || kept >= 3 {
			t.Errorf("others spread %v: 4 seeders over 1 %.2fx with vanguards, %.2fx without; want less, and under 3x", spread, kept, free)
		}
	}
	// Without vanguards, grouping circuits by seeder changes nothing.
	a := pathModel{relays: vgRelays, others: vgOthers}.rate(4, 4, 200, rand.New(rand.NewPCG(8, 9)))
	b := pathModel{relays: vgRelays, others: vgOthers}.rate(1, 16, 200, rand.New(rand.NewPCG(8, 9)))
	if a != b {
		t.Errorf("16 circuits without vanguards: %.3f as 4x4, %.3f as 1x16", a, b)
	}
}

// TestRelayPathModelOthers checks what the busy-relays model rests on: other
// users' circuits take most of each relay, so that 16 circuits of ours get
// a larger multiple of 4 circuits' rate than on an idle network, and less
// of it in all.
func TestRelayPathModelOthers(t *testing.T) {
	rate := func(others, n int) float64 {
		return relayPathModel(16, others, n, 200, rand.New(rand.NewPCG(7, uint64(n))))
	}
	idle4, idle16, busy4, busy16 := rate(0, 4), rate(0, 16), rate(busyOthers, 4), rate(busyOthers, 16)
	if busy16 >= idle16 || busy4 >= idle4 {
		t.Errorf("busy relays gave more than idle ones: 4 circuits %.2f vs %.2f, 16 circuits %.2f vs %.2f", busy4, idle4, busy16, idle16)
	}
	if busy16/busy4 <= idle16/idle4 {
		t.Errorf("16 circuits over 4: %.2fx on busy relays, %.2fx on idle ones; want more on busy ones", busy16/busy4, idle16/idle4)
	}
}
