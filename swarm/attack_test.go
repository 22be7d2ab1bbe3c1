package swarm

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// The attacks of the adversary kit (adversary_test.go), each with the cost
// it may have.

// maxPerHostileConn is what one hostile connection may cost a node before
// its handshake.
const maxPerHostileConn = 64 << 10

// seederUnderAttack shares a small content from a fresh node.
func seederUnderAttack(t *testing.T, n *memnet.Network) (*node, Status, string) {
	t.Helper()
	a := newNode(t, n, "seeder", nil)
	path, _ := writeFile(t, t.TempDir(), "s", 256<<10)
	st := a.share(path, 16<<10)
	a.waitFor(st.ID, 5*time.Second, "seeding", func(s Status) bool { return s.State == StateSeeding })
	return a, st, linkPeers(t, st.Link)[0]
}

// TestAttackFramesBeforeHello: connections that send the header of a
// 16 MiB piece, or nothing, before any Hello cost the seeder at most
// maxPerHostileConn each and are closed within seconds (a piece header
// made it allocate 16 MiB and hold it for the 60 s handshake timeout).
func TestAttackFramesBeforeHello(t *testing.T) {
	for _, tc := range []struct {
		name  string
		conns int
		send  []byte
	}{
		{"piece header", 16, []byte{1, 0, 0, 0, byte(wire.TypePiece)}},
		{"hello header only", 16, []byte{0, 0, 0, 40, byte(wire.TypeHello)}},
		{"nothing", 100, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := memnet.New()
			_, _, addr := seederUnderAttack(t, n)
			adv := newAdversary(t, n, "hostile")
			base := memUse()
			var closed atomic.Int32
			for range tc.conns {
				c := adv.dial(addr)
				c.Write(tc.send)
				go func() { drain(c); closed.Add(1) }()
			}
			peak, ok := peakWhile(15*time.Second, func() bool { return int(closed.Load()) == tc.conns })
			per := (peak - base) / int64(tc.conns)
			t.Logf("%d connections: %d bytes each at the peak, %d closed", tc.conns, per, closed.Load())
			if per > maxPerHostileConn {
				t.Errorf("%d bytes per hostile connection, want at most %d", per, maxPerHostileConn)
			}
			if !ok {
				t.Errorf("%d of %d connections still open after 15 s", tc.conns-int(closed.Load()), tc.conns)
			}
		})
	}
}

// TestAttackBeforeWelcome: a "seeder" that answers the Hello with the
// header of a 16 MiB piece costs the downloader at most maxPerHostileConn
// per circuit (it allocated 16 MiB for each of its 4 circuits), and the
// downloader hangs up at once.
func TestAttackBeforeWelcome(t *testing.T) {
	n := memnet.New()
	_, data := writeFile(t, t.TempDir(), "w", 64<<10)
	sealed := sealBytes(t, "w.bin", data, 16<<10)
	adv := newAdversary(t, n, "hostile")
	start := make(chan struct{})
	var ended atomic.Int32
	sv := adv.serve(func(c net.Conn) {
		<-start
		if _, err := wire.ReadFrame(c, 0); err != nil {
			return
		}
		c.Write([]byte{1, 0, 0, 0, byte(wire.TypePiece)})
		drain(c)
		ended.Add(1)
	})
	b := newNode(t, n, "b", nil)
	b.get(hcrypto.Link{ID: sealed.Descriptor.ID(), Key: &sealed.Key, Peers: []string{sv.l.Address()}}.Encode())
	for deadline := time.Now().Add(5 * time.Second); len(sv.accepted()) < DefaultCircuitsPerPeer; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d circuits dialed, want %d", len(sv.accepted()), DefaultCircuitsPerPeer)
		}
	}
	base := memUse()
	close(start)
	peak, ok := peakWhile(15*time.Second, func() bool { return ended.Load() >= DefaultCircuitsPerPeer })
	per := (peak - base) / DefaultCircuitsPerPeer
	t.Logf("%d bytes per circuit at the peak", per)
	if per > maxPerHostileConn {
		t.Errorf("%d bytes per hostile circuit, want at most %d", per, maxPerHostileConn)
	}
	if !ok {
		t.Errorf("only %d circuits hung up after 15 s", ended.Load())
	}
}

