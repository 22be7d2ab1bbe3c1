package swarm

import (
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

// fastRendezvous shortens every period and interval of discovery, so that
// a test sees registrations, hosting and asks within seconds.
func fastRendezvous(c *Config) {
	c.Rendezvous = RendezvousConfig{Schedule: hcrypto.Schedule{Length: 10 * time.Minute},
		Register: time.Second, Jitter: 200 * time.Millisecond, HostDelay: 300 * time.Millisecond,
		Ask: 500 * time.Millisecond}
}

// watchSources polls id on nd until it is complete, and returns the last
// status and the most connections it saw found through a rendezvous slot.
func watchSources(nd *node, id hcrypto.ContentID, d time.Duration) (Status, int) {
	nd.t.Helper()
	most := 0
	st := nd.waitFor(id, d, "complete", func(s Status) bool {
		most = max(most, s.Found.Rendezvous)
		return s.State == StateSeeding || s.State == StateDone
	})
	return st, most
}

// TestRendezvousOutlivesSharer is issue 25's scenario on the in-memory
// network: A shares, B fetches and serves, A leaves for good; C, with the
// link that names only A, finds B through a rendezvous slot and completes.
func TestRendezvousOutlivesSharer(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", fastRendezvous)
	b := newNode(t, n, "b", fastRendezvous)
	path, data := writeFile(t, t.TempDir(), "f", 300<<10)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	b.waitDone(st.ID, 20*time.Second)
	b.waitFor(st.ID, 20*time.Second, "hosting a slot", func(s Status) bool { return s.Discovery.Hosting >= 1 })
	a.close()
	a.mem.Close()

	c := newNode(t, n, "c", fastRendezvous)
	c.get(st.Link) // names a only
	done, most := watchSources(c, st.ID, 30*time.Second)
	checkFile(t, done.Path, data)
	if most == 0 && done.Discovery.Holders == 0 {
		t.Fatalf("c completed without a holder from the rendezvous: %+v", done)
	}
	t.Logf("c: %+v found, discovery %+v", done.Found, done.Discovery)
}

// TestRendezvousNoHint fetches with a link that names no peer at all: the
// slots name both holders, and both send data.
func TestRendezvousNoHint(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", fastRendezvous, memnet.WithUplink(256<<10))
	b := newNode(t, n, "b", fastRendezvous, memnet.WithUplink(256<<10))
	path, data := writeFile(t, t.TempDir(), "g", 1<<20)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	b.waitDone(st.ID, 30*time.Second)
	for _, nd := range []*node{a, b} {
		nd.waitFor(st.ID, 20*time.Second, "hosting a slot and listed at another", func(s Status) bool {
			return s.Discovery.Hosting >= 1 && s.Discovery.Registered >= 2
		})
	}
	upA, _ := a.e.Status(st.ID)
	upB, _ := b.e.Status(st.ID)

	c := newNode(t, n, "c", fastRendezvous)
	bare := linkWith(t, st.Link)
	if l, _ := hcrypto.ParseLink(bare); len(l.Peers) != 0 || l.Secret == nil {
		t.Fatal("the test link is not hint-free")
	}
	c.get(bare)
	done, most := watchSources(c, st.ID, 60*time.Second)
	checkFile(t, done.Path, data)
	if most < 2 {
		t.Errorf("at most %d connections found through the slots, want both holders", most)
	}
	a2, _ := a.e.Status(st.ID)
	b2, _ := b.e.Status(st.ID)
	if a2.Uploaded == upA.Uploaded || b2.Uploaded == upB.Uploaded {
		t.Errorf("a sent %d bytes, b %d: want both", a2.Uploaded-upA.Uploaded, b2.Uploaded-upB.Uploaded)
	}
	t.Logf("c: most %d found through slots; discovery %+v", most, done.Discovery)
}
