package bridge

import (
	"crypto/rand"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/anacrolix/dht/v2/krpc"
	"github.com/anacrolix/torrent/bencode"
)

// spyNode is a fake DHT node run by the tests: it answers get_peers for any
// info-hash with the same made-up peers, as monitoring firms' sybils do.
type spyNode struct {
	pc    net.PacketConn
	id    [20]byte
	peers []krpc.NodeAddr

	mu      sync.Mutex
	queries []spyQuery
	done    chan struct{}
}

type spyQuery struct {
	from string
	q    string
}

// startSpyNode listens on ip (a 127/8 address of its own, so blocking it
// does not block the honest lab) and returns peers as the spy's "values".
func startSpyNode(t *testing.T, ip string, peers ...string) *spyNode {
	t.Helper()
	pc, err := net.ListenPacket("udp4", ip+":0")
	if err != nil {
		t.Fatalf("bind the spy to %s (Linux routes all of 127.0.0.0/8 to lo): %v", ip, err)
	}
	s := &spyNode{pc: pc, done: make(chan struct{})}
	rand.Read(s.id[:])
	for _, p := range peers {
		ap := netip.MustParseAddrPort(p)
		s.peers = append(s.peers, krpc.NodeAddr{IP: ap.Addr().AsSlice(), Port: int(ap.Port())})
	}
	go s.serve()
	t.Cleanup(func() {
		pc.Close()
		<-s.done
	})
	return s
}

func (s *spyNode) addr() netip.AddrPort {
	return s.pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (s *spyNode) serve() {
	defer close(s.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		var m krpc.Msg
		if bencode.Unmarshal(buf[:n], &m) != nil || m.Y != "q" {
			continue
		}
		s.mu.Lock()
		s.queries = append(s.queries, spyQuery{from: from.String(), q: m.Q})
		s.mu.Unlock()
		r := krpc.Return{ID: s.id}
		if m.Q == "get_peers" {
			tok := "spy"
			r.Token = &tok
			r.Values = s.peers
		}
		b, err := bencode.Marshal(krpc.Msg{T: m.T, Y: "r", R: &r})
		if err == nil {
			s.pc.WriteTo(b, from)
		}
	}
}

func (s *spyNode) seen() []spyQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]spyQuery(nil), s.queries...)
}
