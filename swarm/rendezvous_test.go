package swarm

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"

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
// Then B restarts from its data dir and D still finds it.
func TestRendezvousOutlivesSharer(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", fastRendezvous)
	b := newNode(t, n, "b", fastRendezvous, memnet.WithUplink(256<<10)) // a download that lasts
	path, data := writeFile(t, t.TempDir(), "f", 256<<10)
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
	if most == 0 {
		t.Fatalf("c completed without a connection found through a slot: %+v", done.Discovery)
	}
	t.Logf("c completed; discovery %+v", done.Discovery)

	// b restarts with its data dir (c has left): a fourth node still finds it.
	c.close()
	c.mem.Close()
	b.close()
	b.mem.Close()
	b.open()
	d := newNode(t, n, "d", fastRendezvous)
	d.get(st.Link) // names a only
	done, most = watchSources(d, st.ID, 30*time.Second)
	checkFile(t, done.Path, data)
	if most == 0 {
		t.Fatalf("d completed without a connection found through a slot: %+v", done.Discovery)
	}
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

// hijackSlot publishes slot sl on tr (a memnet node or a tor) as an
// adversary holding the link would, answering every message with recs
// (none: an empty list).
func hijackSlot(t *testing.T, tr onion.Transport, sl hcrypto.Slot, recs []hcrypto.HolderRecord) {
	t.Helper()
	l, err := tr.Listen(context.Background(), onion.ServiceConfig{Key: sl.PrivateKey(), Port: hcrypto.SlotPort})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	msg, err := hcrypto.EncodeAnswer(recs)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if _, err := hcrypto.ReadMessage(conn); err == nil {
					conn.Write(msg)
				}
			}()
		}
	}()
}

// fakeRecords returns n records of made-up holders, validly signed (the
// adversary holds the link), for addresses where nobody listens.
func fakeRecords(t *testing.T, n int, id hcrypto.ContentID, secret hcrypto.SwarmSecret) []hcrypto.HolderRecord {
	t.Helper()
	var out []hcrypto.HolderRecord
	for i := range n {
		_, key, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := hcrypto.NewHolderRecord(key, 1000+i, time.Now().Add(time.Hour), id, secret)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestRendezvousHijackedSlots: an adversary holding the link publishes two
// of the three slots of the moment first, one answering an empty list and
// one answering 32 fake holders; the sharer hosts the third, and a
// hint-free download still completes through it.
func TestRendezvousHijackedSlots(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", fastRendezvous, memnet.WithUplink(256<<10)) // a download that lasts
	path, data := writeFile(t, t.TempDir(), "h", 256<<10)
	st := a.share(path, 16<<10)
	l, err := hcrypto.ParseLink(st.Link)
	if err != nil {
		t.Fatal(err)
	}
	var cfg Config
	fastRendezvous(&cfg)
	cfg.Rendezvous.setDefaults()
	slots, err := hcrypto.SlotsAt(*l.Secret, cfg.Rendezvous.Schedule, time.Now(), cfg.Rendezvous.Margin)
	if err != nil {
		t.Fatal(err)
	}
	evil := n.Node("evil")
	fakes := fakeRecords(t, hcrypto.MaxAnswerRecords, st.ID, *l.Secret)
	for _, sl := range slots {
		switch sl.Index {
		case 0:
			hijackSlot(t, evil, sl, nil)
		case 1:
			hijackSlot(t, evil, sl, fakes)
		}
	}
	a.waitFor(st.ID, 20*time.Second, "hosting the free slot", func(s Status) bool { return s.Discovery.Hosting >= 1 })

	b := newNode(t, n, "b", fastRendezvous)
	start := time.Now()
	b.get(linkWith(t, st.Link))
	done, most := watchSources(b, st.ID, 30*time.Second)
	checkFile(t, done.Path, data)
	if most == 0 {
		t.Error("b completed without a connection found through a slot")
	}
	t.Logf("b completed in %v past 2 hijacked slots of %d; discovery %+v", time.Since(start).Round(time.Millisecond), len(slots), done.Discovery)
}

// isRendezvousTag says whether an isolation tag is a rendezvous stream's.
func isRendezvousTag(tag string) bool { return strings.HasPrefix(tag, "hydre-rdv-") }

// TestRendezvousChurn has holders join and leave one after another: each
// newcomer gets the first link (which names only the sharer, gone early)
// and must find a live holder through the slots, while the oldest holders
// leave and the slots they hosted pass to others.
func TestRendezvousChurn(t *testing.T) {
	const joiners = 12
	n := memnet.New()
	a := newNode(t, n, "a", fastRendezvous)
	path, data := writeFile(t, t.TempDir(), "churn", 128<<10)
	st := a.share(path, 16<<10)
	alive := []*node{a}
	var worst time.Duration
	for i := range joiners {
		nd := newNode(t, n, fmt.Sprintf("n%d", i), fastRendezvous)
		start := time.Now()
		nd.get(st.Link)
		checkFile(t, nd.waitDone(st.ID, 30*time.Second).Path, data)
		worst = max(worst, time.Since(start))
		alive = append(alive, nd)
		if len(alive) > 3 { // the oldest leaves for good
			old := alive[0]
			alive = alive[1:]
			old.close()
			old.mem.Close()
		}
	}
	t.Logf("%d newcomers each found a live holder; the slowest took %v", joiners, worst.Round(time.Millisecond))
}

// TestRendezvousSharerHostsAtOnce: the sharer of a new content finds every
// slot vacant and hosts one at once rather than after the random delay
// (up to 10 minutes by default) that keeps a swarm from publishing all
// together, so that a link with no hint finds it within seconds.
func TestRendezvousSharerHostsAtOnce(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil, memnet.WithUplink(128<<10)) // the protocol's intervals; a download that lasts
	path, data := writeFile(t, t.TempDir(), "new", 128<<10)
	start := time.Now()
	st := a.share(path, 16<<10)
	a.waitFor(st.ID, 20*time.Second, "hosting a slot", func(s Status) bool { return s.Discovery.Hosting >= 1 })
	t.Logf("a hosts a slot %v after sharing", time.Since(start).Round(time.Millisecond))

	b := newNode(t, n, "b", nil)
	b.get(linkWith(t, st.Link))
	done, most := watchSources(b, st.ID, 20*time.Second)
	checkFile(t, done.Path, data)
	if most == 0 {
		t.Errorf("b completed without a connection found through a slot: %+v", done.Discovery)
	}
}

// TestRendezvousAsksAgainSoon: a download whose first ask finds no slot
// (the only holder is offline) asks again within seconds of the holder's
// return, not after the protocol's 5-minute interval.
func TestRendezvousAsksAgainSoon(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil, memnet.WithUplink(128<<10)) // the protocol's intervals; a download that lasts
	path, data := writeFile(t, t.TempDir(), "soon", 128<<10)
	st := a.share(path, 16<<10)
	a.close()
	a.mem.Close()

	b := newNode(t, n, "b", nil)
	b.get(linkWith(t, st.Link))
	b.waitFor(st.ID, 20*time.Second, "an ask round that found nobody", func(s Status) bool {
		return strings.Contains(s.Waiting, "no holder found yet")
	})
	a.open()
	start := time.Now()
	done, most := watchSources(b, st.ID, time.Minute)
	checkFile(t, done.Path, data)
	if most == 0 {
		t.Errorf("b completed without a connection found through a slot: %+v", done.Discovery)
	}
	t.Logf("b completed %v after a came back", time.Since(start).Round(time.Millisecond))
}

