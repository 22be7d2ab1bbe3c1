package bridge

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestLocalAddr(t *testing.T) {
	for _, tc := range []struct {
		addr  string
		local bool
	}{
		{"127.0.0.1", true}, {"::1", true}, {"10.1.2.3", true}, {"172.16.0.9", true}, {"192.168.1.1", true},
		{"169.254.1.1", true}, {"fe80::1", true}, {"fc00::5", true}, {"0.0.0.0", true}, {"::", true},
		{"224.0.0.1", true}, {"::ffff:192.168.0.1", true},
		{"8.8.8.8", false}, {"2001:db8::1", false}, {"93.184.216.34", false}, {"::ffff:1.1.1.1", false},
	} {
		if got := localAddr(netip.MustParseAddr(tc.addr)); got != tc.local {
			t.Errorf("localAddr(%s) = %v, want %v", tc.addr, got, tc.local)
		}
	}
	c := &Client{cfg: Config{}}
	if c.dhtPeerAllowed(netip.MustParseAddr("192.168.1.1")) {
		t.Error("default policy dials a private address handed out by the dht")
	}
	c.cfg.AllowLocalPeers = true
	if !c.dhtPeerAllowed(netip.MustParseAddr("127.0.0.1")) {
		t.Error("a lab's policy refuses loopback")
	}
}

// TestDHTSocketBindsOneAddress: with no DHTBind, a walk's socket is bound
// to the one address toward its start node (here 127.0.0.1), not to every
// interface as ":0" was.
func TestDHTSocketBindsOneAddress(t *testing.T) {
	node, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	c := &Client{cfg: Config{}}
	pc, err := c.dhtSocket([]netip.AddrPort{node.LocalAddr().(*net.UDPAddr).AddrPort()})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	got := pc.LocalAddr().(*net.UDPAddr).AddrPort().Addr()
	if got != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("dht socket bound to %v, want 127.0.0.1 alone", pc.LocalAddr())
	}
	// And nothing arrived at the node: finding the address sends nothing.
	node.SetReadDeadline(deadlineNow())
	if n, _, err := node.ReadFrom(make([]byte, 64)); err == nil {
		t.Fatalf("the start node received %d bytes while the socket was opened", n)
	}
}

func deadlineNow() time.Time { return time.Now().Add(100 * time.Millisecond) }
