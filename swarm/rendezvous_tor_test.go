package swarm

import (
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestTorRendezvous is issue 25's scenario on the private Tor network: A
// shares, B fetches and serves (and hosts a slot), A stops for good; C,
// with the link that names only A, finds B through a slot and completes,
// verified. Then D, with a link that names no peer, finds B and C through
// the slots and completes. Last, C and D leave, B restarts from its data
// dir, and E, with the first link (A's hint only), still finds B.
func TestTorRendezvous(t *testing.T) {
	nw := testkit.Shared(t, testnet.Options{})
	tor1, tor2, tor3 := torFor(t, nw), torFor(t, nw), torFor(t, nw)
	a := torNodeWith(t, tor1, "a", fastRendezvous)
	b := torNodeWith(t, tor2, "b", fastRendezvous)
	path, data := writeFile(t, t.TempDir(), "rdv.bin", 8<<20)
	st := a.share(path, 0)
	b.get(st.Link)
	checkFile(t, b.waitDone(st.ID, 3*time.Minute).Path, data)
	start := time.Now()
	b.waitFor(st.ID, 3*time.Minute, "hosting a slot", func(s Status) bool { return s.Discovery.Hosting >= 1 })
	t.Logf("b hosts a slot %v after completing", time.Since(start).Round(time.Second))
	a.close() // for good

	c := torNodeWith(t, tor3, "c", fastRendezvous)
	start = time.Now()
	c.get(st.Link) // names a only
	done, most := watchSources(c, st.ID, 4*time.Minute)
	checkFile(t, done.Path, data)
	t.Logf("c completed in %v through the rendezvous (at most %d connections found there); discovery %+v",
		time.Since(start).Round(time.Second), most, done.Discovery)
	if most == 0 {
		t.Error("c completed without a connection found through a slot")
	}

	// Both holders listed at a slot: b's lists c once c registers.
	start = time.Now()
	c.waitFor(st.ID, 3*time.Minute, "listed at a slot", func(s Status) bool { return s.Discovery.Registered >= 1 })
	t.Logf("c listed at a slot %v after completing", time.Since(start).Round(time.Second))
	d := torNodeWith(t, tor1, "d", fastRendezvous)
	bUp, cUp := upload(b, st), upload(c, st)
	start = time.Now()
	d.get(linkWith(t, st.Link))
	done, most = watchSources(d, st.ID, 4*time.Minute)
	checkFile(t, done.Path, data)
	t.Logf("d (no hint) completed in %v; at most %d connections found through slots; discovery %+v",
		time.Since(start).Round(time.Second), most, done.Discovery)
	if most == 0 {
		t.Error("d completed without a connection found through a slot")
	}
	// Which holder sends the bytes is Tor's timing (8 MiB can come from the
	// first circuit up); that the slots named both is the discovery's part.
	if done.Discovery.Holders < 2 {
		t.Errorf("d's slots named %d verified holders, want b and c", done.Discovery.Holders)
	}
	t.Logf("d fetched %d bytes from b and %d from c", upload(b, st)-bUp, upload(c, st)-cUp)

	// b restarts with its data dir, the only holder left: the slots c and
	// d hosted answer no more, b hosts again, and e finds it there.
	c.close()
	d.close()
	b.close()
	b.open0()
	e := torNodeWith(t, tor3, "e", fastRendezvous)
	start = time.Now()
	e.get(st.Link) // names a only, gone
	done, most = watchSources(e, st.ID, 4*time.Minute)
	checkFile(t, done.Path, data)
	t.Logf("e found the restarted b and completed in %v (at most %d connections found through slots); discovery %+v",
		time.Since(start).Round(time.Second), most, done.Discovery)
}
