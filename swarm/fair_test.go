package swarm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// TestExtraConnectionYields checks the acceptor's side of Hello.Extra, one
// step at a time on a seeder with two upload slots: an extra connection
// never takes a slot from anyone, and a first connection takes the slot of
// the youngest extra one, never of a first one.
func TestExtraConnectionYields(t *testing.T) {
	n := memnet.New()
	seeder := newNode(t, n, "seeder", func(c *Config) { c.MaxUploadsPerContent = 2 })
	path, _ := writeFile(t, t.TempDir(), "f", 256<<10)
	st := seeder.share(path, 16<<10)
	addr := linkPeers(t, st.Link)[0]
	dialer := n.Node("dialer")

	// hello dials the seeder with the given Hello.Extra and says whether it
	// was admitted (a Welcome, then no Goodbye).
	hello := func(extra bool) (net.Conn, bool) {
		t.Helper()
		var conn net.Conn
		var err error
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if conn, err = dialer.Dial(context.Background(), addr, onion.DialOptions{}); err == nil {
				break
			} else if time.Now().After(deadline) {
				t.Fatal(err) // the share's onion service never came up
			}
		}
		t.Cleanup(func() { conn.Close() })
		sayHello(t, conn, wire.Hello{Version: wire.Version, ID: st.ID, Extra: extra})
		return conn, !refused(t, conn, 300*time.Millisecond)
	}

	first, ok := hello(false)
	if !ok {
		t.Fatal("first connection refused with both slots free")
	}
	extra, ok := hello(true)
	if !ok {
		t.Fatal("extra connection refused with a slot free")
	}
	if _, ok := hello(true); ok {
		t.Fatal("an extra connection was admitted to a full table")
	}
	if _, ok := hello(false); !ok {
		t.Fatal("a newcomer's first connection was refused while an extra one held a slot")
	}
	if !refused(t, extra, 2*time.Second) {
		t.Fatal("the extra connection was not closed with Goodbye 3 for the newcomer")
	}
	if _, ok := hello(false); ok {
		t.Fatal("a first connection was admitted with only first connections in the table")
	}
	if refused(t, first, 300*time.Millisecond) {
		t.Fatal("a first connection was closed for a newcomer")
	}
}

// sayHello writes h on conn, as a dialer, and fails unless a Welcome comes.
func sayHello(t *testing.T, conn net.Conn, h wire.Hello) {
	t.Helper()
	if err := wire.WriteFrame(conn, h); err != nil {
		t.Fatal(err)
	}
	if m, err := wire.ReadFrame(conn, 0); err != nil {
		t.Fatal(err)
	} else if _, ok := m.(wire.Welcome); !ok {
		t.Fatalf("got %s, want welcome", m.Type())
	}
}

// refused reads conn for d and says whether a Goodbye 3 came (other frames
// are skipped).
func refused(t *testing.T, conn net.Conn, d time.Duration) bool {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(d))
	defer conn.SetReadDeadline(time.Time{})
	for {
		m, err := wire.ReadFrame(conn, 1<<20)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return false
		case err != nil:
			t.Fatalf("reading: %v", err)
		}
		if g, ok := m.(wire.Goodbye); ok {
			return g.Code == wire.ByeFull
		}
	}
}

// TestNewcomerGetsASlot checks the flash crowd of one seeder: a downloader
// that comes while an earlier one holds all the seeder's slots with its
// circuits gets one of them at once, instead of waiting for the earlier one
// to finish (neither re-shares, so the seeder is the only source), and the
// one that lost a circuit does not hammer the seeder to get it back.
func TestNewcomerGetsASlot(t *testing.T) {
	n := memnet.New(memnet.WithLatency(10 * time.Millisecond))
	seeder := newNode(t, n, "seeder", func(c *Config) { c.MaxUploadsPerContent = 4 }, memnet.WithUplink(1<<20))
	path, data := writeFile(t, t.TempDir(), "crowd.bin", 6<<20) // 6 s of the seeder's uplink
	st := seeder.share(path, 64<<10)
	noReshare := func(c *Config) { c.Reshare = false }
	a := newNode(t, n, "a", noReshare)
	a.get(st.Link)
	a.waitFor(st.ID, 10*time.Second, "4 circuits", func(s Status) bool { return s.Connections == 4 })

	b := newNode(t, n, "b", noReshare)
	b.get(st.Link)
	b.waitFor(st.ID, 3*time.Second, "a first chunk", func(s Status) bool { return s.Verified > 0 })
	if s, _ := a.e.Status(st.ID); s.Done() {
		t.Fatal("a finished before b got its first chunk: the test proves nothing")
	}
	checkFile(t, a.waitDone(st.ID, 30*time.Second).Path, data)
	checkFile(t, b.waitDone(st.ID, 30*time.Second).Path, data)
	// a: 4 circuits, then one more at a time after 1, 2, 4 s... while b
	// holds a slot; redialing at every tick made dozens.
	if got := a.mem.Dials(); got > 9 {
		t.Errorf("a made %d dials", got)
	}
	if got := b.mem.Dials(); got > 9 {
		t.Errorf("b made %d dials", got)
	}
}

