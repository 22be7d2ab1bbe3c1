package swarm

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// countingListener accepts connections and counts them; with answer it
// does the seeder's handshake (a Welcome, an empty bitfield, then PEX of
// pex) and never serves a chunk; without, it never says a word.
type countingListener struct {
	l      onion.Listener
	answer bool
	sealed *hcrypto.Sealed
	pex    []string

	mu    sync.Mutex
	conns int
}

func startCounting(t *testing.T, nd *memnet.Node, answer bool, sealed *hcrypto.Sealed, pex ...string) *countingListener {
	t.Helper()
	l, err := nd.Listen(context.Background(), onion.ServiceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{l: l, answer: answer, sealed: sealed, pex: pex}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			cl.mu.Lock()
			cl.conns++
			cl.mu.Unlock()
			wg.Go(func() { cl.serve(c) })
		}
	})
	t.Cleanup(func() { l.Close(); wg.Wait() })
	return cl
}

func (cl *countingListener) serve(c net.Conn) {
	defer c.Close()
	if cl.answer {
		if _, err := wire.ReadFrame(c, 0); err != nil {
			return
		}
		desc, _ := cl.sealed.Descriptor.MarshalBinary()
		if wire.WriteFrame(c, wire.Welcome{Version: wire.Version, Descriptor: desc}) != nil ||
			wire.WriteFrame(c, wire.Bitfield{Bits: newBitmap(cl.sealed.Descriptor.NumChunks())}) != nil ||
			wire.WriteFrame(c, wire.PEX{Addrs: cl.pex}) != nil {
			return
		}
	}
	for { // hold the connection until the test ends
		if _, err := wire.ReadFrame(c, 0); err != nil {
			return
		}
	}
}

func (cl *countingListener) count() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.conns
}

// TestDialCircuits checks how many circuits a downloader opens to an
// address that has not answered yet: all of them at once to the link's
// own peers (a second rendezvous round after the first handshake made the
// start seconds slower on busy relays), one to an address a peer passed on,
// until it answers.
func TestDialCircuits(t *testing.T) {
	const circuits = 4
	n := memnet.New()
	data := make([]byte, 1<<20)
	sealed := sealBytes(t, "f.bin", data, 64<<10)
	silentHint := startCounting(t, n.Node("silent-hint"), false, nil)
	silentPEX := startCounting(t, n.Node("silent-pex"), false, nil)
	gossip := startCounting(t, n.Node("gossip"), true, sealed, silentPEX.l.Address())

	b := newNode(t, n, "b", func(c *Config) { c.CircuitsPerPeer = circuits })
	link := hcrypto.Link{ID: sealed.Descriptor.ID(), Key: &sealed.Key, Peers: []string{silentHint.l.Address(), gossip.l.Address()}}
	b.get(link.Encode())

	testkit.Poll(10*time.Second, func() bool { // the counts are checked below
		return silentHint.count() >= circuits && gossip.count() >= circuits && silentPEX.count() >= 1
	})
	b.waitTicks(sealed.Descriptor.ID(), 3) // let a wrong dialer open more
	for _, c := range []struct {
		name string
		cl   *countingListener
		want int
	}{
		{"link peer that never answers", silentHint, circuits},
		{"link peer that answers", gossip, circuits},
		{"address from PEX that never answers", silentPEX, 1},
	} {
		if got := c.cl.count(); got != c.want {
			t.Errorf("%s: %d connections, want %d", c.name, got, c.want)
		}
	}
}

// TestCompleteNodesHangUp checks that two nodes that both hold every chunk
// close their connections: kept alive, they held the seeder's connection
// slots for good.
func TestCompleteNodesHangUp(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", func(c *Config) { c.MaxUploadsPerContent = 2 })
	b := newNode(t, n, "b", func(c *Config) { c.CircuitsPerPeer = 2 })
	path, data := writeFile(t, t.TempDir(), "h", 512<<10)
	st := a.share(path, 16<<10)
	b.get(st.Link)
	done := b.waitDone(st.ID, 20*time.Second)
	checkFile(t, done.Path, data)
	if done.State != StateSeeding {
		t.Fatalf("downloader %v, want seeding", done.State)
	}
	for _, nd := range []*node{a, b} {
		nd.waitFor(st.ID, 5*time.Second, "no connection left", func(s Status) bool { return s.Peers == 0 })
	}
}

// TestFullSeederPointsElsewhere checks that a seeder whose connection slots
// are taken tells the downloader it refuses where else the content is
// (PEX before its Goodbye 3), and that the downloader does not hammer it.
func TestFullSeederPointsElsewhere(t *testing.T) {
	n := memnet.New()
	path, data := writeFile(t, t.TempDir(), "p", 512<<10)
	a := newNode(t, n, "a", func(c *Config) { c.MaxUploadsPerContent = 1 })
	st := a.share(path, 16<<10)
	other := newNode(t, n, "other", nil, memnet.WithBandwidth(256<<10)) // 2 s for the file
	other.importShare(t, a, st)
	otherAddr := linkPeers(t, other.waitFor(st.ID, 10*time.Second, "seeding", func(s Status) bool { return s.State == StateSeeding }).Link)[0]

	// A serving peer takes a's only slot and announces other's address as
	// its own, so that a knows it as a source.
	holder := n.Node("holder")
	conn, err := holder.Dial(context.Background(), linkPeers(t, st.Link)[0], onion.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sayHello(t, conn, wire.Hello{Version: wire.Version, ID: st.ID, Serving: true})
	chunks := (len(data) + 16<<10 - 1) / (16 << 10)
	if err := wire.WriteFrame(conn, wire.Bitfield{Bits: newBitmap(chunks)}); err != nil {
		t.Fatal(err)
	}
	if err := wire.WriteFrame(conn, wire.PEX{Addrs: []string{otherAddr}}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			if _, err := wire.ReadFrame(conn, 1<<20); err != nil {
				return
			}
		}
	}()
	a.waitSwarm(st.ID, 5*time.Second, "the PEX taken in", func(s *swarm) bool {
		ad := s.addrs[otherAddr]
		return ad != nil && ad.claimed
	})

	c := newNode(t, n, "c", nil)
	c.get(st.Link) // names a only
	checkFile(t, c.waitDone(st.ID, 20*time.Second).Path, data)
	if up := upload(other, st); up == 0 {
		t.Error("the other seeder sent nothing")
	}
	// 4 circuits to a at once and 4 to other; dialing a again at every tick
	// made over 30.
	if got := c.mem.Dials(); got > 10 {
		t.Errorf("downloader made %d dials", got)
	}
}
