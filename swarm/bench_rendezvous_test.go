package swarm

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestBenchRendezvous measures rendezvous discovery (HYDRE_BENCH=1; writes
// $HYDRE_BENCH_OUT/rendezvous.md):
//  1. from get to the first verified chunk when only the slots can name
//     the holders (a link with no hint) against a link with a live hint,
//     interleaved in one run, on the zero-latency network and on the 35 ms
//     one;
//  2. what a holder of 1 and of 50 contents costs Tor (descriptors
//     uploaded, circuits built) and memory (bench_rendezvous_load_test.go).
//
// HYDRE_BENCH_RENDEZVOUS_RUNS sets the runs of part 1 (default 5);
// HYDRE_BENCH_RENDEZVOUS_SKIP_FIRST and _LOAD skip a part.
func TestBenchRendezvous(t *testing.T) {
	if os.Getenv("HYDRE_BENCH") != "1" {
		t.Skip("whole-system benchmark: set HYDRE_BENCH=1 (make bench)")
	}
	testkit.SkipWithoutTor(t)
	runs := envInt("HYDRE_BENCH_RENDEZVOUS_RUNS", 5)
	var md strings.Builder
	fmt.Fprintf(&md, "## Rendezvous\n\n")
	part := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	if os.Getenv("HYDRE_BENCH_RENDEZVOUS_SKIP_FIRST") == "" {
		fmt.Fprintf(&md, "### From get to the first verified chunk\n\n")
		fmt.Fprintf(&md, "Two holders (the sharer and a node that fetched from it), each hosting a slot and listed at "+
			"the other's, Tor's schedule (24-hour periods from 12:00 UTC, three or six slots). Each download is a fresh "+
			"engine on a fresh tor (nothing cached: the slots' and holders' descriptors are fetched from the HSDirs), "+
			"closed after its first chunk. *Hinted*: the link names the sharer, alive (the slots are asked too, as always). "+
			"*Rendezvous only*: the link names no peer. Phases from `get`: the first slot's Answer naming a holder, the "+
			"first peer connected (handshake done), the first chunk verified. %d interleaved runs per network; medians, "+
			"runs in brackets.\n\n", runs)
		fmt.Fprintf(&md, "| network | link | first holders named | first peer | first verified chunk | ratio |\n|---|---|---|---|---|---|\n")
		for _, lat := range []time.Duration{0, testnet.DefaultLatency} {
			part(fmt.Sprintf("first chunk, latency %v", lat), func(t *testing.T) { benchFirstChunk(t, &md, lat, runs) })
		}
		fmt.Fprintf(&md, "\n")
	}
	if os.Getenv("HYDRE_BENCH_RENDEZVOUS_SKIP_LOAD") == "" {
		part("load", func(t *testing.T) { benchRendezvousLoad(t, &md) })
	}
	t.Log("\n" + md.String())
	if dir := os.Getenv("HYDRE_BENCH_OUT"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "rendezvous.md"), []byte(md.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// benchDiscovery is discovery for the first-chunk part: Tor's schedule,
// registrations and hosting soon enough for the holders to settle in a
// minute.
func benchDiscovery(c *Config) {
	c.Rendezvous = RendezvousConfig{Register: 20 * time.Second, Jitter: 5 * time.Second, HostDelay: 2 * time.Second}
}

// firstPhases is what one download measured, from its get.
type firstPhases struct {
	named, peer, chunk time.Duration // 0: not seen (named, with a hint that answered first)
}

// benchFirstChunk times hinted and hint-free downloads on a network of
// the given latency and writes two rows.
func benchFirstChunk(t *testing.T, md *strings.Builder, latency time.Duration, runs int) {
	nw := startNetwork(t, testnet.Options{Latency: latency})
	a := torNodeWith(t, torFor(t, nw), "a", benchDiscovery)
	b := torNodeWith(t, torFor(t, nw), "b", benchDiscovery)
	path, _ := writeFile(t, t.TempDir(), "first.bin", 8*mib)
	st := a.share(path, 0)
	b.get(st.Link)
	b.waitDone(st.ID, 5*time.Minute)
	for _, nd := range []*node{a, b} {
		nd.waitFor(st.ID, 5*time.Minute, "hosting a slot and listed at another", func(s Status) bool {
			return s.Discovery.Hosting >= 1 && s.Discovery.Registered >= 2
		})
	}
	bare := linkWith(t, st.Link)
	var hinted, rdv []firstPhases
	for r := range runs {
		order := []bool{false, true}
		if r%2 == 1 {
			order = []bool{true, false}
		}
		for _, hint := range order {
			link := bare
			if hint {
				link = st.Link
			}
			ph := firstChunk(t, nw, link, st, fmt.Sprintf("run%d-hint%v", r, hint))
			if hint {
				hinted = append(hinted, ph)
			} else {
				rdv = append(rdv, ph)
			}
			t.Logf("latency %v run %d hint %v: %+v", latency, r, hint, ph)
		}
	}
	name := "zero latency"
	if latency > 0 {
		name = fmt.Sprintf("%d ms one way per link", latency.Milliseconds())
	}
	col := func(ps []firstPhases, f func(firstPhases) time.Duration) []time.Duration {
		var out []time.Duration
		for _, p := range ps {
			out = append(out, f(p))
		}
		return out
	}
	named := func(p firstPhases) time.Duration { return p.named }
	peer := func(p firstPhases) time.Duration { return p.peer }
	chunk := func(p firstPhases) time.Duration { return p.chunk }
	ratio := median(secs(col(rdv, chunk))) / median(secs(col(hinted, chunk)))
	fmt.Fprintf(md, "| %s | hinted | %s | %s %s | %s %s | 1 |\n", name, namedCell(col(hinted, named)),
		medianDur(col(hinted, peer)), fmtDurs(col(hinted, peer)), medianDur(col(hinted, chunk)), fmtDurs(col(hinted, chunk)))
	fmt.Fprintf(md, "| %s | rendezvous only | %s %s | %s %s | %s %s | %.2f |\n", name,
		medianDur(col(rdv, named)), fmtDurs(col(rdv, named)), medianDur(col(rdv, peer)), fmtDurs(col(rdv, peer)),
		medianDur(col(rdv, chunk)), fmtDurs(col(rdv, chunk)), ratio)
}

// namedCell shows the hinted downloads' first Answer naming a holder,
// which comes beside the hint (often after the first chunk).
func namedCell(ds []time.Duration) string {
	var seen []time.Duration
	for _, d := range ds {
		if d > 0 {
			seen = append(seen, d)
		}
	}
	if len(seen) == 0 {
		return "(not before the first chunk)"
	}
	return fmt.Sprintf("%s in %d of %d", medianDur(seen), len(seen), len(ds))
}

func secs(ds []time.Duration) []float64 {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = d.Seconds()
	}
	return xs
}

// firstChunk gets link with a fresh engine on a fresh tor and times its
// phases up to the first verified chunk; the engine and tor then stop.
func firstChunk(t *testing.T, nw *testnet.Network, link string, st Status, name string) firstPhases {
	t.Helper()
	tor := torFor(t, nw)
	defer tor.Close()
	nd := torNodeWith(t, tor, name, benchDiscovery)
	defer func() { nd.close(); os.RemoveAll(nd.dl) }()
	var ph firstPhases
	start := time.Now()
	nd.get(link)
	nd.waitFor(st.ID, 5*time.Minute, "a verified chunk", func(s Status) bool {
		el := time.Since(start)
		if ph.named == 0 && s.Discovery.Holders > 0 {
			ph.named = el
		}
		if ph.peer == 0 && s.Peers > 0 {
			ph.peer = el
		}
		if s.Verified > 0 {
			ph.chunk = el
			return true
		}
		return false
	})
	if ph.peer == 0 {
		ph.peer = ph.chunk
	}
	return ph
}
