package swarm

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestBenchLatency measures the swarm's headline figures again on private
// networks whose every link between tors has a one-way latency
// (testnet.DefaultLatency unless HYDRE_BENCH_LATENCY says otherwise), as
// the real network's have (HYDRE_BENCH=1; writes $HYDRE_BENCH_OUT/latency.md):
//  1. one seeder, relays unlimited: hydre against onionshare-cli and curl
//     through the same tors, interleaved, and the time from Get to the
//     first verified chunk;
//  2. on the same network, what a download shows the Tor network: distinct
//     onion services and circuits (benchExposure);
//  3. 1, 2 and 4 seeders with the middle relays at 1 MiB/s (benchLimited):
//     16 idle relays, or with HYDRE_BENCH_LATENCY_BUSY=1 the 48 busy ones.
//
// HYDRE_BENCH_QUICK=1 (make bench-quick) runs the first part alone with 2
// runs of 16 MiB. HYDRE_BENCH_LATENCY_MIB sets the first part's file size
// (64 MiB, as the zero-latency table's), HYDRE_BENCH_LATENCY_SKIP_EXPOSURE and _SKIP_LIMITED skip parts.
func TestBenchLatency(t *testing.T) {
	if os.Getenv("HYDRE_BENCH") != "1" {
		t.Skip("whole-system benchmark: set HYDRE_BENCH=1 (make bench)")
	}
	testkit.SkipWithoutTor(t)
	quick := os.Getenv("HYDRE_BENCH_QUICK") == "1"
	runs, sizeMiB := envInt("HYDRE_BENCH_RUNS", 3), envInt("HYDRE_BENCH_LATENCY_MIB", 64)
	if quick {
		runs, sizeMiB = envInt("HYDRE_BENCH_RUNS", 2), envInt("HYDRE_BENCH_LATENCY_MIB", 16)
	}
	lat := testnet.DefaultLatency
	if d, err := time.ParseDuration(os.Getenv("HYDRE_BENCH_LATENCY")); err == nil && d > 0 {
		lat = d
	}
	var md strings.Builder
	fmt.Fprintf(&md, "## Latency\n\n")
	fmt.Fprintf(&md, "The headline figures again on private networks where every link between two tors (relay to relay, client and "+
		"service to their guards) carries %v each way (testnet Latency: a delay proxy in front of every ORPort), so that a "+
		"round trip through an onion-service circuit takes several hundred milliseconds as on the real network (README.md, "+
		"\"A private Tor network\"); the zero-latency figures are in the sections above.\n\n", lat)
	part := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	part("one seeder", func(t *testing.T) {
		const relays = 6 // enough that vanguards-lite's 4 layer-2 relays are a choice
		nw := startNetwork(t, testnet.Options{Relays: relays, Latency: lat})
		benchLatencyOne(t, &md, nw, runs, sizeMiB, relays)
		if !quick && os.Getenv("HYDRE_BENCH_LATENCY_SKIP_EXPOSURE") == "" {
			benchExposure(t, &md, nw, relays)
		}
	})
	if !quick && os.Getenv("HYDRE_BENCH_LATENCY_SKIP_LIMITED") == "" {
		// The idle 16-relay model by default; the busy 48-relay one, where
		// 4 seeders reached 3.4× one at no latency, adds about half an
		// hour (HYDRE_BENCH_LATENCY_BUSY=1).
		lm := limitedModels[0]
		if os.Getenv("HYDRE_BENCH_LATENCY_BUSY") == "1" {
			lm = limitedModels[1]
			lm.note = nil // its note tells the zero-latency runs' history
		}
		lm.title += fmt.Sprintf(", latency %v", lat)
		lm.opts.Latency = lat
		lm.noSingle = true // one circuit per seeder takes minutes here
		// 2 runs, as the busy models at no latency: 8.5 minutes with 3.
		part(lm.title, func(t *testing.T) { benchLimited(t, &md, min(runs, 2), lm) })
	}
	t.Log("\n" + md.String())
	if dir := os.Getenv("HYDRE_BENCH_OUT"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "latency.md"), []byte(md.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// benchLatencyOne is the one-seeder comparison on nw: hydre (its default
// circuits), onionshare-cli and curl from a Go HTTP server behind an
// onion, each fetching the same file through the same downloader's tor,
// interleaved; and hydre's time from Get to its first verified chunk.
func benchLatencyOne(t *testing.T, md *strings.Builder, nw *testnet.Network, runs, sizeMiB, relays int) {
	seedTor, getTor := torFor(t, nw), torFor(t, nw)
	dir := t.TempDir()
	path, data := writeFile(t, dir, "benchlat.bin", sizeMiB*mib)
	size := int64(len(data))
	a := torNode(t, seedTor, "seeder")
	st := a.share(path, 0)
	socks, err := getTor.SocksAddr()
	if err != nil {
		t.Fatal(err)
	}
	httpURL := httpOnion(t, seedTor, dir) + "/benchlat.bin"
	osURL := startOnionShare(t, seedTor.ControlAddr(), path)
	warmUp(t, getTor, append(linkPeers(t, st.Link), httpURL, osURL)...)
	const hydreKey, osKey, curlKey = "hydre (4 circuits)", "onionshare-cli 2.6 + curl", "curl, Go HTTP server behind an onion"
	s := series{}
	var first, ramp, last []time.Duration
	for r := range runs {
		ft := hydreFetchFirst(t, getTor, st.Link, data, nil)
		s[hydreKey] = append(s[hydreKey], ft.rate)
		first, ramp, last = append(first, ft.first), append(ramp, ft.ramp), append(last, ft.last5)
		s[osKey] = append(s[osKey], curlFetch(t, socks, osURL, size, 400+r))
		s[curlKey] = append(s[curlKey], curlFetch(t, socks, httpURL, size, 500+r))
		t.Logf("latency run %d: %v, first chunks %v, 2 MiB %v", r, s, first, ramp)
	}
	fmt.Fprintf(md, "### One seeder, relays unlimited (%d MiB)\n\n", sizeMiB)
	fmt.Fprintf(md, "3 authorities + %d relays, no rate limit; seeder and downloader each on their own tor; %d interleaved runs, "+
		"fresh downloader state each run, after one untimed connection of the downloader's tor to each onion (warmUp). "+
		"Throughput = file size / wall time from Get (or curl's start) to the whole file (verified, for hydre).\n\n", relays, runs)
	fmt.Fprintf(md, "| client | runs (MiB/s) | median MiB/s | vs onionshare |\n|---|---|---|---|\n")
	base := median(s[osKey])
	for _, k := range []string{hydreKey, osKey, curlKey} {
		fmt.Fprintf(md, "| %s | %s | %.2f | %.2f× |\n", k, fmtRuns(s[k]), median(s[k]), median(s[k])/base)
	}
	fmt.Fprintf(md, "\nFrom `Get` to the first verified chunk (256 KiB; the seeder's descriptor cached by the warm-up): median %s, runs %s. "+
		"To 2 MiB verified: median %s, runs %s. "+
		"The last 5%% of hydre's download (from 95%% verified to the end): median %s, runs %s.\n\n",
		medianDur(first), fmtDurs(first), medianDur(ramp), fmtDurs(ramp), medianDur(last), fmtDurs(last))
}

// fetchTimes is one download of hydreFetchFirst: MiB/s, the times from
// Get to the first verified chunk and to 2 MiB verified, and that of the
// last 5%.
type fetchTimes struct {
	rate               float64
	first, ramp, last5 time.Duration
}

// hydreFetchFirst downloads link with a fresh engine on tor and returns
// its times; tweak, if not nil, changes the engine's configuration.
func hydreFetchFirst(t *testing.T, tor onion.Transport, link string, want []byte, tweak func(*Config)) fetchTimes {
	t.Helper()
	nd := torNode(t, tor, "bench-get")
	if tweak != nil {
		nd.close()
		tweak(&nd.cfg)
		nd.open0()
	}
	start := time.Now()
	st := nd.get(link)
	nd.waitFor(st.ID, 10*time.Minute, "first chunk", func(s Status) bool { return s.Verified > 0 || s.State == StateSeeding })
	firstAt := time.Since(start)
	nd.waitFor(st.ID, 20*time.Minute, "2 MiB", func(s Status) bool { return s.Verified >= min(2*mib, int64(len(want))) || s.State == StateSeeding })
	rampAt := time.Since(start)
	nd.waitFor(st.ID, 20*time.Minute, "95%", func(s Status) bool { return s.Verified >= int64(len(want))*95/100 || s.State == StateSeeding })
	at95 := time.Now()
	done := nd.waitDone(st.ID, 20*time.Minute)
	el := time.Since(start)
	checkFile(t, done.Path, want)
	nd.close()
	os.RemoveAll(nd.dl)
	return fetchTimes{rate: float64(len(want)) / mib / el.Seconds(), first: firstAt, ramp: rampAt, last5: start.Add(el).Sub(at95)}
}