// TestRendezvousDialOrder: of the addresses three slots name, one slot
// answering 32 made-up holders (validly signed: its host holds the link),
// the honest slots' hosts are dialed before the fakes, whatever the
// addresses: first the one two slots name, then the other among the next
// two (the hostile host's own record, first in its Answer, ties with it).
func TestRendezvousDialOrder(t *testing.T) {
	id, secret := hcrypto.ContentID{1}, hcrypto.SwarmSecret{2}
	slot := func(i int) hcrypto.Slot {
		sl, err := hcrypto.DeriveSlot(secret, hcrypto.Schedule{}, 100, i)
		if err != nil {
			t.Fatal(err)
		}
		return sl
	}
	for run := range 20 {
		fakes := fakeRecords(t, hcrypto.MaxAnswerRecords, id, secret)
		honest := fakeRecords(t, 2, id, secret) // two hosts, each registered with the other
		s := &swarm{addrs: map[string]*addrState{}, own: map[string]bool{}, rdv: &rendezvous{},
			session: fmt.Sprint(run)}
		s.learnHolders(slot(1), fakes)
		s.learnHolders(slot(0), honest)
		s.learnHolders(slot(2), honest[1:]) // its host's registration with slot 0 has expired there
		var order []string
		for a := range s.addrs {
			order = append(order, a)
		}
		s.dialOrder(order)
		if pos := slices.Index(order, honest[1].Address()); pos != 0 {
			t.Fatalf("run %d: the host two slots name is dialed %dth of %d, want first", run, pos+1, len(order))
		}
		if pos := slices.Index(order, honest[0].Address()); pos > 2 {
			t.Fatalf("run %d: the other honest host is dialed %dth of %d", run, pos+1, len(order))
		}
	}
}
