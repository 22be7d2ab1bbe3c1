package swarm

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
)

// TestBenchSwarm measures whole-system download throughput on private Tor
// networks (HYDRE_BENCH=1; writes $HYDRE_BENCH_OUT/swarm.md):
//  1. one seeder, relays unlimited: hydre (1 and N circuits) against
//     onionshare-cli and curl fetching from an HTTP server, through the same
//     tors, interleaved;
//  2. hydre with 1, 2 and 4 seeders, and curl for reference, where the
//     network limits: middle relays at 1 MiB/s (guards fast, as on the real
//     network), then seeders' uplinks at 1 MiB/s;
//  3. peak memory of a seeder serving 2 GiB to 4 downloaders, and of them.
func TestBenchSwarm(t *testing.T) {
	if os.Getenv("HYDRE_BENCH") != "1" {
		t.Skip("whole-system benchmark: set HYDRE_BENCH=1 (make bench)")
	}
	testnet.SkipWithoutTor(t)
	runs := envInt("HYDRE_BENCH_RUNS", 3)
	var md strings.Builder
	fmt.Fprintf(&md, "## Swarm\n\n")
	if os.Getenv("HYDRE_BENCH_SWARM_SKIP_UNLIMITED") == "" {
		benchUnlimited(t, &md, runs)
	}
	if os.Getenv("HYDRE_BENCH_SWARM_SKIP_LIMITED") == "" {
		for _, lm := range limitedModels {
			benchLimited(t, &md, runs, lm)
		}
	}
	if os.Getenv("HYDRE_BENCH_SWARM_SKIP_MEMORY") == "" {
		benchMemory(t, &md)
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
		"%d interleaved runs, fresh downloader state each run. Throughput = file size / wall time from Get to fully verified on disk.\n\n", 2, runs)
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
	c.mu.Lock()
	rec := *c.rec
	c.mu.Unlock()
	rec.Peers = nil
	bits, tree, err := src.e.db.loadProgress(st.ID)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nd.e.add(st.ID, &rec, func() error { return nd.e.db.saveProgress(st.ID, bits, tree) })
	if err != nil {
		t.Fatal(err)
	}
	return nc.status()
}

// limitedModel is a way to make the network, not the machines, the limit.
type limitedModel struct {
	title, model string
	opts         testnet.Options
	seederTorrc  []string // extra torrc lines of each seeder's tor
}

var limitedModels = []limitedModel{
	{
		title: "Middle relays limited to 1 MiB/s",
		model: "3 authorities (unlimited, the only guards) + 16 relays at RelayBandwidthRate 1 MiB/s used as middles " +
			"and HS layer-2 nodes (testnet LimitMiddlesOnly). Limiting every relay instead would make the client's and the service's " +
			"guards the bottleneck, which no multi-source download can beat and which is not how the real network behaves " +
			"(guards are among the fastest relays). With few limited relays, all circuits share them and nothing scales: " +
			"16 relays let circuits of different seeders take different middles.",
		opts: testnet.Options{Relays: 16, RelayBandwidth: 1 << 20, LimitMiddlesOnly: true},
	},
	{
		title: "Seeders' uplinks limited to 1 MiB/s",
		model: "Relays unlimited; each seeder's tor has BandwidthRate/BandwidthBurst 1 MiB/s (a home connection's upload, " +
			"the classic limit of peer-to-peer sharing); the downloader's tor is unlimited.",
		opts:        testnet.Options{},
		seederTorrc: []string{"BandwidthRate 1 MBytes", "BandwidthBurst 1 MBytes"},
	},
}

func benchLimited(t *testing.T, md *strings.Builder, runs int, lm limitedModel) {
	nw := startNetwork(t, lm.opts)
	sizeMiB := envInt("HYDRE_BENCH_LIMITED_MIB", 32)
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
	httpURL := httpOnion(t, seeders[0].e.cfg.Transport, dir) + "/benchlim.bin"
	s := series{}
	keys := []string{"hydre, 1 seeder", "hydre, 2 seeders", "hydre, 4 seeders",
		"hydre, 1 seeder, 1 circuit", "hydre, 2 seeders, 1 circuit each", "hydre, 4 seeders, 1 circuit each", "curl, 1 circuit"}
	for r := range runs {
		for i, k := range []int{1, 2, 4} {
			s[keys[i]] = append(s[keys[i]], hydreFetch(t, getTor, linkWith(t, st.Link, addrs[:k]...), size, data, 0))
			s[keys[3+i]] = append(s[keys[3+i]], hydreFetch(t, getTor, linkWith(t, st.Link, addrs[:k]...), size, data, 1))
		}
		s[keys[6]] = append(s[keys[6]], curlFetch(t, socks, httpURL, size, 300+r))
		t.Logf("%s, run %d: %v", lm.title, r, s)
	}
	fmt.Fprintf(md, "### %s (%d MiB)\n\n", lm.title, sizeMiB)
	fmt.Fprintf(md, "Model: %s Each seeder runs its own tor. The first rows use the downloader's default "+
		"(4 isolated circuits to each seeder: 4 to one, 16 to four); the \"1 circuit\" rows open one "+
		"circuit per seeder, so they show the gain of sources alone. curl fetches from an HTTP server behind the first "+
		"seeder's tor. %d interleaved runs.\n\n", lm.model, runs)
	fmt.Fprintf(md, "| client | runs (MiB/s) | median MiB/s | vs 1 seeder (same circuits rule) |\n|---|---|---|---|\n")
	for i, k := range keys {
		base := median(s[keys[0]])
		if i >= 3 && i < 6 {
			base = median(s[keys[3]])
		}
		fmt.Fprintf(md, "| %s | %s | %.2f | %.2f× |\n", k, fmtRuns(s[k]), median(s[k]), median(s[k])/base)
	}
	fmt.Fprintf(md, "\n")
}
