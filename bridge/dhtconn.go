package bridge

import (
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/anacrolix/torrent/bencode"
)

// dhtStats counts what crossed the DHT sockets. The *Sent counters are
// kept by socketCount, under the filter, from the bytes that really reach
// the socket; the others by the filter.
type dhtStats struct {
	getPeersSent    atomic.Int64
	announcesSent   atomic.Int64 // announce_peer written to a socket: must stay 0
	answersSent     atomic.Int64 // replies or errors written to a socket: must stay 0
	otherSent       atomic.Int64 // any other packet written to a socket: must stay 0
	otherDropped    atomic.Int64 // outgoing queries other than get_peers, never sent
	queriesDropped  atomic.Int64 // inbound queries dropped before the DHT code
	responsesIn     atomic.Int64
	blockedIn       atomic.Int64
	blockedOut      atomic.Int64
	announcesCaught atomic.Int64 // announce_peer the DHT code tried to send
	answersCaught   atomic.Int64 // replies the DHT code tried to send
}

// krpcKind is the part of a KRPC message the filter decides on.
type krpcKind struct {
	Y string `bencode:"y"`
	Q string `bencode:"q"`
}

// classifyKRPC decodes just enough of a KRPC packet to know what it is.
// ok is false for anything that does not decode as a KRPC dictionary.
func classifyKRPC(b []byte) (k krpcKind, ok bool) {
	if len(b) == 0 || b[0] != 'd' {
		return k, false
	}
	if err := bencode.Unmarshal(b, &k); err != nil {
		// Unmarshal refuses trailing bytes; a KRPC packet has none.
		return k, false
	}
	return k, k.Y != ""
}

// dhtConn is the UDP socket under a DHT look-up. Inbound, only responses and
// errors get through: a query is dropped before the DHT code sees it, so it
// is neither answered nor used to add the sender to a routing table.
// Outbound, only get_peers queries are written. Blocked addresses are
// neither written to nor read from.
type dhtConn struct {
	net.PacketConn
	st *dhtStats
	bl *Blocklist
}

// ReadFrom returns the next packet that is a response or error from an
// address not blocked.
func (c *dhtConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		if c.bl.Blocked(addrIP(addr)) {
			c.st.blockedIn.Add(1)
			continue
		}
		k, ok := classifyKRPC(p[:n])
		if !ok || (k.Y != "r" && k.Y != "e") {
			c.st.queriesDropped.Add(1)
			continue
		}
		c.st.responsesIn.Add(1)
		return n, addr, nil
	}
}

// WriteTo writes p only if it is a get_peers query to an address not
// blocked. Anything else is dropped and reported as written, so the DHT code
// goes on as if the packet had left.
func (c *dhtConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if c.bl.Blocked(addrIP(addr)) {
		c.st.blockedOut.Add(1)
		return len(p), nil
	}
	k, ok := classifyKRPC(p)
	switch {
	case ok && k.Y == "q" && k.Q == "get_peers":
		return c.PacketConn.WriteTo(p, addr)
	case ok && k.Y == "q" && k.Q == "announce_peer":
		c.st.announcesCaught.Add(1)
	case ok && (k.Y == "r" || k.Y == "e"):
		c.st.answersCaught.Add(1)
	default:
		c.st.otherDropped.Add(1)
	}
	return len(p), nil
}

func addrIP(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// socketCount sits right on the UDP socket and counts every packet written
// by kind, whatever the layers above decided.
type socketCount struct {
	net.PacketConn
	st *dhtStats
}

func (c *socketCount) WriteTo(p []byte, addr net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(p, addr)
	if err != nil {
		return n, err
	}
	k, ok := classifyKRPC(p)
	switch {
	case ok && k.Y == "q" && k.Q == "get_peers":
		c.st.getPeersSent.Add(1)
	case ok && k.Y == "q" && k.Q == "announce_peer":
		c.st.announcesSent.Add(1)
	case ok && (k.Y == "r" || k.Y == "e"):
		c.st.answersSent.Add(1)
	default:
		c.st.otherSent.Add(1)
	}
	return n, err
}