// TestAttackRequestFlood: a peer that sends Requests and never reads what
// comes back is dropped, and the seeder's heap grows by less than the
// peer sent (the Rejects queued without bound: 3.7 times what was sent).
func TestAttackRequestFlood(t *testing.T) {
	n := memnet.New()
	a, st, addr := seederUnderAttack(t, n)
	adv := newAdversary(t, n, "flooder")
	c := adv.join(addr, st.ID, false)
	var batch []byte
	for range 100_000 {
		batch = wire.AppendFrame(batch, wire.Request{Index: 0})
	}
	// One honest request first: what serving a chunk costs once (the
	// file opened, its tree read) is not the flood's.
	wire.WriteFrame(c, wire.Request{Index: 0})
	for {
		m, err := wire.ReadFrame(c, 0)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type() == wire.TypePiece {
			break
		}
	}
	base := memUse() // the batch (900 KB) is the attacker's
	sent := 0
	var werr error
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	for range 20 { // 2,000,000 requests
		var k int
		k, werr = c.Write(batch)
		sent += k
		if werr != nil {
			break
		}
	}
	open := memUse() - base // with the transport's buffers of both directions
	c.Close()               // what the seeder wrote to it and it never read goes with it
	a.waitFor(st.ID, 5*time.Second, "the flooder gone", func(s Status) bool { return s.Peers == 0 })
	growth := memUse() - base
	runtime.KeepAlive(batch)
	t.Logf("sent %d bytes, the seeder's memory grew by %d (%d with the connection's buffers) (write: %v)", sent, growth, open, werr)
	if growth > int64(sent) {
		t.Errorf("memory grew by %d bytes for %d sent", growth, sent)
	}
	if werr == nil || isTimeout(werr) {
		t.Errorf("the seeder kept a peer that never reads (write: %v)", werr)
	}
}

// TestAttackSquatters: 16 connections that claim to be a downloader's
// first and then ask for nothing fill a seeder's table; an honest
// downloader is admitted within seconds and completes (it was refused
// until the squatters' idle timeout, 120 s).
func TestAttackSquatters(t *testing.T) {
	n := memnet.New()
	a, st, addr := seederUnderAttack(t, n)
	adv := newAdversary(t, n, "squatter")
	for range 16 {
		c := adv.join(addr, st.ID, false)
		go drain(c) // it reads: only its silence gives it away
	}
	a.waitFor(st.ID, 5*time.Second, "16 squatters", func(s Status) bool { return s.Connections == 16 })
	b := newNode(t, n, "b", nil)
	got := b.get(st.Link)
	began := time.Now()
	b.waitDone(got.ID, 20*time.Second)
	t.Logf("the honest downloader completed %v after asking", time.Since(began).Round(time.Millisecond))
}

// rounds groups connection times into the dial rounds they came in (the
// circuits of one round come within a moment of each other).
func rounds(times []time.Time) []time.Time {
	var r []time.Time
	for _, at := range times {
		if len(r) == 0 || at.Sub(r[len(r)-1]) > 300*time.Millisecond {
			r = append(r, at)
		}
	}
	return r
}

// TestAttackReconnectLoop: a peer that joins and leaves at once is dialed
// again after 1 s, 2 s, 4 s... (it was dialed ~30 times a second); one
// that breaks the protocol after joining is banned at its third round.
func TestAttackReconnectLoop(t *testing.T) {
	_, data := writeFile(t, t.TempDir(), "r", 64<<10)
	sealed := sealBytes(t, "r.bin", data, 16<<10)
	t.Run("leaves at once", func(t *testing.T) {
		n := memnet.New()
		sv := newAdversary(t, n, "flaky").serve(func(c net.Conn) { welcome(c, sealed) })
		b := newNode(t, n, "b", nil)
		b.get(hcrypto.Link{ID: sealed.Descriptor.ID(), Key: &sealed.Key, Peers: []string{sv.l.Address()}}.Encode())
		var r []time.Time
		for deadline := time.Now().Add(30 * time.Second); len(r) < 4; time.Sleep(50 * time.Millisecond) {
			r = rounds(sv.accepted())
			if time.Now().After(deadline) {
				t.Fatalf("%d rounds in 30 s", len(r))
			}
		}
		t.Logf("%d connections in %d rounds", len(sv.accepted()), len(r))
		for i := 1; i < len(r); i++ {
			gap, want := r[i].Sub(r[i-1]), backoff(i, dialBackoffMax)
			if gap < want*9/10 {
				t.Errorf("round %d came %v after the one before, want at least %v", i+1, gap, want)
			}
		}
	})
	t.Run("breaks the protocol", func(t *testing.T) {
		n := memnet.New()
		sv := newAdversary(t, n, "breaker").serve(func(c net.Conn) {
			if welcome(c, sealed) {
				c.Write([]byte{0, 0, 0, 1, 99}) // an unknown frame
				drain(c)
			}
		})
		b := newNode(t, n, "b", nil)
		got := b.get(hcrypto.Link{ID: sealed.Descriptor.ID(), Key: &sealed.Key, Peers: []string{sv.l.Address()}}.Encode())
		b.waitFor(got.ID, 20*time.Second, "banned", func(s Status) bool { return strings.Contains(s.Waiting, "banned") })
		r := rounds(sv.accepted())
		t.Logf("banned after %d connections in %d rounds", len(sv.accepted()), len(r))
		if len(r) > maxViolations {
			t.Errorf("%d rounds before the ban, want at most %d", len(r), maxViolations)
		}
	})
}