// TestReadAdmission checks how a dialer reads the acceptor's answer after
// its Welcome, hostile answers included.
func TestReadAdmission(t *testing.T) {
	pex := wire.PEX{Addrs: []string{testOnion}}
	tests := []struct {
		name     string
		frames   []wire.Message
		wantBits bool     // admitted
		wantFull []string // refused for want of room, naming these sources
		wantErr  error    // any other refusal: errors.Is, or nil for a plain error
	}{
		{name: "admitted", frames: []wire.Message{wire.Bitfield{Bits: []byte{0x80}}}, wantBits: true},
		{name: "full", frames: []wire.Message{wire.Goodbye{Code: wire.ByeFull}}, wantFull: []string{}},
		{name: "full with sources", frames: []wire.Message{pex, wire.Goodbye{Code: wire.ByeFull}}, wantFull: pex.Addrs},
		{name: "other goodbye", frames: []wire.Message{wire.Goodbye{Code: wire.ByeUnknown}}},
		{name: "bitfield after pex", frames: []wire.Message{pex, wire.Bitfield{Bits: []byte{0x80}}}, wantErr: errProtocol},
		{name: "two pex", frames: []wire.Message{pex, pex}, wantErr: errProtocol},
		{name: "piece first", frames: []wire.Message{wire.Piece{Index: 0, Data: []byte{1}}}, wantErr: errProtocol},
		{name: "second welcome", frames: []wire.Message{wire.Welcome{Version: wire.Version}}, wantErr: errProtocol},
		{name: "closed", frames: nil, wantErr: io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b []byte
			for _, m := range tt.frames {
				b = wire.AppendFrame(b, m)
			}
			bf, err := readAdmission(bytes.NewReader(b))
			var full *fullError
			switch {
			case tt.wantBits:
				if err != nil || len(bf.Bits) != 1 {
					t.Fatalf("got %v, %v; want the bitfield", bf, err)
				}
			case tt.wantFull != nil:
				if !errors.As(err, &full) || !errors.Is(err, errPeerFull) || !slices.Equal(full.pex, tt.wantFull) {
					t.Fatalf("got %v (%#v); want full naming %v", err, full, tt.wantFull)
				}
			default:
				if err == nil || errors.As(err, &full) || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v; want an error (%v)", err, tt.wantErr)
				}
			}
		})
	}
}

// TestFullBackoff checks the waits between requests for room: doubling from
// 1 s, never over fullBackoffMax, however many refusals.
func TestFullBackoff(t *testing.T) {
	for _, tt := range []struct {
		refusals int
		want     time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {4, 8 * time.Second}, {5, fullBackoffMax}, {64, fullBackoffMax}} {
		if got := (&addrState{full: tt.refusals}).fullBackoff(); got != tt.want {
			t.Errorf("after %d refusals: %v, want %v", tt.refusals, got, tt.want)
		}
	}
}

// FuzzReadAdmission checks that whatever an acceptor sends after its
// Welcome, the dialer either gets a Bitfield that was the first frame, a
// refusal, or an error, and never panics.
func FuzzReadAdmission(f *testing.F) {
	pex := wire.PEX{Addrs: []string{testOnion}}
	for _, fs := range [][]wire.Message{{wire.Bitfield{Bits: []byte{0x80}}}, {pex, wire.Goodbye{Code: wire.ByeFull}}, {wire.Goodbye{Code: wire.ByeFull}}, {pex, pex}} {
		var b []byte
		for _, m := range fs {
			b = wire.AppendFrame(b, m)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		bf, err := readAdmission(bytes.NewReader(in))
		if err != nil {
			return
		}
		m, ferr := wire.ReadFrame(bytes.NewReader(in), 0)
		if first, ok := m.(wire.Bitfield); ferr != nil || !ok || !bytes.Equal(first.Bits, bf.Bits) {
			t.Fatalf("admitted with %v, but the first frame is %v (%v)", bf, m, ferr)
		}
	})
}

// TestDialFailuresOfABurstCountOnce checks that circuits dialed together
// and failing together (a service whose descriptor is not out yet) put off
// the next dial by one step of the backoff, not by one step per circuit,
// and that a dial started after a counted failure counts again.
func TestDialFailuresOfABurstCountOnce(t *testing.T) {
	t0 := time.Unix(1000, 0)
	st := &addrState{}
	for i := range 4 { // four circuits dialed at t0, failing 10 ms apart
		st.failed(t0, t0.Add(time.Duration(i+1)*10*time.Millisecond))
	}
	if st.fails != 1 || st.retryAt != t0.Add(10*time.Millisecond+dialBackoffFirst) {
		t.Fatalf("after a burst of four failures: fails %d, retry %v after the first failure; want 1, %v",
			st.fails, st.retryAt.Sub(t0.Add(10*time.Millisecond)), dialBackoffFirst)
	}
	again := st.retryAt
	st.failed(again, again.Add(time.Second)) // the retry fails too
	if st.fails != 2 || st.retryAt != again.Add(time.Second+2*dialBackoffFirst) {
		t.Fatalf("after the retry failed: fails %d, retry at %v; want 2, %v", st.fails, st.retryAt, again.Add(time.Second+2*dialBackoffFirst))
	}
	st.failed(t0, again.Add(2*time.Second)) // a straggler of the first burst
	if st.fails != 2 {
		t.Fatalf("a dial of the first burst counted again: fails %d", st.fails)
	}
}
