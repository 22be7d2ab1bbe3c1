package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// helloMagic opens every connection, so a stray client fails fast.
var helloMagic = [5]byte{'h', 'y', 'd', 'r', 'e'}

const helloLen = len(helloMagic) + 1 + 32 + 1

// The bits of Hello's flags byte.
const (
	helloServing = 1 << 0
	helloExtra   = 1 << 1
)

// Hello is the dialer's first frame: the protocol version and the content it
// wants. An onion identity serves one content unless the node runs with a
// single identity, so the acceptor refuses any other ID without saying what
// it does serve.
type Hello struct {
	Version uint8
	ID      [32]byte
	// Serving tells the acceptor that the dialer serves this content too
	// (it will announce its address through PEX).
	Serving bool
	// Extra tells the acceptor that the dialer already has a connection
	// to it for this content: a node whose connection limit is reached
	// closes an extra connection to admit a dialer's first one, so that a
	// few downloaders' many circuits cannot keep every later one out.
	Extra bool
}

// Type implements Message.
func (Hello) Type() Type { return TypeHello }

func (m Hello) appendBody(b []byte) []byte {
	b = append(b, helloMagic[:]...)
	b = append(b, m.Version)
	b = append(b, m.ID[:]...)
	var flags byte
	if m.Serving {
		flags |= helloServing
	}
	if m.Extra {
		flags |= helloExtra
	}
	return append(b, flags)
}

func decodeHello(body []byte) (Hello, error) {
	r := reader{b: body}
	var m Hello
	if string(r.take(len(helloMagic))) != string(helloMagic[:]) && r.err == nil {
		return m, errors.New("bad magic")
	}
	m.Version = r.u8()
	copy(m.ID[:], r.take(32))
	flags := r.u8()
	if flags&^(helloServing|helloExtra) != 0 {
		return m, fmt.Errorf("unknown flags %#x", flags)
	}
	m.Serving, m.Extra = flags&helloServing != 0, flags&helloExtra != 0
	return m, r.done()
}

// Welcome is the acceptor's answer to a Hello it accepts: its version and the
// content's public descriptor, which the dialer checks against the content ID
// (a dialer that has only the link learns the descriptor this way).
type Welcome struct {
	Version    uint8
	Descriptor []byte
}

// Type implements Message.
func (Welcome) Type() Type { return TypeWelcome }

func (m Welcome) appendBody(b []byte) []byte {
	b = append(b, m.Version)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Descriptor)))
	return append(b, m.Descriptor...)
}

func decodeWelcome(body []byte) (Welcome, error) {
	r := reader{b: body}
	var m Welcome
	m.Version = r.u8()
	n := int(r.u16())
	if n > maxDescriptorLen {
		return m, fmt.Errorf("descriptor of %d bytes", n)
	}
	m.Descriptor = r.take(n)
	return m, r.done()
}