// randomOnion is a valid onion address nobody serves.
func randomOnion(t *testing.T) string {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return onion.AddressForKey(pub, 0)
}

// TestAttackPEXFlood: a peer that sends hundreds of made-up addresses
// (more than the address book holds) does not keep a downloader from the
// real seeder that another peer names afterwards (the book was full and
// the seeder never learned).
func TestAttackPEXFlood(t *testing.T) {
	n := memnet.New()
	seeder, st, seederAddr := seederUnderAttack(t, n)
	_ = seeder
	sealedDesc := func(c net.Conn) bool {
		// A peer of the content with nothing to give: its Welcome carries
		// the real descriptor, learned from the seeder.
		if _, err := wire.ReadFrame(c, 0); err != nil {
			return false
		}
		d := joinDescriptor(t, n, seederAddr, st.ID)
		return wire.WriteFrame(c, wire.Welcome{Version: wire.Version, Descriptor: d}) == nil &&
			wire.WriteFrame(c, wire.Bitfield{Bits: make([]byte, (16+7)/8)}) == nil
	}
	flooded := make(chan struct{})
	var once sync.Once
	fake := make([]string, 9*wire.MaxPEXAddrs)
	for i := range fake {
		fake[i] = randomOnion(t)
	}
	flooder := newAdversary(t, n, "flooder").serve(func(c net.Conn) {
		if !sealedDesc(c) {
			return
		}
		for i := 0; i < len(fake); i += wire.MaxPEXAddrs {
			wire.WriteFrame(c, wire.PEX{Addrs: fake[i : i+wire.MaxPEXAddrs]})
		}
		// The Reject of a request sent after the flood says the
		// downloader's reader has passed the flood on: the relay's PEX
		// comes after it.
		wire.WriteFrame(c, wire.Request{Index: 0})
		for {
			m, err := wire.ReadFrame(c, 0)
			if err != nil {
				return
			}
			if m.Type() == wire.TypeReject {
				break
			}
		}
		once.Do(func() { close(flooded) })
		drain(c)
	})
	honest := newAdversary(t, n, "relay").serve(func(c net.Conn) {
		if !sealedDesc(c) {
			return
		}
		<-flooded
		wire.WriteFrame(c, wire.PEX{Addrs: []string{seederAddr}})
		drain(c)
	})
	l, err := hcrypto.ParseLink(st.Link)
	if err != nil {
		t.Fatal(err)
	}
	l.Peers = []string{flooder.l.Address(), honest.l.Address()}
	b := newNode(t, n, "b", nil)
	got := b.get(l.Encode())
	b.waitDone(got.ID, 30*time.Second)
}

