package swarm

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// localError is a failure of this node met during a handshake (the
// download's folder or disk refused its file): no other peer can help, so
// the content fails with it instead of dialing again.
type localError struct{ err error }

func (e localError) Error() string { return e.err.Error() }
func (e localError) Unwrap() error { return e.err }

func (s *swarm) clientHandshake(conn net.Conn, addr string, circ int, extra bool) (*peer, error) {
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := wire.WriteFrame(conn, wire.Hello{Version: wire.Version, ID: s.c.id, Serving: s.serving, Extra: extra}); err != nil {
		return nil, err
	}
	m, err := wire.ReadFrameOf(conn, 0, wire.TypeWelcome, wire.TypeGoodbye)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", asProtocol(err))
	}
	switch m := m.(type) {
	case wire.Goodbye:
		return nil, fmt.Errorf("handshake: the peer %s (Goodbye %d)", m.Code, uint8(m.Code))
	case wire.Welcome:
		if m.Version != wire.Version {
			return nil, fmt.Errorf("handshake: peer speaks version %d", m.Version)
		}
		d, err := hcrypto.UnmarshalDescriptor(m.Descriptor, s.c.id)
		if err != nil {
			return nil, fmt.Errorf("handshake: %w", err)
		}
		if err := s.c.learnDescriptor(d); err != nil {
			return nil, localError{err}
		}
		bf, err := readAdmission(conn)
		if err != nil {
			return nil, err
		}
		p := newPeer(s, conn, addr, true, circ)
		p.first = &bf
		return p, nil
	default:
		return nil, fmt.Errorf("handshake: %w: %s instead of welcome", errProtocol, m.Type())
	}
}

// fullError is an acceptor's refusal of a connection for want of room
// (Goodbye 3); pex lists the other sources it named.
type fullError struct{ pex []string }

func (*fullError) Error() string        { return "handshake: peer full" }
func (*fullError) Is(target error) bool { return target == errPeerFull }

// readAdmission reads the acceptor's first frames after its Welcome, which
// say whether it admitted the connection: its Bitfield, or the other
// sources it knows (PEX) and a Goodbye. The dialer writes nothing before:
// writing to a connection the acceptor has closed resets it, and the
// Goodbye waiting to be read goes with it, so that a refused downloader
// took the refusal for a broken circuit and dialed again at once.
func readAdmission(r io.Reader) (wire.Bitfield, error) {
	var pex []string
	for range 2 {
		m, err := wire.ReadFrameOf(r, 0, wire.TypeBitfield, wire.TypePEX, wire.TypeGoodbye)
		if err != nil {
			return wire.Bitfield{}, fmt.Errorf("handshake: %w", asProtocol(err))
		}
		switch m := m.(type) {
		case wire.Bitfield:
			if pex == nil {
				return m, nil
			}
		case wire.PEX:
			if pex == nil {
				pex = append([]string{}, m.Addrs...)
				continue
			}
		case wire.Goodbye:
			if m.Code == wire.ByeFull {
				return wire.Bitfield{}, &fullError{pex: pex}
			}
			return wire.Bitfield{}, fmt.Errorf("handshake: the peer %s (Goodbye %d)", m.Code, uint8(m.Code))
		}
		return wire.Bitfield{}, fmt.Errorf("handshake: %w: %s after the welcome", errProtocol, m.Type())
	}
	return wire.Bitfield{}, fmt.Errorf("handshake: %w: no bitfield or goodbye after the welcome", errProtocol)
}

// maxHandshakes bounds the connections of one listener whose Hello has not
// come yet (or is being answered); helloTimeout bounds the wait for it. A
// connection beyond the bound is closed at once: what a peer that opens
// many and sends nothing can hold is maxHandshakes for helloTimeout each.
const (
	maxHandshakes = 32
	helloTimeout  = 5 * time.Second
)

// acceptLoop accepts connections on a listener until it closes; c is the
// one content it serves, or nil for the engine's single identity.
func (e *Engine) acceptLoop(l onion.Listener, c *content) {
	slots := make(chan struct{}, maxHandshakes)
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		select {
		case slots <- struct{}{}:
		default:
			e.log.Debug("too many handshakes in progress: closing a connection")
			conn.Close()
			continue
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.serverHandshake(conn, c, func() { <-slots })
		}()
	}
}

// serverHandshake answers a Hello and hands the connection to the swarm of
// the content it names. A per-content identity answers only for its own
// content, and never says which content it does serve.
// done frees the handshake's slot; it is called once the handshake is over
// either way.
func (e *Engine) serverHandshake(conn net.Conn, only *content, done func()) {
	var once sync.Once
	free := func() { once.Do(done) }
	defer free()
	conn.SetDeadline(time.Now().Add(helloTimeout))
	m, err := wire.ReadFrameOf(conn, 0, wire.TypeHello)
	if err != nil {
		if errors.Is(err, wire.ErrUnexpectedType) || errors.Is(err, wire.ErrFrameTooLarge) {
			conn.SetWriteDeadline(time.Now().Add(byeTimeout))
			wire.WriteFrame(conn, wire.Goodbye{Code: wire.ByeProtocol})
		}
		conn.Close()
		return
	}
	h, ok := m.(wire.Hello)
	if !ok {
		wire.WriteFrame(conn, wire.Goodbye{Code: wire.ByeProtocol})
		conn.Close()
		return
	}
	if h.Version != wire.Version {
		wire.WriteFrame(conn, wire.Goodbye{Code: wire.ByeVersion})
		conn.Close()
		return
	}
	c := only
	if c == nil {
		c = e.lookup(hcrypto.ContentID(h.ID))
	}
	var s *swarm
	var desc []byte
	if c != nil && c.id == hcrypto.ContentID(h.ID) {
		if r := c.run.Load(); r != nil {
			s = r.s
		}
		desc = c.record().Descriptor
	}
	if s == nil || desc == nil || !s.serving {
		wire.WriteFrame(conn, wire.Goodbye{Code: wire.ByeUnknown})
		conn.Close()
		return
	}
	if err := wire.WriteFrame(conn, wire.Welcome{Version: wire.Version, Descriptor: desc}); err != nil {
		conn.Close()
		return
	}
	conn.SetDeadline(time.Time{})
	p := newPeer(s, conn, "", false, 0)
	p.serves, p.extra = h.Serving, h.Extra
	free() // the swarm's table bounds it from here
	select {
	case s.events <- peerJoined{p: p}:
	case <-s.quit:
		conn.Close()
	}
}

// errProtocol marks a peer that broke the protocol.
var errProtocol = errors.New("protocol violation")

// asProtocol marks err as the peer's protocol violation when it says the
// peer sent a frame that does not decode (not when the connection failed).
func asProtocol(err error) error {
	if errors.Is(err, wire.ErrMalformed) || errors.Is(err, wire.ErrFrameTooLarge) || errors.Is(err, wire.ErrUnknownType) ||
		errors.Is(err, wire.ErrUnexpectedType) {
		return fmt.Errorf("%w: %w", errProtocol, err)
	}
	return err
}

// errPeerFull is a peer's Goodbye 3: it has no room for this connection.
var errPeerFull = errors.New("peer full")
