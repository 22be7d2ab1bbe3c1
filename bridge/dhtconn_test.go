package bridge

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2/krpc"
	"github.com/anacrolix/torrent/bencode"

	"github.com/hydre-p2p/hydre/bridge/internal/btlab"
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

// TestDHTWalkSocketsSeenByScanner runs the production socket choice (no
// Config.DHTBind) through real walks in the DHT lab, listing the
// process's UDP sockets every few milliseconds until the download the
// walks found completes: each walk's socket is bound to 127.0.0.1, the
// one address toward the lab's start node, never to every interface
// (0.0.0.0 or ::), and at most three live at once (two decoy walks and
// the real one).
func TestDHTWalkSocketsSeenByScanner(t *testing.T) {
	dir := t.TempDir()
	payload := btlab.NewPayload(t, dir, "walk.bin", 1<<20+3, 29, "", 16)
	port, _ := payload.SeedWithAria2(t)
	sum, mi := payload.Sum, payload.Info
	var ready dhtReady
	startNode(t, "dht.mjs", &ready, "5", fmt.Sprintf("%s:%d", mi.HashInfoBytes().HexString(), port))

	before := btlab.UDPSockets(t)
	// Not newTestClient: it binds the walks to 127.0.0.1 through DHTBind,
	// which would skip the choice under test.
	c, err := New(t.Context(), Config{
		DataDir:         t.TempDir(),
		Logger:          testLogger(t),
		DialFrom:        "127.0.0.1",
		DHTBootstrap:    []string{fmt.Sprintf("127.0.0.1:%d", ready.Ports[0])},
		AllowLocalPeers: true,
		PeerRetry:       time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	type added struct {
		bt  *Torrent
		err error
	}
	addc := make(chan added, 1)
	go func() {
		bt, err := c.Add(ctx, "magnet:?xt=urn:btih:"+mi.HashInfoBytes().HexString())
		addc <- added{bt, err}
	}()
	seen := map[string]string{}
	most := 0
	var bt *Torrent
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case a := <-addc:
			if a.err != nil {
				t.Fatal(a.err)
			}
			bt = a.bt
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("no download through the walks")
		}
		if bt != nil {
			select {
			case <-bt.Done():
				done = true
			default:
			}
		}
		now := 0
		for ino, local := range btlab.UDPSockets(t) {
			if _, old := before[ino]; old {
				continue
			}
			now++
			seen[ino] = local
		}
		most = max(most, now)
	}
	waitDone(t, ctx, bt, filepath.Join(c.cfg.DataDir, "walk.bin"), sum)
	t.Logf("the walks' UDP sockets (kernel hex local addresses): %v; at most %d at once", seen, most)
	if len(seen) == 0 {
		t.Fatal("no UDP socket seen during the walks")
	}
	for _, local := range seen {
		if !strings.HasPrefix(local, "0100007F:") { // 127.0.0.1, little-endian
			t.Errorf("a walk's socket is bound to %s, want 127.0.0.1 alone", local)
		}
	}
	if most > 3 {
		t.Errorf("%d walk sockets at once, want at most 3", most)
	}
}
