package swarm

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
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
		if _, _, _, byes := rude.stats(); slices.Contains(byes, ByeProtocol) {
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
		if err := WriteFrame(c, Hello{Version: ProtocolVersion, ID: st.ID}); err != nil {
			t.Fatal(err)
		}
		if m, err := ReadFrame(c, 0); err != nil || m.Type() != MsgWelcome {
			t.Fatalf("welcome: %v %v", m, err)
		}
	}
	// closed reads until the server hangs up (frames it sent first are fine).
	closed := func(t *testing.T, c ioConn) {
		t.Helper()
		for {
			_, err := ReadFrame(c, 0)
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
		WriteFrame(c, Hello{Version: ProtocolVersion, ID: [32]byte{1}})
		m, err := ReadFrame(c, 0)
		if g, ok := m.(Goodbye); err != nil || !ok || g.Code != ByeUnknown {
			t.Fatalf("answer %#v %v, want goodbye unknown", m, err)
		}
	})
	t.Run("wrong version", func(t *testing.T) {
		c := dial(t)
		WriteFrame(c, Hello{Version: 9, ID: st.ID})
		m, err := ReadFrame(c, 0)
		if g, ok := m.(Goodbye); err != nil || !ok || g.Code != ByeVersion {
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
		c.Write([]byte{0x7f, 0, 0, 0, byte(MsgPiece)})
		closed(t, c)
	})
	t.Run("second hello", func(t *testing.T) {
		c := dial(t)
		handshake(t, c)
		WriteFrame(c, Hello{Version: ProtocolVersion, ID: st.ID})
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
