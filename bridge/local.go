package bridge

import (
	"fmt"
	"net"
	"net/netip"
)

// localAddr reports whether a is an address no DHT peer of a real swarm
// can have for us: loopback, private (RFC 1918, fc00::/7), link-local,
// unspecified or multicast. A DHT node handing these out is pointing the
// bridge at its own host or network (a router's admin page, a service on
// the node's LAN, the bridge's own machine).
func localAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast()
}

// dhtPeerAllowed reports whether a peer found through the DHT may be
// dialled: not a local address unless Config.AllowLocalPeers (a lab).
func (c *Client) dhtPeerAllowed(a netip.Addr) bool {
	return c.cfg.AllowLocalPeers || !localAddr(a)
}

// dhtSocket opens the UDP socket of one DHT walk. With Config.DHTBind set
// it binds there; otherwise on the one local address the system would
// send from to reach the first start node, in its address family alone,
// rather than on every interface: connecting a UDP socket sends nothing.
func (c *Client) dhtSocket(start []netip.AddrPort) (net.PacketConn, error) {
	if c.cfg.DHTBind != "" || len(start) == 0 {
		bind := c.cfg.DHTBind
		if bind == "" {
			bind = ":0"
		}
		pc, err := net.ListenPacket("udp", bind)
		if err != nil {
			return nil, fmt.Errorf("open dht socket: %w", err)
		}
		return pc, nil
	}
	to := start[0]
	network := "udp6"
	if to.Addr().Unmap().Is4() {
		network = "udp4"
		to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	}
	probe, err := net.DialUDP(network, nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		return nil, fmt.Errorf("open dht socket: find the local address toward %s: %w", to, err)
	}
	local := probe.LocalAddr().(*net.UDPAddr).AddrPort().Addr()
	probe.Close()
	pc, err := net.ListenPacket(network, netip.AddrPortFrom(local, 0).String())
	if err != nil {
		return nil, fmt.Errorf("open dht socket: %w", err)
	}
	return pc, nil
}
