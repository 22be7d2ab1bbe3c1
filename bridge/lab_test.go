package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"

	"github.com/hydre-p2p/hydre/bridge/internal/btlab"
)

func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	cfg.DialFrom = "127.0.0.1"
	// Tests never reach a public DHT router: look-ups start from loopback
	// lab nodes only.
	for _, b := range cfg.DHTBootstrap {
		host, _, err := net.SplitHostPort(b)
		if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !ip.IsLoopback() {
			t.Fatalf("test client bootstraps its DHT from %q: only loopback addresses are allowed", b)
		}
	}
	if cfg.DHTBind == "" {
		cfg.DHTBind = "127.0.0.1:0"
	}
	// The lab's peers and DHT nodes are all on 127.0.0.1.
	cfg.AllowLocalPeers = true
	ctx := context.Background()
	c, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// checkDiscreet fails on any discretion counter that is not zero.
func checkDiscreet(t *testing.T, c Counters) {
	t.Helper()
	for name, v := range map[string]int64{
		"bytes uploaded": c.BytesUploaded, "adverts sent": c.AdvertsSent, "announces sent": c.AnnouncesSent,
		"queries answered": c.QueriesAnswered, "incoming accepted": c.IncomingAccepted,
	} {
		if v != 0 {
			t.Errorf("%s = %d, want 0", name, v)
		}
	}
}

type trackerReq struct {
	Proto  string `json:"proto"`
	From   string `json:"from"`
	URL    string `json:"url"`
	PeerID string `json:"peer_id"`
}

// TestMagnetFromAria2NoTracker leeches a magnet whose tr=, xs= and as= point
// at a logging tracker and a logging HTTP server, from an aria2 seeder given
// by x.pe; neither server may see the bridge, the file must be exact.
func TestMagnetFromAria2NoTracker(t *testing.T) {
	var tr struct{ HTTP, UDP int }
	tracker := startNode(t, "tracker.mjs", &tr)
	var sourceHits atomic.Int64
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sourceHits.Add(1)
		http.NotFound(w, r)
	}))
	defer src.Close()

	dir := t.TempDir()
	payload := btlab.NewPayload(t, dir, "film.bin", 6<<20+12345, 1, fmt.Sprintf("http://127.0.0.1:%d/announce", tr.HTTP), 16)
	port, _ := payload.SeedWithAria2(t)
	sum, mi := payload.Sum, payload.Info

	magnet := fmt.Sprintf("magnet:?xt=urn:btih:%s&dn=film.bin&tr=%s&tr=%s&xs=%s&as=%s&x.pe=127.0.0.1:%d",
		mi.HashInfoBytes().HexString(),
		url.QueryEscape(fmt.Sprintf("http://127.0.0.1:%d/announce", tr.HTTP)),
		url.QueryEscape(fmt.Sprintf("udp://127.0.0.1:%d", tr.UDP)),
		url.QueryEscape(src.URL+"/film.torrent"), url.QueryEscape(src.URL+"/film.bin"), port)

	before := btlab.ListeningInodes(t)
	c := newTestClient(t, Config{Fingerprint: QBittorrent452})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bt, err := c.Add(ctx, magnet)
	if err != nil {
		t.Fatal(err)
	}
	verified := bt.Verified(ctx)
	if err := bt.WaitInfo(ctx); err != nil {
		t.Fatal(err)
	}
	if now := btlab.ListeningInodes(t); len(now) > len(before) {
		t.Errorf("bridge opened listening sockets: before %v, during %v", before, now)
	}
	// Stream the data while it arrives, as the engine will.
	streamed := make(chan [32]byte, 1)
	go func() {
		r := bt.NewReader(ctx, 1<<20)
		defer r.Close()
		h := sha256.New()
		io.Copy(h, r)
		streamed <- [32]byte(h.Sum(nil))
	}()
	waitDone(t, ctx, bt, filepath.Join(c.cfg.DataDir, "film.bin"), sum)
	if got := <-streamed; got != sum {
		t.Error("data read through NewReader differs")
	}
	pieces := map[int]bool{}
	for len(pieces) < bt.NumPieces() {
		select {
		case i := <-verified:
			pieces[i] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("Verified sent %d of %d pieces", len(pieces), bt.NumPieces())
		}
	}

	cs := c.Counters()
	t.Logf("counters: %+v", cs)
	checkDiscreet(t, cs)
	if cs.BytesDownloaded < bt.Length() {
		t.Errorf("bytes downloaded %d < length %d", cs.BytesDownloaded, bt.Length())
	}
	if n := sourceHits.Load(); n != 0 {
		t.Errorf("xs/as server got %d requests", n)
	}
	reqs := eventLines[trackerReq](tracker, "REQ")
	announces, httpReqs := 0, 0
	for _, r := range reqs {
		switch r.Proto {
		case "udp":
			t.Errorf("udp tracker got a packet from %s (only the bridge had its url)", r.From)
		case "http":
			httpReqs++
		case "announce":
			announces++
			if strings.Contains(r.PeerID, QBittorrent452.PeerIDPrefix) || strings.Contains(r.PeerID, hex.EncodeToString([]byte(QBittorrent452.PeerIDPrefix))) {
				t.Errorf("tracker saw the bridge announce from %s", r.From)
			}
		}
	}
	if httpReqs != announces {
		t.Errorf("tracker got %d http requests but %d announces (all should be aria2's)", httpReqs, announces)
	}
	t.Logf("tracker: %d announces, all from the seeder", announces)
}