// joinDescriptor fetches a content's descriptor from a seeder.
func joinDescriptor(t *testing.T, n *memnet.Network, addr string, id hcrypto.ContentID) []byte {
	c, err := n.Node(fmt.Sprintf("probe-%d", time.Now().UnixNano())).Dial(t.Context(), addr, onion.DialOptions{})
	if err != nil {
		t.Error(err)
		return nil
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	wire.WriteFrame(c, wire.Hello{Version: wire.Version, ID: id})
	m, err := wire.ReadFrame(c, 0)
	w, ok := m.(wire.Welcome)
	if err != nil || !ok {
		t.Error(errors.Join(err, errors.New("no welcome")))
		return nil
	}
	return w.Descriptor
}

// TestAttackForgedChunkInbound: a peer that connects to a downloader,
// announces its own address and sends a forged chunk is banned by that
// address: when it comes back announcing it, it is refused (it used to be
// closed and welcome again at once).
func TestAttackForgedChunkInbound(t *testing.T) {
	n := memnet.New()
	_, data := writeFile(t, t.TempDir(), "f", 2<<20)
	sealed := sealBytes(t, "f.bin", data, 16<<10)
	slow := newAdversary(t, n, "slow")
	slow.nd.SetLink(memnet.WithBandwidth(64 << 10)) // b stays incomplete for the whole test
	seeder := startFakeSeeder(t, slow.nd, sealed, data, false)
	b := newNode(t, n, "b", nil)
	st := b.get(seeder.link())
	bAddr := b.ownAddress(st.ID, seeder.l.Address())
	liar := newAdversary(t, n, "liar")
	own := liar.serve(func(c net.Conn) { drain(c) }).l.Address()
	all := newBitmap(sealed.Descriptor.NumChunks())
	for i := range sealed.Descriptor.NumChunks() {
		all.set(i)
	}
	// come joins b as a seeder at own's address and returns what b answers
	// to its announcement.
	come := func() net.Conn {
		c := liar.dial(bAddr)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		wire.WriteFrame(c, wire.Hello{Version: wire.Version, ID: st.ID, Serving: true})
		if m, err := wire.ReadFrame(c, 0); err != nil || m.Type() != wire.TypeWelcome {
			t.Fatalf("welcome: %v %v", m, err)
		}
		wire.WriteFrame(c, wire.PEX{Addrs: []string{own}})
		wire.WriteFrame(c, wire.Bitfield{Bits: all})
		return c
	}
	c := come()
	for {
		m, err := wire.ReadFrame(c, 0)
		if err != nil {
			t.Fatalf("no request came: %v", err)
		}
		if r, ok := m.(wire.Request); ok {
			ct, proof, _ := sealed.ReadChunk(bytes.NewReader(data), int(r.Index))
			ct[0] ^= 1
			pb, _ := proof.MarshalBinary()
			wire.WriteFrame(c, wire.Piece{Index: r.Index, Proof: pb, Data: ct})
			break
		}
	}
	if code := goodbyeOf(c); code != wire.ByeBanned {
		t.Fatalf("after the forged chunk: goodbye %v, want banned", code)
	}
	if code := goodbyeOf(come()); code != wire.ByeBanned {
		t.Fatalf("back under its address: goodbye %v, want banned", code)
	}
}

// goodbyeOf reads until a Goodbye and returns its code (ByeNormal if the
// connection ends without one).
func goodbyeOf(c net.Conn) wire.GoodbyeCode {
	for {
		m, err := wire.ReadFrame(c, 0)
		if err != nil {
			return wire.ByeNormal
		}
		if g, ok := m.(wire.Goodbye); ok {
			return g.Code
		}
	}
}

// TestAttackClaimIsNoProof: an accepted peer that announces an address as
// its own does not make it proven: the downloader dials it with one
// circuit until a handshake succeeds there (the claim marked it good, and
// every circuit went to it at once).
func TestAttackClaimIsNoProof(t *testing.T) {
	n := memnet.New()
	_, data := writeFile(t, t.TempDir(), "c", 2<<20)
	sealed := sealBytes(t, "c.bin", data, 16<<10)
	slow := newAdversary(t, n, "slow")
	slow.nd.SetLink(memnet.WithBandwidth(64 << 10))
	seeder := startFakeSeeder(t, slow.nd, sealed, data, false)
	b := newNode(t, n, "b", nil)
	st := b.get(seeder.link())
	bAddr := b.ownAddress(st.ID, seeder.l.Address())
	liar := newAdversary(t, n, "liar")
	hang := newAdversary(t, n, "victim").serve(func(c net.Conn) { drain(c) }) // never answers the Hello
	c := liar.dial(bAddr)
	wire.WriteFrame(c, wire.Hello{Version: wire.Version, ID: st.ID, Serving: true})
	wire.WriteFrame(c, wire.PEX{Addrs: []string{hang.l.Address()}})
	go drain(c)
	for deadline := time.Now().Add(5 * time.Second); len(hang.accepted()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the claimed address was never dialed")
		}
	}
	// Several ticks of the dialer (250 ms each) pass: no second circuit.
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if k := len(hang.accepted()); k > 1 {
			t.Fatalf("%d circuits to an address only claimed, want 1", k)
		}
	}
}
