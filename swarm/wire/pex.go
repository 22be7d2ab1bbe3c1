package wire

import (
	"fmt"

	"github.com/hydre-p2p/hydre/onion"
)

// PEX (peer exchange) lists onion addresses that serve this content. A node
// that serves the content puts its own address for it first. Every address
// is a valid v3 "<56>.onion:port"; anything else fails to decode, so a peer
// can never steer a dial off Tor.
type PEX struct{ Addrs []string }

// Type implements Message.
func (PEX) Type() Type { return TypePEX }

func (m PEX) appendBody(b []byte) []byte {
	addrs := m.Addrs
	if len(addrs) > MaxPEXAddrs {
		addrs = addrs[:MaxPEXAddrs]
	}
	b = append(b, byte(len(addrs)))
	for _, a := range addrs {
		b = append(b, byte(len(a)))
		b = append(b, a...)
	}
	return b
}

func decodePEX(body []byte) (PEX, error) {
	r := reader{b: body}
	n := int(r.u8())
	if n > MaxPEXAddrs {
		return PEX{}, fmt.Errorf("%d addresses", n)
	}
	m := PEX{Addrs: make([]string, 0, n)}
	for range n {
		l := int(r.u8())
		if l > maxAddrLen {
			return PEX{}, fmt.Errorf("address of %d bytes", l)
		}
		a := string(r.take(l))
		if r.err != nil {
			break
		}
		host, port, err := onion.ParseAddress(a)
		if err != nil {
			return PEX{}, err
		}
		m.Addrs = append(m.Addrs, fmt.Sprintf("%s:%d", host, port))
	}
	return m, r.done()
}
