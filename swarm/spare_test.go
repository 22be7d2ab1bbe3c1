package swarm

import (
	"context"
	"slices"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

// readySpares waits until nd's engine holds n spare identities published
// and returns their addresses.
func readySpares(t *testing.T, nd *node, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := nd.e.spares
		p.mu.Lock()
		var addrs []string
		for _, sp := range p.ready {
			addrs = append(addrs, sp.l.Address())
		}
		p.mu.Unlock()
		if len(addrs) == n {
			return addrs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d spare identities published, want %d", len(addrs), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// linkAddr is the first peer hint of link: the content's own address.
func linkAddr(t *testing.T, link string) string {
	t.Helper()
	l, err := hcrypto.ParseLink(link)
	if err != nil || len(l.Peers) == 0 {
		t.Fatalf("link without its own address: %v", err)
	}
	return l.Peers[0]
}

func TestSpareIdentities(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	a.e.KeepSpareIdentities(2)
	spares := readySpares(t, a, 2)

	// Two contents take one spare each, in the order they were published,
	// and are reachable as soon as they exist.
	path1, data1 := writeFile(t, t.TempDir(), "one.bin", 100<<10)
	path2, _ := writeFile(t, t.TempDir(), "two.bin", 100<<10)
	st1, st2 := a.share(path1, 16<<10), a.share(path2, 16<<10)
	addr1, addr2 := linkAddr(t, st1.Link), linkAddr(t, st2.Link)
	if addr1 == addr2 || !slices.Contains(spares, addr1) || !slices.Contains(spares, addr2) {
		t.Fatalf("contents at %s and %s, spares %v: want one spare each", addr1, addr2, spares)
	}
	a.waitFor(st1.ID, 5*time.Second, "reachable", func(s Status) bool { return s.Reachable })

	// A private share needs client authorization on its service: never a
	// spare. The pool makes new spares for those taken.
	refilled := readySpares(t, a, 2)
	path3, _ := writeFile(t, t.TempDir(), "three.bin", 100<<10)
	st3, err := a.e.Share(context.Background(), path3, ShareOptions{ChunkSize: 16 << 10, Private: true})
	if err != nil {
		t.Fatal(err)
	}
	if addr3 := linkAddr(t, st3.Link); slices.Contains(refilled, addr3) || slices.Contains(spares, addr3) {
		t.Fatalf("a private share took spare %s", addr3)
	}
	if slices.Contains(refilled, addr1) || slices.Contains(refilled, addr2) {
		t.Fatalf("a spare handed out is still in the pool: %v", refilled)
	}

	// The spare serves the content, and the content keeps its address
	// after a restart (its key was stored when it was handed over).
	got := b.get(st1.Link)
	checkFile(t, b.waitDone(got.ID, 20*time.Second).Path, data1)
	a.close()
	a.open()
	after := a.waitFor(st1.ID, 5*time.Second, "reachable again", func(s Status) bool { return s.Reachable })
	if linkAddr(t, after.Link) != addr1 {
		t.Fatalf("after a restart the content is at %s, was %s", linkAddr(t, after.Link), addr1)
	}
	c := newNode(t, n, "c", nil)
	got = c.get(st1.Link)
	checkFile(t, c.waitDone(got.ID, 20*time.Second).Path, data1)
}

// TestSpareIdentitiesFewer: asking for fewer spares removes the onion
// services of those no longer wanted (a bridge node that failed to start
// asks for none), and a content shared then publishes its own.
func TestSpareIdentitiesFewer(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	a.e.KeepSpareIdentities(2)
	spares := readySpares(t, a, 2)
	a.e.KeepSpareIdentities(0)
	readySpares(t, a, 0)
	probe := n.Node("probe")
	for _, addr := range spares {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := probe.Dial(ctx, addr, onion.DialOptions{})
		cancel()
		if err == nil {
			c.Close()
			t.Fatalf("spare %s still answers after KeepSpareIdentities(0)", addr)
		}
	}
	path, _ := writeFile(t, t.TempDir(), "own.bin", 64<<10)
	st := a.share(path, 16<<10)
	if addr := linkAddr(t, st.Link); slices.Contains(spares, addr) {
		t.Fatalf("a content took spare %s after KeepSpareIdentities(0)", addr)
	}
	a.waitFor(st.ID, 5*time.Second, "reachable", func(s Status) bool { return s.Reachable })
}
