package swarm

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// TestUnsolicitedPieceDropsPeer: a peer that sends a piece nobody requested
// is disconnected as a protocol violation.
func TestUnsolicitedPieceDropsPeer(t *testing.T) {
	n := memnet.New()
	_, data := writeFile(t, t.TempDir(), "u", 64<<10)
	sealed := sealBytes(t, "u.bin", data, 16<<10)
	rude := startFakeSeeder(t, n.Node("rude"), sealed, data, false)
	rude.unsolicited = true
	b := newNode(t, n, "b", nil)
	b.get(rude.link())
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, _, _, byes := rude.stats(); slices.Contains(byes, wire.ByeProtocol) {
			break
		}
		if time.Now().After(deadline) {
			_, _, _, byes := rude.stats()
			t.Fatalf("goodbyes %v, want protocol violation", byes)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServerRejectsHostileFrames: a seeder closes a connection that sends an
// unknown frame, an oversized one, or asks for another content.
func TestServerRejectsHostileFrames(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	path, _ := writeFile(t, t.TempDir(), "s", 64<<10)
	st := a.share(path, 16<<10)
	addr := linkPeers(t, st.Link)[0]
	a.waitFor(st.ID, 5*time.Second, "listening", func(s Status) bool { return s.State == StateSeeding })
	cli := n.Node("hostile")
	dial := func(t *testing.T) ioConn {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			c, err := cli.Dial(context.Background(), addr, onion.DialOptions{})
			if err == nil {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				return c
			}
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
		}
	}
	handshake := func(t *testing.T, c ioConn) {
		t.Helper()
		if err := wire.WriteFrame(c, wire.Hello{Version: wire.Version, ID: st.ID}); err != nil {
			t.Fatal(err)
		}
		if m, err := wire.ReadFrame(c, 0); err != nil || m.Type() != wire.TypeWelcome {
			t.Fatalf("welcome: %v %v", m, err)
		}
	}
	// closed reads until the server hangs up (frames it sent first are fine).
	closed := func(t *testing.T, c ioConn) {
		t.Helper()
		for {
			_, err := wire.ReadFrame(c, 0)
			if err == nil {
				continue
			}
			if errors.Is(err, io.EOF) || !isTimeout(err) {
				return
			}
			t.Fatalf("server kept the connection open: %v", err)
		}
	}
	t.Run("wrong content", func(t *testing.T) {
		c := dial(t)
		wire.WriteFrame(c, wire.Hello{Version: wire.Version, ID: [32]byte{1}})
		m, err := wire.ReadFrame(c, 0)
		if g, ok := m.(wire.Goodbye); err != nil || !ok || g.Code != wire.ByeUnknown {
			t.Fatalf("answer %#v %v, want goodbye unknown", m, err)
		}
	})
	t.Run("wrong version", func(t *testing.T) {
		c := dial(t)
		wire.WriteFrame(c, wire.Hello{Version: 9, ID: st.ID})
		m, err := wire.ReadFrame(c, 0)
		if g, ok := m.(wire.Goodbye); err != nil || !ok || g.Code != wire.ByeVersion {
			t.Fatalf("answer %#v %v, want goodbye version", m, err)
		}
	})
	t.Run("unknown frame", func(t *testing.T) {
		c := dial(t)
		handshake(t, c)
		c.Write([]byte{0, 0, 0, 1, 99})
		closed(t, c)
	})
	t.Run("oversized frame", func(t *testing.T) {
		c := dial(t)
		handshake(t, c)
		c.Write([]byte{0x7f, 0, 0, 0, byte(wire.TypePiece)})
		closed(t, c)
	})
	t.Run("second hello", func(t *testing.T) {
		c := dial(t)
		handshake(t, c)
		wire.WriteFrame(c, wire.Hello{Version: wire.Version, ID: st.ID})
		closed(t, c)
	})
}

type ioConn interface {
	io.ReadWriter
	SetDeadline(time.Time) error
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// TestLateCancelledPiecesKeepPeer: a reader that jumps makes the downloader
// withdraw its queued requests; a peer that serves them anyway (its pieces
// were on their way, or it ignores Cancel, as this one does) is not taken
// for a protocol violator, and the download completes, exact.
func TestLateCancelledPiecesKeepPeer(t *testing.T) {
	n := memnet.New(memnet.WithBandwidth(2 << 20))
	_, data := writeFile(t, t.TempDir(), "j", 3<<20)
	sealed := sealBytes(t, "j.bin", data, 16<<10)
	deaf := startFakeSeeder(t, n.Node("deaf"), sealed, data, false)
	b := newNode(t, n, "b", func(c *Config) { c.CircuitsPerPeer = 2 })
	st := b.get(deaf.link())
	f, err := b.e.Open(context.Background(), st.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1000)
	for _, at := range []int64{0, int64(len(data)) - 5000, 1 << 20, 2 << 20, 100} {
		if _, err := f.Seek(at, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(f, buf); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(buf, data[at:at+1000]) {
			t.Fatalf("read at %d: wrong bytes", at)
		}
	}
	done := b.waitDone(st.ID, time.Minute)
	checkFile(t, done.Path, data)
	if _, _, _, byes := deaf.stats(); slices.Contains(byes, wire.ByeProtocol) {
		t.Fatalf("goodbyes %v: a late cancelled piece was taken for a violation", byes)
	}
}

// TestJumpGoesToTheHeadOfTheQueue: a peer serves requests in order (as
// hydre's uploader does); when a reader jumps, the downloader withdraws its
// queued requests so that the chunks where the reader now waits are served
// next, not after everything asked for before the jump.
func TestJumpGoesToTheHeadOfTheQueue(t *testing.T) {
	n := memnet.New(memnet.WithBandwidth(512 << 10))
	_, data := writeFile(t, t.TempDir(), "q", 4<<20)
	sealed := sealBytes(t, "q.bin", data, 16<<10)
	peer := startFakeSeeder(t, n.Node("fifo"), sealed, data, false)
	peer.fifo = true
	b := newNode(t, n, "b", func(c *Config) { c.CircuitsPerPeer = 1 })
	st := b.get(peer.link())
	// Let the download fill its request window with rarest-first chunks.
	b.waitFor(st.ID, 30*time.Second, "some chunks", func(s Status) bool { return s.Verified >= 256<<10 })
	f, err := b.e.Open(context.Background(), st.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Read at 0 first, so that the window the Open asked for is out before
	// the first seek: a seek that comes while the engine is still asking
	// for the Open's window (a player opening and seeking at once) has
	// those chunks written before its Cancel frames can arrive (the
	// transport buffers 256 KiB, as tor does), which is not what this test
	// is about.
	seekRead(t, f, data, 0)
	const chunk = 16 << 10
	for _, at := range []int64{3<<20 + 5*chunk, 1<<20 + 7*chunk, 2<<20 + 3*chunk} {
		mark := len(peer.sentSince(0))
		seekRead(t, f, data, at)
		want := uint32(at / chunk)
		sent := peer.sentSince(mark)
		before := slices.Index(sent, want)
		if before < 0 {
			// It was already held or arrived before the mark.
			continue
		}
		// Only what was being written when the Cancel frames arrived may
		// come first: a few chunks, not the whole window.
		if before > 3 {
			t.Errorf("jump to chunk %d: %d other chunks served before it: %v", want, before, sent[:before])
		}
	}
}

// TestSeekAsksEveryPeerForTheHead seeks while two peers each have a
// window of requests queued: the chunk at the new place is asked of both,
// ahead of anything else asked after the seek, since what a circuit
// carries already cannot be recalled and the first copy wins.
func TestSeekAsksEveryPeerForTheHead(t *testing.T) {
	n := memnet.New(memnet.WithBandwidth(128 << 10)) // 4 MiB take 16 s: the seeks land on missing chunks
	_, data := writeFile(t, t.TempDir(), "h", 4<<20)
	sealed := sealBytes(t, "h.bin", data, 16<<10)
	seeders := []*fakeSeeder{startFakeSeeder(t, n.Node("s1"), sealed, data, false),
		startFakeSeeder(t, n.Node("s2"), sealed, data, false)}
	for _, s := range seeders {
		s.fifo = true
	}
	link := hcrypto.Link{ID: sealed.Descriptor.ID(), Key: &sealed.Key,
		Peers: []string{seeders[0].l.Address(), seeders[1].l.Address()}}.Encode()
	b := newNode(t, n, "b", func(c *Config) { c.CircuitsPerPeer = 1 })
	st := b.get(link)
	b.waitFor(st.ID, 30*time.Second, "some chunks", func(s Status) bool { return s.Verified >= 64<<10 && s.Peers == 2 })
	f, err := b.e.Open(context.Background(), st.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const chunk = 16 << 10
	checked := 0
	for _, at := range []int64{3<<20 + 5*chunk, 1<<20 + 9*chunk, 2<<20 + 3*chunk} {
		marks := []int{len(seeders[0].askedSince(0)), len(seeders[1].askedSince(0))}
		seekRead(t, f, data, at)
		head := uint32(at / chunk)
		var asked [2][]uint32
		for k, s := range seeders {
			asked[k] = s.askedSince(marks[k])
		}
		if !slices.Contains(asked[0], head) && !slices.Contains(asked[1], head) {
			continue // held, or asked for, before the seek
		}
		checked++
		// Requests for the old place may still go out after the mark;
		// of the new place, the head comes first, from both peers.
		for k, s := range seeders {
			if slices.Contains(s.askedSince(0)[:marks[k]], head) {
				continue // asked of this peer before the seek: still at the head of its queue
			}
			i := slices.Index(asked[k], head)
			first := slices.IndexFunc(asked[k], func(c uint32) bool { return c > head && c < head+8 })
			if i < 0 || (first >= 0 && first < i) {
				t.Errorf("seek to chunk %d: peer %d was asked %v", head, k+1, asked[k][:min(len(asked[k]), 10)])
			}
		}
	}
	if checked == 0 {
		t.Fatal("every seek landed on a chunk held or asked for before it")
	}
}

// seekRead seeks f to at and checks the 100 bytes read there against data.
func seekRead(t *testing.T, f File, data []byte, at int64) {
	t.Helper()
	if _, err := f.Seek(at, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	if _, err := io.ReadFull(f, buf); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(buf, data[at:at+100]) {
		t.Fatalf("read at %d: wrong bytes", at)
	}
}
