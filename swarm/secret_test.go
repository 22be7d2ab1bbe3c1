package swarm

import (
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

// linkWithout returns link with neither peer hints nor swarm secret: a
// content known by its ID (and key) alone.
func linkWithout(t *testing.T, link string) string {
	t.Helper()
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	l.Peers, l.Secret = nil, nil
	return l.Encode()
}

func secretOf(t *testing.T, link string) *hcrypto.SwarmSecret {
	t.Helper()
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	return l.Secret
}

// TestSwarmSecret checks R1 on the engine's side: every share draws its own
// secret, every link of it carries it (host-only links included, and the
// links ReadState rebuilds), and a content fetched from a link keeps the
// link's secret across a restart.
func TestSwarmSecret(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	p1, _ := writeFile(t, t.TempDir(), "one", 10<<10)
	p2, _ := writeFile(t, t.TempDir(), "two", 11<<10)
	s1, s2 := a.share(p1, 0), a.share(p2, 0)
	sec1, sec2 := secretOf(t, s1.Link), secretOf(t, s2.Link)
	if sec1 == nil || sec2 == nil {
		t.Fatal("a share's link carries no swarm secret")
	}
	if *sec1 == *sec2 {
		t.Fatal("two shares got the same swarm secret")
	}
	l, _ := hcrypto.ParseLink(s1.Link)
	if h := l.HostOnly(); h.Secret == nil || *h.Secret != *sec1 {
		t.Fatal("the host-only link lost the swarm secret")
	}

	b := newNode(t, n, "b", nil)
	host := newNode(t, n, "host", nil)
	b.get(s1.Link)
	host.get(l.HostOnly().Encode())
	for _, nd := range []*node{b, host} {
		st := nd.waitDone(s1.ID, 20*time.Second)
		if got := secretOf(t, st.Link); got == nil || *got != *sec1 {
			t.Fatalf("%s: its link lost the swarm secret of the link it came from", nd.name)
		}
	}
	b.close()
	states, err := ReadState(b.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || secretOf(t, states[0].Link) == nil || *secretOf(t, states[0].Link) != *sec1 {
		t.Fatal("ReadState's link lost the swarm secret")
	}
	b.open()
	if got := secretOf(t, b.waitDone(s1.ID, 20*time.Second).Link); got == nil || *got != *sec1 {
		t.Fatal("the swarm secret did not survive a restart")
	}
}
