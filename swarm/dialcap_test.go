package swarm

import (
	"fmt"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

// TestDialLimiter checks the engine's bounds on onion services and
// circuits per window, on a clock of its own.
func TestDialLimiter(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	onion := func(i int) string { return fmt.Sprintf("%056d.onion:7000", i) }
	type step struct {
		at      time.Duration
		addr    int
		trusted bool
		ok      bool
		retryAt time.Duration // when !ok
	}
	for _, tt := range []struct {
		name                string
		maxOnions, maxDials int
		steps               []step
	}{
		{"a known onion costs only a circuit", 2, 10, []step{
			{0, 1, false, true, 0}, {time.Second, 2, false, true, 0}, {2 * time.Second, 1, false, true, 0}, {3 * time.Second, 2, false, true, 0},
			{4 * time.Second, 3, false, false, 60 * time.Second}, // onion 1 leaves the window first
		}},
		{"an onion counts from its first circuit of the window", 1, 10, []step{
			{0, 1, false, true, 0}, {50 * time.Second, 1, false, true, 0},
			{55 * time.Second, 2, false, false, 60 * time.Second},
			{61 * time.Second, 2, false, true, 0},
			{62 * time.Second, 1, false, false, 121 * time.Second}, // counted again: a new window
		}},
		{"circuits are bounded whatever the onion", 10, 3, []step{
			{0, 1, false, true, 0}, {time.Second, 1, false, true, 0}, {2 * time.Second, 1, false, true, 0},
			{3 * time.Second, 1, false, false, time.Minute}, {3 * time.Second, 2, false, false, time.Minute},
			{time.Minute + time.Millisecond, 2, false, true, 0},
		}},
		{"a quarter of the onions is kept for trusted addresses", 4, 10, []step{
			{0, 1, false, true, 0}, {0, 2, false, true, 0}, {0, 3, false, true, 0},
			{time.Second, 4, false, false, time.Minute}, // heard of only: the last place is kept
			{time.Second, 4, true, true, 0},             // named by the link, proven or a slot host
			{2 * time.Second, 5, true, false, time.Minute},
			{3 * time.Second, 1, false, true, 0}, // a known onion costs only a circuit
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newDialLimiter(time.Minute, tt.maxOnions, tt.maxDials)
			for i, s := range tt.steps {
				ok, retry := l.reserve(onion(s.addr), s.trusted, t0.Add(s.at))
				if ok != s.ok || !ok && !retry.Equal(t0.Add(s.retryAt)) {
					t.Fatalf("step %d: onion %d at %v: ok %v retry %v, want %v %v", i, s.addr, s.at, ok, retry.Sub(t0), s.ok, s.retryAt)
				}
			}
		})
	}
	var none *dialLimiter
	if ok, _ := none.reserve(onion(1), false, t0); !ok {
		t.Fatal("a nil limiter refused")
	}
}

// TestDialCapFlood checks that a swarm that names far more sources than
// the bound (three peers of the link, each passing on 16 made-up onion
// services by PEX) makes the downloader contact at most
// maxOnionsPerWindow distinct onion services within the window (the link's three and made-up ones up to the untrusted part of the bound). Its
// connection table is made larger than the bound (MaxPeersPerContent 128),
// as many contents' together are: without the bound it contacted all 51
// within two seconds (23 with the default 32 connections).
func TestDialCapFlood(t *testing.T) {
	n := memnet.New()
	sealed := sealBytes(t, "f.bin", make([]byte, 1<<20), 64<<10)
	var all []*countingListener
	var link []string
	for g := range 3 {
		var pex []string
		for i := range maxAddrsPerSource {
			cl := startCounting(t, n.Node(fmt.Sprintf("silent-%d-%d", g, i)), false, nil)
			all = append(all, cl)
			pex = append(pex, cl.l.Address())
		}
		gossip := startCounting(t, n.Node(fmt.Sprintf("gossip-%d", g)), true, sealed, pex...)
		all = append(all, gossip)
		link = append(link, gossip.l.Address())
	}
	contacted := func() (onions, conns int) {
		for _, cl := range all {
			if c := cl.count(); c > 0 {
				onions++
				conns += c
			}
		}
		return onions, conns
	}
	b := newNode(t, n, "b", func(c *Config) { c.MaxPeersPerContent = 128 })
	b.get(hcrypto.Link{ID: sealed.Descriptor.ID(), Key: &sealed.Key, Peers: link}.Encode())

	// The link's 3 peers are trusted; the 48 made-up ones may take only
	// the places not kept for trusted addresses.
	want := maxOnionsPerWindow - maxOnionsPerWindow/trustedOnionShare
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if o, _ := contacted(); o >= want {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(8 * tickInterval) // let a dialer without the bound go on
	onions, conns := contacted()
	if onions != want {
		t.Errorf("the downloader contacted %d distinct onion services of %d it knew, want %d (the untrusted part of maxOnionsPerWindow)", onions, len(all), want)
	}
	if conns > maxDialsPerWindow {
		t.Errorf("the downloader opened %d circuits, want at most %d (maxDialsPerWindow)", conns, maxDialsPerWindow)
	}
	if o, d := b.e.dials.counts(time.Now()); o != onions || d < conns {
		t.Errorf("the engine's limiter counts %d onions and %d circuits; the listeners saw %d and %d", o, d, onions, conns)
	}
}
