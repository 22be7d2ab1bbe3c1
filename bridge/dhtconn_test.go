package bridge

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2/krpc"
	"github.com/anacrolix/torrent/bencode"
)

func krpcBytes(t testing.TB, m krpc.Msg) []byte {
	b, err := bencode.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDHTConnFilter sends every kind of packet both ways through the
// filter over real loopback sockets.
func TestDHTConnFilter(t *testing.T) {
	raw, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	st := &dhtStats{}
	bl, _ := NewBlocklist("")
	c := &dhtConn{PacketConn: &socketCount{PacketConn: raw, st: st}, st: st, bl: bl}
	id := krpc.ID{1}
	args := &krpc.MsgArgs{ID: id, InfoHash: [20]byte{2}}
	out := []struct {
		m    krpc.Msg
		sent bool
	}{
		{krpc.Msg{T: "a", Y: "q", Q: "get_peers", A: args}, true},
		{krpc.Msg{T: "b", Y: "q", Q: "announce_peer", A: args}, false},
		{krpc.Msg{T: "c", Y: "q", Q: "find_node", A: args}, false},
		{krpc.Msg{T: "d", Y: "q", Q: "ping", A: args}, false},
		{krpc.Msg{T: "e", Y: "r", R: &krpc.Return{ID: id}}, false},
		{krpc.Msg{T: "f", Y: "e", E: &krpc.Error{Code: 201, Msg: "x"}}, false},
	}
	for _, o := range out {
		if _, err := c.WriteTo(krpcBytes(t, o.m), peer.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	c.WriteTo([]byte("garbage"), peer.LocalAddr())
	peer.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 1500)
	var got []string
	for {
		n, _, err := peer.ReadFrom(buf)
		if err != nil {
			break
		}
		var m krpc.Msg
		bencode.Unmarshal(buf[:n], &m)
		got = append(got, m.Q)
	}
	if strings.Join(got, ",") != "get_peers" {
		t.Fatalf("peer got %v, want only get_peers", got)
	}
	if st.getPeersSent.Load() != 1 || st.announcesSent.Load() != 0 || st.answersSent.Load() != 0 || st.otherSent.Load() != 0 {
		t.Fatalf("socket counters: %+v", st)
	}
	if st.announcesCaught.Load() != 1 || st.answersCaught.Load() != 2 || st.otherDropped.Load() != 3 {
		t.Fatalf("filter counters: announces %d answers %d other %d", st.announcesCaught.Load(), st.answersCaught.Load(), st.otherDropped.Load())
	}

	// Inbound: queries vanish, responses come through, blocked senders vanish.
	to := raw.LocalAddr()
	peer.WriteTo(krpcBytes(t, krpc.Msg{T: "q1", Y: "q", Q: "ping", A: args}), to)
	peer.WriteTo(krpcBytes(t, krpc.Msg{T: "q2", Y: "q", Q: "get_peers", A: args}), to)
	peer.WriteTo([]byte("d1:y1:qe"), to)
	peer.WriteTo(krpcBytes(t, krpc.Msg{T: "r1", Y: "r", R: &krpc.Return{ID: id}}), to)
	raw.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	var m krpc.Msg
	if bencode.Unmarshal(buf[:n], &m); m.T != "r1" {
		t.Fatalf("read %q, want the response r1", buf[:n])
	}
	if st.queriesDropped.Load() != 3 {
		t.Fatalf("dropped %d queries, want 3", st.queriesDropped.Load())
	}
	bl.Add(netip.MustParseAddr("127.0.0.1"), "test")
	peer.WriteTo(krpcBytes(t, krpc.Msg{T: "r2", Y: "r", R: &krpc.Return{ID: id}}), to)
	raw.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, _, err := c.ReadFrom(buf); err == nil {
		t.Fatal("read a packet from a blocked address")
	}
}

func FuzzClassifyKRPC(f *testing.F) {
	f.Add([]byte("d1:t2:aa1:y1:q1:q9:get_peers1:ad2:id20:abcdefghij0123456789ee"))
	f.Add([]byte("d1:y1:re"))
	f.Add([]byte("le"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, ok := classifyKRPC(b)
		if ok && k.Y == "" {
			t.Fatal("ok without a y")
		}
	})
}
