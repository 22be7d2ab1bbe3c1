package swarm

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
)

// circuit is what GETINFO circuit-status says of one circuit.
type circuit struct {
	purpose string
	onion   string // REND_QUERY: the onion service of a client circuit
	second  string // the second hop's nickname, "" before it is known
	created time.Time
}

// circuitLog samples a tor's circuits (GETINFO circuit-status) until
// stopped: a circuit lives at least a second, far longer than a sample.
type circuitLog struct {
	mu    sync.Mutex
	seen  map[string]circuit // by circuit ID
	stop  context.CancelFunc
	done  chan struct{}
	polls int
}

func sampleCircuits(t *testing.T, tor *onion.Tor) *circuitLog {
	ctx, cancel := context.WithCancel(context.Background())
	cl := &circuitLog{seen: map[string]circuit{}, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(cl.done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			v, err := tor.GetInfo("circuit-status")
			if err == nil {
				cl.add(v)
			} else {
				t.Logf("circuit-status: %v", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return cl
}

// add books the circuits of one circuit-status answer.
func (cl *circuitLog) add(status string) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.polls++
	for line := range strings.SplitSeq(status, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		c := cl.seen[f[0]]
		for _, kv := range f[2:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "PURPOSE":
				c.purpose = v
			case "REND_QUERY":
				c.onion = v
			case "TIME_CREATED":
				if at, err := time.Parse("2006-01-02T15:04:05.999999", v); err == nil {
					c.created = at
				}
			}
			if strings.HasPrefix(kv, "$") {
				if hops := strings.Split(kv, ","); len(hops) >= 2 {
					_, c.second, _ = strings.Cut(hops[1], "~")
				}
			}
		}
		cl.seen[f[0]] = c
	}
}

// exposure is what a download showed the Tor network.
type exposure struct {
	dur      time.Duration
	byGroup  map[string]int // circuits created during the download, by purpose group
	onions   int            // distinct onion services of client circuits
	capOn    int            // distinct onion services the engine's limiter counted
	capDials int            // circuits the engine's limiter counted
}

// purposeGroup names the groups of tor's circuit purposes that the bench
// reports.
func purposeGroup(p string) string {
	switch {
	case p == "HS_CLIENT_REND" || p == "HS_CLIENT_INTRO":
		return "to onion services"
	case p == "HS_CLIENT_HSDIR":
		return "descriptor fetches"
	case strings.HasPrefix(p, "HS_SERVICE"):
		return "own onion services"
	}
	return "other"
}

var purposeGroups = []string{"to onion services", "descriptor fetches", "own onion services", "other"}

// between sums the circuits created in [from, to].
func (cl *circuitLog) between(from, to time.Time) exposure {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	x := exposure{dur: to.Sub(from), byGroup: map[string]int{}}
	onions := map[string]bool{}
	// TIME_CREATED is tor's local time without a zone: compare in UTC.
	from, to = from.UTC().Add(-time.Second), to.UTC().Add(time.Second)
	for _, c := range cl.seen {
		at := time.Date(c.created.Year(), c.created.Month(), c.created.Day(), c.created.Hour(), c.created.Minute(),
			c.created.Second(), c.created.Nanosecond(), time.UTC)
		if at.Before(from) || at.After(to) {
			continue
		}
		x.byGroup[purposeGroup(c.purpose)]++
		if c.onion != "" && purposeGroup(c.purpose) == "to onion services" {
			onions[c.onion] = true
		}
	}
	x.onions = len(onions)
	return x
}

// secondHops lists the second hops of every onion-service circuit seen.
func (cl *circuitLog) secondHops() []string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	set := map[string]bool{}
	for _, c := range cl.seen {
		if strings.HasPrefix(c.purpose, "HS_") && c.second != "" {
			set[c.second] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func (cl *circuitLog) close() {
	cl.stop()
	<-cl.done
}

// vanguardsLite checks, over the control port of a hydre-managed tor, that
// nothing turned vanguards-lite off: VanguardsLiteEnabled is not among the
// options set (so it is auto) and the consensus sets no
// vanguards-lite-enabled parameter (so auto means on).
func vanguardsLite(t *testing.T, tor *onion.Tor) string {
	conf, err := tor.GetInfo("config-text")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(conf, "\n") {
		if strings.HasPrefix(strings.ToLower(line), "vanguardsliteenabled") || strings.HasPrefix(strings.ToLower(line), "hslayer2nodes") {
			t.Fatalf("the managed tor sets %q", line)
		}
	}
	cons, err := tor.GetInfo("dir/status-vote/current/consensus-microdesc")
	if err != nil {
		t.Fatal(err)
	}
	params := "(none)"
	for line := range strings.SplitSeq(cons, "\n") {
		if p, ok := strings.CutPrefix(line, "params "); ok {
			params = p
			if strings.Contains(p, "vanguards-lite-enabled=0") {
				t.Fatalf("the consensus turns vanguards-lite off: %s", p)
			}
		}
	}
	return params
}

// benchExposure measures, on nw (relays unlimited, with latency), how many
// distinct onion services and how many circuits a download shows the Tor
// network: from 1 seeder named by the link, from 4, and from 1 named by
// the link with 3 more that it passes on by PEX. Each download gets a
// fresh tor (nothing cached), whose circuits are sampled throughout.
func benchExposure(t *testing.T, md *strings.Builder, nw *testnet.Network, relays int) {
	dir := t.TempDir()
	path, data := writeFile(t, dir, "exposure.bin", 16*mib)
	a := torNode(t, torFor(t, nw), "seeder0")
	st := a.share(path, 0)
	a.waitFor(st.ID, time.Minute, "seeding", func(s Status) bool { return s.State == StateSeeding })
	type row struct {
		name string
		x    exposure
		hops []string // second hops of the onion-service circuits of its tor
	}
	var rows []row
	var params string
	fetch := func(name, link string) {
		tor := torFor(t, nw)
		if params == "" {
			params = vanguardsLite(t, tor)
		}
		cl := sampleCircuits(t, tor)
		nd := torNode(t, tor, "exposure-get")
		start := time.Now()
		s := nd.get(link)
		checkFile(t, nd.waitDone(s.ID, 10*time.Minute).Path, data)
		end := time.Now()
		on, dials := nd.e.dials.counts(end)
		nd.close()
		time.Sleep(time.Second) // one more sample after the last circuit
		cl.close()
		x := cl.between(start, end)
		x.capOn, x.capDials = on, dials
		t.Logf("%s: %+v; second hops %v", name, x, cl.secondHops())
		rows = append(rows, row{name, x, cl.secondHops()})
	}
	fetch("1 seeder, named by the link", st.Link)
	// Three more seeders, each fetching from a, which learns their
	// addresses (each announces its own) and passes them on by PEX.
	var addrs []string
	for i := 1; i <= 3; i++ {
		nd := torNode(t, torFor(t, nw), fmt.Sprintf("seeder%d", i))
		s := nd.get(st.Link)
		done := nd.waitDone(s.ID, 10*time.Minute)
		addrs = append(addrs, linkPeers(t, done.Link)[0])
	}
	fetch("4 seeders, named by the link", linkWith(t, st.Link, append(linkPeers(t, st.Link), addrs...)...))
	fetch("1 seeder named by the link, 3 more by PEX", st.Link)

	fmt.Fprintf(md, "### What a download shows the Tor network (16 MiB)\n\n")
	fmt.Fprintf(md, "The same network (3 authorities + %d relays, unlimited, latency as above); each download on a fresh tor (nothing cached: "+
		"descriptor fetches included), whose circuits are read every 200 ms (GETINFO circuit-status) from Get to the file verified; "+
		"a circuit counts if tor created it in that time. Onion services = distinct REND_QUERY of the client's rendezvous and "+
		"introduction circuits. \"Limiter\" is what the engine's bound counted (docs/protocol.md, W1: at most %d onion services "+
		"and %d circuits in any %v). The downloader reshares, so its tor also runs its own onion service.\n\n",
		relays, maxOnionsPerWindow, maxDialsPerWindow, dialWindow)
	fmt.Fprintf(md, "| download | time | onion services | circuits to onion services | descriptor fetches | own onion services | other | all, per minute | limiter: onions, circuits |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		all := 0
		for _, g := range purposeGroups {
			all += r.x.byGroup[g]
		}
		fmt.Fprintf(md, "| %s | %.1f s | %d | %d | %d | %d | %d | %.0f | %d, %d |\n", r.name, r.x.dur.Seconds(), r.x.onions,
			r.x.byGroup[purposeGroups[0]], r.x.byGroup[purposeGroups[1]], r.x.byGroup[purposeGroups[2]], r.x.byGroup[purposeGroups[3]],
			float64(all)/max(r.x.dur.Minutes(), 1), r.x.capOn, r.x.capDials)
	}
	var sets []string
	for _, r := range rows {
		sets = append(sets, fmt.Sprintf("%d (%s)", len(r.hops), strings.Join(r.hops, ", ")))
	}
	fmt.Fprintf(md, "\nVanguards-lite on every downloader's tor (managed by hydre): its options (GETINFO config-text) set neither "+
		"VanguardsLiteEnabled (so it is auto) nor HSLayer2Nodes, and the consensus parameters (GETINFO "+
		"dir/status-vote/current/consensus-microdesc) are %s, so auto means on. In use: the second hops of all the "+
		"onion-service circuits of each download's tor were, download by download, %s, of the %d relays besides its guard "+
		"(vanguards-lite keeps 4 layer-2 relays; the guard itself cannot follow itself).\n\n", params, strings.Join(sets, "; "), relays+3-1)
}
