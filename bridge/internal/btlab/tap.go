package btlab

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
)

// msgExtended is the BitTorrent message type of BEP 10's extended
// messages; an extended id of 0 is the extended handshake.
const msgExtended = 20

// TapConn is what one client sent through a Tap: its handshake and its
// messages in order (keep-alives left out), the extended handshake kept
// whole and raw.
type TapConn struct {
	Reserved [8]byte
	PeerID   string
	ExtHS    []byte   // the first extended handshake's bencoded dictionary, raw
	Msgs     [][]byte // each message's first bytes (type, extended id, ...), the first 64
}

// Tap is a loopback TCP relay put between a client and a peer: it records
// what each client sends, parsed independently of the bridge's own filter
// and parser.
type Tap struct {
	l      net.Listener
	target string

	mu    sync.Mutex
	conns []*TapConn
	types map[byte]int // every message of every connection, by type
	extHS [][]byte     // every extended handshake of every connection, raw
	wg    sync.WaitGroup
}

// StartTap listens on 127.0.0.1 and relays each connection to target
// until the test ends.
func StartTap(t testing.TB, target string) *Tap {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Tap{l: l, target: target, types: map[byte]int{}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.relay(c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		p.wg.Wait()
	})
	return p
}

// Addr is the tap's address, to give the client in place of target's.
func (p *Tap) Addr() string { return p.l.Addr().String() }

func (p *Tap) relay(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp4", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(c, s)
		c.Close()
		close(done)
	}()
	p.parse(io.TeeReader(c, s))
	s.Close()
	<-done
}

func (p *Tap) parse(r io.Reader) {
	var hs [68]byte
	if _, err := io.ReadFull(r, hs[:]); err != nil {
		return
	}
	tc := &TapConn{Reserved: [8]byte(hs[20:28]), PeerID: string(hs[48:68])}
	p.mu.Lock()
	p.conns = append(p.conns, tc)
	p.mu.Unlock()
	var lb [4]byte
	for {
		if _, err := io.ReadFull(r, lb[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(lb[:])
		if n == 0 {
			continue
		}
		if n > 1<<24 {
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(r, msg); err != nil {
			return
		}
		p.mu.Lock()
		p.types[msg[0]]++
		if msg[0] == msgExtended && len(msg) > 2 && msg[1] == 0 {
			p.extHS = append(p.extHS, msg[2:])
			if tc.ExtHS == nil {
				tc.ExtHS = msg[2:]
			}
		}
		if len(tc.Msgs) < 64 {
			tc.Msgs = append(tc.Msgs, msg[:min(len(msg), 64)])
		}
		p.mu.Unlock()
	}
}

// Snapshot returns copies of what each connection sent so far, in the
// order their handshakes came.
func (p *Tap) Snapshot() []TapConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []TapConn
	for _, c := range p.conns {
		cp := *c
		cp.Msgs = append([][]byte(nil), c.Msgs...)
		out = append(out, cp)
	}
	return out
}

// Count returns how many messages of type typ came through, on every
// connection.
func (p *Tap) Count(typ byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.types[typ]
}

// ExtHandshakes returns every extended handshake that came through, raw,
// in order.
func (p *Tap) ExtHandshakes() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.extHS...)
}

// FirstTalking returns the first connection that got as far as an
// extended handshake, logging those that did not.
func FirstTalking(t testing.TB, conns []TapConn) (TapConn, bool) {
	t.Helper()
	for _, c := range conns {
		if c.ExtHS != nil {
			return c, true
		}
		t.Logf("connection from %q closed before its extended handshake", c.PeerID)
	}
	return TapConn{}, false
}
