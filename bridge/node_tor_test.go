package bridge

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/swarm"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testnet.CloseShared()
	os.Exit(code)
}

func torFor(t *testing.T, nw *testnet.Network) *onion.Tor {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := nw.TorConfig(t.TempDir())
	cfg.Logger = testLogger(t)
	tor, err := onion.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tor.Close() })
	if err := tor.Bootstrap(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return tor
}

// TestNodeOverTor is the end-to-end run on the private Tor network: a
// hydre user asks a hidden bridge node for a magnet whose seeder is
// Transmission, gets a hydre link over the onion service, and fetches the
// exact file from the node over the hydre swarm.
func TestNodeOverTor(t *testing.T) {
	dir := t.TempDir()
	seedDir := filepath.Join(dir, "seed")
	sum := writePayload(t, filepath.Join(seedDir, "lecture.bin"), 6<<20+5, 6)
	tf := filepath.Join(dir, "lecture.torrent")
	makeTorrent(t, filepath.Join(seedDir, "lecture.bin"), tf, "", 16)
	port := freePort(t)
	trd := startTransmission(t, filepath.Join(dir, "tr"), port)
	trd.add(t, tf, seedDir)
	trd.waitField(t, 60*time.Second, "Percent Done", func(v string) bool { return v == "100%" })

	nw := testnet.Shared(t, testnet.Options{})
	bridgeTor, userTor := torFor(t, nw), torFor(t, nw)
	c := newTestClient(t, Config{DirPerInfoHash: true})
	engine := openEngine(t, bridgeTor, "bridge")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	node, err := NewNode(ctx, NodeConfig{Client: c, Engine: engine, Transport: bridgeTor,
		StateDir: filepath.Join(dir, "node"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- node.Serve(serveCtx) }()
	defer func() {
		stopServe()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	// Stand-in for the node's DHT look-up: offer it the seeder.
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		for ctx.Err() == nil {
			c.mu.Lock()
			for bt := range c.torrents {
				bt.AddPeers(fmt.Sprintf("127.0.0.1:%d", port))
			}
			c.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	defer func() { cancel(); <-feedDone }()

	start := time.Now()
	var link string
	for attempt := 0; ; attempt++ { // a fresh onion can take a few seconds to answer
		link, err = Request(ctx, userTor, node.Address(), "magnet:?xt=urn:btih:"+mustInfoHash(t, tf), nil)
		if err == nil || attempt == 5 || !strings.Contains(err.Error(), "dial") {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	linked := time.Since(start)
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	user := openEngine(t, userTor, "user")
	if _, err := user.Get(ctx, link, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	var st swarm.Status
	for {
		st, err = user.Status(l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == swarm.StateDone || st.State == swarm.StateSeeding {
			break
		}
		if st.State == swarm.StateFailed || ctx.Err() != nil {
			t.Fatalf("user fetch: %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if fileSHA(t, st.Path) != sum {
		t.Fatal("file fetched through the bridge over tor differs")
	}
	checkDiscreet(t, c.Counters())
	t.Logf("link after %v, file after %v", linked.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}
