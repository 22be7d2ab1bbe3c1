package swarm

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// dialMore opens connections while the content is incomplete: to every known
// source, with CircuitsPerPeer isolated circuits to each as long as
// MaxPeersPerContent holds them (fewer each when there are many sources).
// Circuits of different sources take different relays, so where the relays
// are the bottleneck more sources only help if each keeps its circuits:
// dividing four circuits among four seeders made four seeders no faster
// than one (BENCHMARKS.md, Swarm).
//
// The link's own peers get all their circuits at once; an address learned
// from a peer (PEX), or a link's peer that failed to answer, gets one
// circuit until a handshake proves it serves the content, so that a
// hostile peer's made-up addresses cost one circuit each. Waiting for the
// first handshake before dialing the link's peers' other circuits put a
// second rendezvous, seconds long on busy relays, before most of them.
func (s *swarm) dialMore(ctx context.Context, now time.Time) {
	if s.finished || (s.pk != nil && s.pk.left == 0) {
		return
	}
	var sources []string
	conns := 0
	for a, st := range s.addrs {
		conns += len(st.conns)
		if !st.banned {
			sources = append(sources, a)
		}
	}
	if len(sources) == 0 {
		if len(s.addrs) > 0 && len(s.peers) == 0 {
			s.c.mu.Lock()
			s.c.waiting = "every peer known sent data that failed verification and is banned; no other source yet"
			s.c.mu.Unlock()
		}
		return
	}
	limit := s.e.cfg.MaxPeersPerContent - s.inbound
	perSource := max(1, min(s.e.cfg.CircuitsPerPeer, limit/len(sources)))
	for _, a := range sources {
		st := s.addrs[a]
		if now.Before(st.retryAt) {
			continue
		}
		want := perSource
		switch {
		case !st.good && (!st.hint || st.fails > 0):
			want = 1 // prove it answers before opening more circuits
		case st.full > 0:
			// It said it was full: one more circuit at a time, each after a
			// longer wait, until one it admits brings a chunk.
			want = min(perSource, len(st.conns)+1)
			if len(st.conns) < want {
				st.retryAt = now.Add(st.fullBackoff())
			}
		}
		for len(st.conns) < want && conns < limit {
			circ := st.freeCircuit()
			extra := st.open(circ)
			s.log.Debug("dialing", "circuit", circ, "extra", extra, "refusals", st.full)
			conns++
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.dial(ctx, a, circ, extra, now) }()
		}
	}
}

// isolationTag names the circuit of one dial: distinct per content, swarm
// run, peer and circuit index, so that circuits of different contents (or of
// one content before and after a restart) are never shared.
func (s *swarm) isolationTag(addr string, circ int) string {
	return fmt.Sprintf("hydre-%s-%s-%s-%d", hex.EncodeToString(s.c.id[:8]), s.session, addr, circ)
}

// dial connects to addr and runs the dialer's side of the handshake; extra
// says the circuit is not the address's first (Hello.Extra), and start is
// when the swarm decided to dial.
func (s *swarm) dial(ctx context.Context, addr string, circ int, extra bool, start time.Time) {
	p, err := s.dialPeer(ctx, addr, circ, extra)
	var ev any = peerJoined{p: p}
	if err != nil {
		f := dialFailed{addr: addr, circ: circ, err: err, at: start,
			ban: errors.Is(err, hcrypto.ErrBadDescriptor) || errors.Is(err, errProtocol)}
		var full *fullError
		if errors.As(err, &full) {
			f.full, f.pex = true, full.pex
		}
		ev = f
	}
	select {
	case s.events <- ev:
	case <-ctx.Done():
		if p != nil {
			p.close(nil)
		}
	}
}

func (s *swarm) dialPeer(ctx context.Context, addr string, circ int, extra bool) (*peer, error) {
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	conn, err := s.e.cfg.Transport.Dial(dctx, addr, onion.DialOptions{Isolation: s.isolationTag(addr, circ), ClientKey: s.c.clientKey()})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	stop := context.AfterFunc(dctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	p, err := s.clientHandshake(conn, addr, circ, extra)
	if err != nil {
		conn.Close()
		return nil, err
	}
	p.dialedAt = start
	conn.SetDeadline(time.Time{})
	return p, nil
}

func (s *swarm) clientHandshake(conn net.Conn, addr string, circ int, extra bool) (*peer, error) {
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := wire.WriteFrame(conn, wire.Hello{Version: wire.Version, ID: s.c.id, Serving: s.c.serving(), Extra: extra}); err != nil {
		return nil, err
	}
	m, err := wire.ReadFrame(conn, 0)
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
			return nil, err
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
		m, err := wire.ReadFrame(r, 0)
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

// learnDescriptor sets the descriptor of a content fetched from a link (the
// first peer to answer provides it, checked against the content ID).
func (c *content) learnDescriptor(d *hcrypto.Descriptor) error {
	c.mu.Lock()
	known := c.desc != nil
	c.mu.Unlock()
	if known {
		return nil
	}
	c.e.initMu.Lock()
	defer c.e.initMu.Unlock()
	c.mu.Lock()
	known = c.desc != nil
	c.mu.Unlock()
	if known {
		return nil
	}
	b, err := d.MarshalBinary()
	if err != nil {
		return fmt.Errorf("descriptor: %w", err)
	}
	c.mu.Lock()
	c.rec.Descriptor = b
	c.mu.Unlock()
	if err := c.initData(d); err != nil {
		c.mu.Lock()
		c.rec.Descriptor = nil
		c.mu.Unlock()
		return fmt.Errorf("prepare download: %w", err)
	}
	c.mu.Lock()
	close(c.verifiedCh) // wake Opens waiting for the descriptor
	c.verifiedCh = make(chan struct{})
	c.mu.Unlock()
	return nil
}

// acceptLoop accepts connections on a listener until it closes; c is the
// one content it serves, or nil for the engine's single identity.
func (e *Engine) acceptLoop(l onion.Listener, c *content) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.serverHandshake(conn, c)
		}()
	}
}

// serverHandshake answers a Hello and hands the connection to the swarm of
// the content it names. A per-content identity answers only for its own
// content, and never says which content it does serve.
func (e *Engine) serverHandshake(conn net.Conn, only *content) {
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	m, err := wire.ReadFrame(conn, 0)
	if err != nil {
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
		c.mu.Lock()
		s, desc = c.run, c.rec.Descriptor
		c.mu.Unlock()
	}
	if s == nil || desc == nil || !c.serving() {
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
	select {
	case s.events <- peerJoined{p: p}:
	case <-s.quit:
		conn.Close()
	}
}
