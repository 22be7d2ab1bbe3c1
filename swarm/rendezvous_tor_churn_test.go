package swarm

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestTorRendezvousChurn has 20 holders join and leave over three to four
// minutes of 10-minute periods on the private Tor network (so that a
// period's boundary, and the six slots around it, most likely fall
// inside): a newcomer every 10 seconds gets the first link, which names
// only the sharer, gone once the first newcomer completed; it must find a
// live holder through the slots and complete, verified. Each holder leaves
// for good 35 seconds after it completed (slot hosts too), so three or four
// are up at once and the slots pass from host to host. Engines share three
// tors (every tor costs a bootstrap). The times are logged, not asserted.
func TestTorRendezvousChurn(t *testing.T) {
	const (
		joiners = 20
		every   = 10 * time.Second // a newcomer's arrival
		stay    = 35 * time.Second // how long a holder serves after completing
	)
	nw := testkit.Shared(t, testnet.Options{})
	tors := []*onion.Tor{torFor(t, nw), torFor(t, nw), torFor(t, nw)}
	a := torNodeWith(t, tors[0], "a", fastRendezvous)
	path, data := writeFile(t, t.TempDir(), "churn.bin", 1<<20)
	st := a.share(path, 0)
	type holder struct {
		nd      *node
		leaveAt time.Time // zero: the sharer, who leaves after the first newcomer
	}
	live := []holder{{nd: a}}
	var times []time.Duration
	var slots []int
	begin := time.Now()
	arrive := time.NewTicker(every)
	defer arrive.Stop()
	for i := range joiners {
		if i > 0 {
			<-arrive.C // the scenario's schedule: one newcomer every 10 s
		}
		for len(live) > 1 && !live[0].leaveAt.IsZero() && time.Now().After(live[0].leaveAt) {
			live[0].nd.close()
			live = live[1:]
		}
		nd := torNodeWith(t, tors[(i+1)%len(tors)], fmt.Sprintf("n%d", i), fastRendezvous)
		start := time.Now()
		nd.get(st.Link)
		done := nd.waitDone(st.ID, 3*time.Minute)
		checkFile(t, done.Path, data)
		el := time.Since(start)
		times = append(times, el)
		slots = append(slots, done.Discovery.Slots)
		t.Logf("n%d completed in %v with %d holders up (found %+v; discovery %+v)", i, el.Round(time.Millisecond), len(live),
			done.Found, done.Discovery)
		live = append(live, holder{nd: nd, leaveAt: time.Now().Add(stay)})
		if live[0].nd == a { // the sharer leaves for good
			a.close()
			live = live[1:]
		}
	}
	sorted := slices.Clone(times)
	slices.Sort(sorted)
	var list []string
	for _, d := range times {
		list = append(list, d.Round(100*time.Millisecond).String())
	}
	t.Logf("%d newcomers over %v each found a live holder and completed: median %v, slowest %v (%v); slots of the moment %v",
		joiners, time.Since(begin).Round(time.Second), sorted[len(sorted)/2].Round(time.Millisecond),
		sorted[len(sorted)-1].Round(time.Millisecond), list, slots)
}