// TestTransmissionWireTrace leeches from Transmission 3.00 through a
// logging proxy while a second leecher, reachable only by the bridge, waits
// for data; it checks the wire and that the second leecher got nothing.
func TestTransmissionWireTrace(t *testing.T) {
	dir := t.TempDir()
	const size = 40<<20 + 777
	payload := btlab.NewPayload(t, dir, "big.bin", size, 2, "", 18)
	port, _ := payload.SeedWithTransmission(t)
	sum, tf := payload.Sum, payload.Torrent
	proxy := btlab.StartTap(t, fmt.Sprintf("127.0.0.1:%d", port))

	// The second leecher: aria2 without the data, no DHT/LPD/PEX, no
	// tracker (the torrent has none): only the bridge can reach it.
	leechDir := filepath.Join(dir, "leech")
	os.MkdirAll(leechDir, 0o755)
	lport := freePort(t)
	startProc(t, needProgram(t, "aria2c"), "--no-conf", "--enable-dht=false", "--enable-dht6=false",
		"--bt-enable-lpd=false", "--enable-peer-exchange=false", "--disable-ipv6=true", "--interface=127.0.0.1",
		"--listen-port="+fmt.Sprint(lport), "--summary-interval=0", "--file-allocation=none",
		"--enable-rpc=false", "--seed-time=0", "--dir="+leechDir, tf)

	before := btlab.ListeningInodes(t)
	c := newTestClient(t, Config{})
	var traced atomic.Int64
	c.wire.trace = func(remote string, dir byte, typ byte) {
		if dir == '>' && remote == fmt.Sprintf("127.0.0.1:%d", lport) {
			traced.Add(1)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	bt, err := c.Add(ctx, tf)
	if err != nil {
		t.Fatal(err)
	}
	if err := bt.AddPeers(proxy.Addr(), fmt.Sprintf("127.0.0.1:%d", lport)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for bt.BytesCompleted() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if now := btlab.ListeningInodes(t); len(now) > len(before) {
		t.Errorf("bridge opened listening sockets: before %v, during %v", before, now)
	}
	waitDone(t, ctx, bt, filepath.Join(c.cfg.DataDir, "big.bin"), sum)
	cs := c.Counters()
	t.Logf("counters: %+v", cs)
	checkDiscreet(t, cs)

	for typ, name := range map[byte]string{msgBitfield: "bitfield", msgHave: "have", msgHaveAll: "have all",
		msgPiece: "piece", msgSuggest: "suggest", msgUnchoke: "unchoke"} {
		if n := proxy.Count(typ); n != 0 {
			t.Errorf("wire trace: bridge sent %d %s", n, name)
		}
	}
	if proxy.Count(msgRequest) == 0 {
		t.Error("wire trace saw no request: the trace is not looking at the bridge")
	}
	for i, c := range proxy.Snapshot() {
		if !strings.HasPrefix(c.PeerID, Transmission300.PeerIDPrefix) {
			t.Errorf("peer id %q lacks the fingerprint prefix", c.PeerID)
		}
		t.Logf("handshake %d: reserved %x", i, c.Reserved)
	}
	for _, raw := range proxy.ExtHandshakes() {
		var hs map[string]any
		if bencode.Unmarshal(raw, &hs) != nil {
			continue
		}
		if hs["v"] != Transmission300.Version {
			t.Errorf("extended handshake v = %v", hs["v"])
		}
		for _, k := range []string{"metadata_size", "ipv4", "ipv6", "yourip"} {
			if _, ok := hs[k]; ok {
				t.Errorf("extended handshake has %q: %v", k, hs)
			}
		}
	}

	if traced.Load() == 0 {
		t.Error("the bridge never talked to the second leecher: the 0-byte check proves nothing")
	}
	got := int64(0)
	if b, err := os.ReadFile(filepath.Join(leechDir, "big.bin")); err == nil {
		for _, x := range b {
			if x != 0 {
				got++
			}
		}
	}
	if got != 0 {
		t.Errorf("second leecher holds %d non-zero bytes from the bridge", got)
	}
}

type dhtReady struct {
	Ports []int    `json:"ports"`
	IDs   []string `json:"ids"`
}

type dhtQuery struct {
	Node int    `json:"node"`
	Q    string `json:"q"`
	From string `json:"from"`
	Ours bool   `json:"ours"`
}

type dhtProbe struct {
	Node     int    `json:"node"`
	To       string `json:"to"`
	Q        string `json:"q"`
	Answered bool   `json:"answered"`
}

// TestDHTLookupAvoidsSpy finds an aria2 seeder through a private DHT of
// bittorrent-dht nodes that also knows a spy node; the spy must be caught by
// the decoy walk and blocked, the honest nodes must see only get_peers from
// the bridge and get no answer to their own queries.
func TestDHTLookupAvoidsSpy(t *testing.T) {
	dir := t.TempDir()
	payload := btlab.NewPayload(t, dir, "doc.bin", 3<<20+99, 3, "", 16)
	port, _ := payload.SeedWithAria2(t)
	sum, mi := payload.Sum, payload.Info

	spy := startSpyNode(t, "127.0.0.66", "127.0.0.77:6881", "127.0.0.78:51413")
	var ready dhtReady
	lab := startNode(t, "dht.mjs", &ready, "5",
		fmt.Sprintf("%s:%d", mi.HashInfoBytes().HexString(), port),
		fmt.Sprintf("%s:%d:%s", spy.addr().Addr(), spy.addr().Port(), hex.EncodeToString(spy.id[:])))

	blPath := filepath.Join(dir, "blocklist.p2p")
	os.WriteFile(blPath, []byte("# lab\nsome firm:10.9.8.0-10.9.8.255\n"), 0o600)
	bl, err := NewBlocklist(blPath)
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, Config{
		DHTBootstrap: []string{fmt.Sprintf("127.0.0.1:%d", ready.Ports[0])},
		Blocklist:    bl,
		PeerRetry:    time.Second,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bt, err := c.Add(ctx, "magnet:?xt=urn:btih:"+mi.HashInfoBytes().HexString())
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, ctx, bt, filepath.Join(c.cfg.DataDir, "doc.bin"), sum)
	cs := c.Counters()
	t.Logf("counters: %+v", cs)
	checkDiscreet(t, cs)

	for _, a := range []string{"127.0.0.66", "127.0.0.77", "127.0.0.78"} {
		if !bl.Blocked(netip.MustParseAddr(a)) {
			t.Errorf("spy %s not blocked", a)
		}
	}
	if bl.Blocked(netip.MustParseAddr("127.0.0.1")) {
		t.Error("an honest lab address got blocked")
	}
	saved, err := NewBlocklist(blPath)
	if err != nil {
		t.Fatal(err)
	}
	if !saved.Blocked(netip.MustParseAddr("127.0.0.66")) || !saved.Blocked(netip.MustParseAddr("10.9.8.7")) {
		t.Error("spies not written back to the blocklist file, or the file's ranges lost")
	}
	labAddrs := map[string]bool{}
	for _, p := range ready.Ports {
		labAddrs[fmt.Sprintf("127.0.0.1:%d", p)] = true
	}
	for _, q := range spy.seen() {
		if !labAddrs[q.from] && q.q != "get_peers" {
			t.Errorf("spy node got %q from %s", q.q, q.from)
		}
	}

	// Let the lab's probes of the bridge's sockets time out.
	var probes []dhtProbe
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		probes = eventLines[dhtProbe](lab, "PROBE")
		if len(probes) > 0 && len(probes)%3 == 0 {
			break
		}
	}
	queries := 0
	for _, q := range eventLines[dhtQuery](lab, "Q") {
		if q.Ours {
			continue
		}
		queries++
		if q.Q != "get_peers" {
			t.Errorf("lab node %d got %q from the bridge (%s)", q.Node, q.Q, q.From)
		}
	}
	if queries == 0 {
		t.Fatal("the lab saw no query from the bridge")
	}
	if len(probes) == 0 {
		t.Fatal("the lab never probed the bridge")
	}
	for _, p := range probes {
		if p.Answered {
			t.Errorf("bridge answered %s from lab node %d", p.Q, p.Node)
		}
	}
	if cs := c.Counters(); cs.DHTQueriesDropped == 0 {
		t.Error("no inbound query reached the filter: the probes test nothing")
	}
	t.Logf("lab: %d get_peers from the bridge, %d probes unanswered", queries, len(probes))
}

// TestMetadataCacheAndLimits fetches a magnet's metadata from an aria2
// seeder once, then checks that a later client with the same cache has it
// with no peer at all, and that the size and count limits hold.
func TestMetadataCacheAndLimits(t *testing.T) {
	dir := t.TempDir()
	payload := btlab.NewPayload(t, dir, "song.bin", 1<<20+3, 4, "", 15)
	port, _ := payload.SeedWithAria2(t)
	sum, tf, mi := payload.Sum, payload.Torrent, payload.Info
	magnet := "magnet:?xt=urn:btih:" + mi.HashInfoBytes().HexString()
	cache := filepath.Join(dir, "meta")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	first := newTestClient(t, Config{MetadataDir: cache})
	bt, err := first.Add(ctx, fmt.Sprintf("%s&x.pe=127.0.0.1:%d", magnet, port))
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, ctx, bt, filepath.Join(first.cfg.DataDir, "song.bin"), sum)
	first.Close()

	quick, cancelQuick := context.WithTimeout(ctx, 3*time.Second)
	defer cancelQuick()
	second := newTestClient(t, Config{MetadataDir: cache, MaxTorrents: 1})
	bt2, err := second.Add(ctx, magnet) // no peer anywhere
	if err != nil {
		t.Fatal(err)
	}
	if err := bt2.WaitInfo(quick); err != nil {
		t.Fatalf("cached metadata not used: %v", err)
	}
	if bt2.Length() != bt.Length() || len(bt2.Files()) != 1 {
		t.Fatalf("cached metadata differs: %d bytes, %v", bt2.Length(), bt2.Files())
	}
	again, err := second.Add(ctx, tf) // the same torrent: the same Torrent, not a second one
	if err != nil || again != bt2 {
		t.Fatalf("adding the same torrent again: %v (same: %v)", err, again == bt2)
	}
	again.Drop()
	writePayload(t, filepath.Join(dir, "other", "other.bin"), 40000, 5)
	otherTF := filepath.Join(dir, "other.torrent")
	makeTorrent(t, filepath.Join(dir, "other", "other.bin"), otherTF, "", 15)
	if _, err := second.Add(ctx, otherTF); err != ErrBusy {
		t.Fatalf("second torrent over MaxTorrents: %v, want ErrBusy", err)
	}

	small := newTestClient(t, Config{MetadataDir: cache, MaxSize: 1 << 20})
	bt3, err := small.Add(ctx, magnet)
	if err != nil {
		t.Fatal(err)
	}
	if err := bt3.WaitInfo(quick); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over MaxSize: %v, want ErrTooLarge", err)
	}
}
