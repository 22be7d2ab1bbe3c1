package swarm

import (
	"context"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// The adversary kit: a hostile peer on the in-memory network, driven by a
// script, for the attacks of attack_test.go. It dials a node (frames
// before the handshake, floods, squatting) or serves one that dials it
// (answers that break the protocol, reconnect loops, lies about
// addresses). Each attack asserts what it may cost the node; the next
// finding is a new script here and a new test there.

// adversary is a hostile node on a memnet network.
type adversary struct {
	t  *testing.T
	nd *memnet.Node
}

func newAdversary(t *testing.T, n *memnet.Network, name string) *adversary {
	return &adversary{t: t, nd: n.Node(name)}
}

// dial opens a raw connection to addr, waiting for its service to be up.
func (a *adversary) dial(addr string) net.Conn {
	a.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := a.nd.Dial(context.Background(), addr, onion.DialOptions{})
		if err == nil {
			a.t.Cleanup(func() { c.Close() })
			return c
		}
		if time.Now().After(deadline) {
			a.t.Fatal(err)
		}
	}
}

// join dials addr and completes the handshake for content id (extra says
// Hello.Extra); it returns the connection after the Welcome and the frames
// that admitted it.
func (a *adversary) join(addr string, id hcrypto.ContentID, extra bool) net.Conn {
	a.t.Helper()
	c := a.dial(addr)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if err := wire.WriteFrame(c, wire.Hello{Version: wire.Version, ID: id, Extra: extra}); err != nil {
		a.t.Fatal(err)
	}
	if m, err := wire.ReadFrame(c, 0); err != nil || m.Type() != wire.TypeWelcome {
		a.t.Fatalf("join: %v %v, want a welcome", m, err)
	}
	if m, err := wire.ReadFrame(c, 0); err != nil || m.Type() != wire.TypeBitfield {
		a.t.Fatalf("join: %v %v, want a bitfield", m, err)
	}
	c.SetDeadline(time.Time{})
	return c
}

// script is what a hostile service does with one accepted connection.
type script func(c net.Conn)

// service is a hostile onion service running a script on every connection;
// it records when each came.
type service struct {
	l     onion.Listener
	mu    sync.Mutex
	times []time.Time
	wg    sync.WaitGroup
}

// serve publishes a service on the adversary's node that runs s.
func (a *adversary) serve(s script) *service {
	a.t.Helper()
	l, err := a.nd.Listen(context.Background(), onion.ServiceConfig{})
	if err != nil {
		a.t.Fatal(err)
	}
	sv := &service{l: l}
	sv.wg.Add(1)
	go func() {
		defer sv.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			sv.mu.Lock()
			sv.times = append(sv.times, time.Now())
			sv.mu.Unlock()
			sv.wg.Add(1)
			go func() { defer sv.wg.Done(); defer c.Close(); s(c) }()
		}
	}()
	a.t.Cleanup(func() { l.Close(); a.nd.Close(); sv.wg.Wait() })
	return sv
}

// accepted returns when each connection came.
func (sv *service) accepted() []time.Time {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return append([]time.Time(nil), sv.times...)
}

// welcome answers a Hello as a seeder of sealed does (Welcome, and a
// Bitfield of every chunk) and reports whether it got that far.
func welcome(c net.Conn, sealed *hcrypto.Sealed) bool {
	if _, err := wire.ReadFrame(c, 0); err != nil {
		return false
	}
	desc, _ := sealed.Descriptor.MarshalBinary()
	all := newBitmap(sealed.Descriptor.NumChunks())
	for i := range sealed.Descriptor.NumChunks() {
		all.set(i)
	}
	return wire.WriteFrame(c, wire.Welcome{Version: wire.Version, Descriptor: desc}) == nil &&
		wire.WriteFrame(c, wire.Bitfield{Bits: all}) == nil
}

// drain reads until the connection ends and says how it ended.
func drain(c net.Conn) error {
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return err
		}
	}
}

// memUse is the memory the process holds: live heap and goroutine stacks,
// after a collection.
func memUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc + m.StackInuse)
}

// peakWhile samples memUse until done returns true or the deadline, and
// returns the highest sample and whether done came.
func peakWhile(d time.Duration, done func() bool) (int64, bool) {
	var peak int64
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		peak = max(peak, memUse())
		if done() {
			return peak, true
		}
		if time.Now().After(deadline) {
			return peak, false
		}
	}
}
