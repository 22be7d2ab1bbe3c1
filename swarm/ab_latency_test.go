package swarm

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// abCandidates are the changes TestLatencyAB can compare with the engine
// as it is: each sets the B side's configuration.
var abCandidates = map[string]struct {
	what  string
	tweak func(*Config)
}{
	"window": {"requests in flight per circuit near its bandwidth-delay product: rate × 1 s + 512 KiB instead of rate × 3 s + 1 MiB",
		func(c *Config) { c.tune = tuning{windowLatency: time.Second, slackBytes: 512 << 10} }},
	"circuits": {"6 circuits per seeder instead of 4", func(c *Config) { c.CircuitsPerPeer = 6 }},
}

// TestLatencyAB compares the engine with one change (HYDRE_AB=name of
// abCandidates) on the private network with testnet.DefaultLatency on every
// link: one seeder, relays unlimited, HYDRE_AB_PAIRS (default 5) pairs of
// downloads of HYDRE_AB_MIB (default 32) MiB, each pair A then B or B then
// A in turn, medians of throughput, time to the first verified chunk and
// of the last 5%. It is an experiment, not a check: it fails nothing.
func TestLatencyAB(t *testing.T) {
	name := os.Getenv("HYDRE_AB")
	if name == "" {
		t.Skip("A/B experiment on the latency network: set HYDRE_AB to one of the candidates")
	}
	cand, ok := abCandidates[name]
	if !ok {
		t.Fatalf("HYDRE_AB=%s: no such candidate", name)
	}
	testkit.SkipWithoutTor(t)
	pairs, sizeMiB := envInt("HYDRE_AB_PAIRS", 5), envInt("HYDRE_AB_MIB", 32)
	nw := startNetwork(t, testnet.Options{Relays: 6, Latency: testnet.DefaultLatency})
	seedTor, getTor := torFor(t, nw), torFor(t, nw)
	path, data := writeFile(t, t.TempDir(), "ab.bin", sizeMiB*mib)
	a := torNode(t, seedTor, "seeder")
	st := a.share(path, 0)
	warmUp(t, getTor, linkPeers(t, st.Link)...)
	type side struct {
		rate              []float64
		first, ramp, last []time.Duration
	}
	var res [2]side
	var order []string
	for i := range pairs {
		for k := range 2 {
			b := (i+k)%2 == 1 // A B, then B A
			var tweak func(*Config)
			if b {
				tweak = cand.tweak
			}
			ft := hydreFetchFirst(t, getTor, st.Link, data, tweak)
			s := &res[map[bool]int{false: 0, true: 1}[b]]
			s.rate, s.first, s.ramp, s.last = append(s.rate, ft.rate), append(s.first, ft.first), append(s.ramp, ft.ramp), append(s.last, ft.last5)
			order = append(order, map[bool]string{false: "A", true: "B"}[b])
			t.Logf("pair %d, %s: %.2f MiB/s, first chunk %v, 2 MiB %v, last 5%% %v", i+1, order[len(order)-1], ft.rate,
				ft.first.Round(time.Millisecond), ft.ramp.Round(time.Millisecond), ft.last5.Round(time.Millisecond))
		}
	}
	var md strings.Builder
	fmt.Fprintf(&md, "A/B %q on the latency network (%v each way), 1 seeder, %d MiB, %d pairs (order %s); B: %s.\n\n",
		name, testnet.DefaultLatency, sizeMiB, pairs, strings.Join(order, ""), cand.what)
	fmt.Fprintf(&md, "| side | MiB/s median | runs | first chunk median | 2 MiB median | last 5%% median | last 5%% runs |\n|---|---|---|---|---|---|---|\n")
	for k, label := range []string{"A (as it is)", "B"} {
		s := res[k]
		fmt.Fprintf(&md, "| %s | %.2f | %s | %s | %s | %s | %s |\n", label, median(s.rate), fmtRuns(s.rate), medianDur(s.first), medianDur(s.ramp), medianDur(s.last), fmtDurs(s.last))
	}
	ratios := make([]float64, pairs)
	for i := range pairs {
		ratios[i] = res[1].rate[i] / res[0].rate[i]
	}
	slices.Sort(ratios)
	fmt.Fprintf(&md, "\nB/A throughput, per pair (sorted): %s; median %.2f.\n", fmtRuns(ratios), median(ratios))
	t.Log("\n" + md.String())
	if out := os.Getenv("HYDRE_AB_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(md.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
