package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"
	"github.com/hydre-p2p/hydre/bridge"
	"github.com/hydre-p2p/hydre/bridge/internal/btlab"
	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
)

func openEngine(t *testing.T, tr onion.Transport, name string) *swarm.Engine {
	t.Helper()
	e, err := swarm.Open(context.Background(), swarm.Config{DataDir: t.TempDir(), Transport: tr,
		DownloadDir: t.TempDir(), Reshare: true, Logger: btlab.Logger(t).With("engine", name)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// fetchLink downloads link with user into dest and returns the file's path
// once it is verified.
func fetchLink(t *testing.T, ctx context.Context, user *swarm.Engine, link, dest string) string {
	t.Helper()
	st, err := user.Get(ctx, link, dest)
	if err != nil {
		t.Fatal(err)
	}
	for st.State != swarm.StateDone && st.State != swarm.StateSeeding {
		if st.State == swarm.StateFailed {
			t.Fatalf("user fetch failed: %s", st.Err)
		}
		if ctx.Err() != nil {
			t.Fatalf("user fetch incomplete: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
		if st, err = user.Status(st.ID); err != nil {
			t.Fatal(err)
		}
	}
	return st.Path
}

// serveNode starts a hidden bridge node and serves it until stop, which
// the end of the test also runs, and which reports the errors of Serve
// and Close. cfg.Leech is completed by leechConfig.
func serveNode(t testing.TB, ctx context.Context, cfg Config) (node *Node, stop func()) {
	t.Helper()
	cfg.Leech = leechConfig(t, cfg.Leech)
	node, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- node.Serve(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-served; err != nil {
				t.Error(err)
			}
			if err := node.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return node, stop
}

// TestNodeServesMagnet runs a hidden bridge node on the in-memory onion
// network: a hydre user asks it for a magnet whose only seeder is aria2,
// gets a hydre link, and fetches the exact file from the node over the
// hydre swarm. A second request is answered from the cache.
func TestNodeServesMagnet(t *testing.T) {
	dir := t.TempDir()
	seedDir := filepath.Join(dir, "seed")
	sum := btlab.WritePayload(t, filepath.Join(seedDir, "talk.bin"), 2<<20+17, 5)
	tf := filepath.Join(dir, "talk.torrent")
	btlab.MakeTorrent(t, filepath.Join(seedDir, "talk.bin"), tf, "", 15)
	port := btlab.FreePort(t)
	aria := btlab.StartAria2Seeder(t, tf, seedDir, port)
	aria.Out.Wait(t, 60*time.Second, func(l string) bool { return strings.Contains(l, "listening on TCP port") })

	mn := memnet.New()
	bridgeNet, userNet := mn.Node("bridge"), mn.Node("user")
	engine := openEngine(t, bridgeNet, "bridge")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// The user knows the magnet; the node's operator gives it the seeder
	// (a stranger's x.pe is never used), standing in for its DHT look-up.
	node, stop := serveNode(t, ctx, Config{Leech: bridge.Config{MetadataDir: filepath.Join(dir, "meta")}, Engine: engine, Transport: bridgeNet,
		StateDir: filepath.Join(dir, "node"), Logger: btlab.Logger(t), Peers: []string{fmt.Sprintf("127.0.0.1:%d", port)}})
	defer stop()
	c := node.Client()
	mi := mustInfoHash(t, tf)
	var updates atomic.Int64
	magnet := "magnet:?xt=urn:btih:" + mi + "&dn=talk.bin&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce"
	link, err := singleLink(Request(ctx, userNet, node.Address(), magnet, func(done, size int64) { updates.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	l, err := hcrypto.ParseLink(link)
	if err != nil || l.Key == nil {
		t.Fatalf("link: %v", err)
	}

	user := openEngine(t, userNet, "user")
	path := fetchLink(t, ctx, user, link, t.TempDir())
	if got := btlab.FileSHA(t, path); got != sum {
		t.Fatal("file fetched through the bridge differs from the seeded one")
	}

	again, err := singleLink(Request(ctx, userNet, node.Address(), magnet, nil))
	if err != nil || again != link {
		t.Fatalf("second request: %v (same link: %v)", err, again == link)
	}
	if _, err := os.Stat(filepath.Join(dir, "node", "links.json")); err != nil {
		t.Fatalf("link cache not saved: %v", err)
	}
	if _, err := Request(ctx, userNet, node.Address(), "magnet:?xt=urn:btih:zz", nil); err == nil {
		t.Fatal("bad magnet answered")
	}
	checkDiscreet(t, c.Counters())
	t.Logf("%d progress updates; counters %+v", updates.Load(), c.Counters())
}

func mustInfoHash(t *testing.T, tf string) string {
	t.Helper()
	mi, err := metainfo.LoadFromFile(tf)
	if err != nil {
		t.Fatal(err)
	}
	return mi.HashInfoBytes().HexString()
}

// TestNodeStreamsBeforeLeechEnds streams a torrent from a bridge node on the
// in-memory onion network while the node leeches it from a rate-limited
// aria2 seeder: the first megabyte arrives before the leech ends, a seek
// reads the right bytes, the whole stream is exact and ends with the link.
func TestNodeStreamsBeforeLeechEnds(t *testing.T) {
	dir := t.TempDir()
	seedDir := filepath.Join(dir, "seed")
	const size = 6<<20 + 1234
	sum := btlab.WritePayload(t, filepath.Join(seedDir, "show.bin"), size, 8)
	tf := filepath.Join(dir, "show.torrent")
	btlab.MakeTorrent(t, filepath.Join(seedDir, "show.bin"), tf, "", 16)
	port := btlab.FreePort(t)
	aria := btlab.StartAria2Seeder(t, tf, seedDir, port, "--max-overall-upload-limit=1M")
	aria.Out.Wait(t, 60*time.Second, func(l string) bool { return strings.Contains(l, "listening on TCP port") })

	n := memnet.New()
	bridgeNet, userNet := n.Node("bridge"), n.Node("user")
	engine := openEngine(t, bridgeNet, "bridge")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	node, stop := serveNode(t, ctx, Config{Leech: bridge.Config{MetadataDir: filepath.Join(dir, "meta")}, Engine: engine, Transport: bridgeNet,
		StateDir: filepath.Join(dir, "node"), Logger: btlab.Logger(t), Peers: []string{fmt.Sprintf("127.0.0.1:%d", port)}})
	defer stop()
	c := node.Client()

	magnet := "magnet:?xt=urn:btih:" + mustInfoHash(t, tf)
	s, err := OpenStream(ctx, userNet, node.Address(), magnet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Size() != size || s.Name() != "show.bin" {
		t.Fatalf("stream of %q, %d bytes", s.Name(), s.Size())
	}
	first := make([]byte, 1<<20)
	if _, err := io.ReadFull(s, first); err != nil {
		t.Fatal(err)
	}
	leeched := leechedBytes(c)
	if leeched >= size {
		t.Fatalf("the node had the whole file before the first megabyte was streamed")
	}
	t.Logf("first MiB streamed when the node had %d of %d bytes", leeched, size)

	seed, err := os.ReadFile(filepath.Join(seedDir, "show.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, seed[:1<<20]) {
		t.Fatal("first megabyte differs")
	}
	mid := int64(size/2 + 777)
	if _, err := s.Seek(mid, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 100<<10)
	if _, err := io.ReadFull(s, part); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(part, seed[mid:mid+int64(len(part))]) {
		t.Fatal("bytes after a seek differ")
	}
	if _, err := s.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, s); err != nil {
		t.Fatal(err)
	}
	if [32]byte(h.Sum(nil)) != sum {
		t.Fatal("streamed data differs from the seeded file")
	}
	if _, err := singleLink(s.Links(), nil); err != nil {
		t.Fatalf("no link at the end of the stream: %v", err)
	}
	checkDiscreet(t, c.Counters())
}

// TestNodeLinkBeforeLeechEnds asks a node for a torrent that a slow aria2
// seeder (512 KiB/s) has: the hydre link comes back while the node has
// almost none of it, the user's engine reads the first bytes over the hydre
// swarm while the node still leeches, the node stops mid-leech and starts
// again (same state), resumes the leech under the same link by itself, and
// the user ends with the exact file.
func TestNodeLinkBeforeLeechEnds(t *testing.T) {
	dir := t.TempDir()
	seedDir := filepath.Join(dir, "seed")
	const size = 5<<20 + 4321
	sum := btlab.WritePayload(t, filepath.Join(seedDir, "talk.mkv"), size, 11)
	tf := filepath.Join(dir, "talk.torrent")
	btlab.MakeTorrent(t, filepath.Join(seedDir, "talk.mkv"), tf, "", 16)
	port := btlab.FreePort(t)
	aria := btlab.StartAria2Seeder(t, tf, seedDir, port, "--max-overall-upload-limit=512K")
	aria.Out.Wait(t, 60*time.Second, func(l string) bool { return strings.Contains(l, "listening on TCP port") })
	magnet := "magnet:?xt=urn:btih:" + mustInfoHash(t, tf)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := memnet.New()
	bridgeNet, userNet := n.Node("bridge"), n.Node("user")
	leechCfg := bridge.Config{DataDir: filepath.Join(dir, "leech"), MetadataDir: filepath.Join(dir, "meta")}
	engineDir := filepath.Join(dir, "engine")
	start := func() (*bridge.Client, *swarm.Engine, *Node, func()) {
		e, err := swarm.Open(ctx, swarm.Config{DataDir: engineDir, Transport: bridgeNet, Reshare: true,
			Logger: btlab.Logger(t).With("engine", "bridge")})
		if err != nil {
			t.Fatal(err)
		}
		node, stop := serveNode(t, ctx, Config{Leech: leechCfg, Engine: e, Transport: bridgeNet,
			StateDir: filepath.Join(dir, "node"), Logger: btlab.Logger(t), Peers: []string{fmt.Sprintf("127.0.0.1:%d", port)}})
		return node.Client(), e, node, func() {
			stop()
			if err := e.Close(); err != nil {
				t.Error(err)
			}
		}
	}
	c, _, node, stop := start()
	link, err := singleLink(Request(ctx, userNet, node.Address(), magnet, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Counters().BytesDownloaded; got >= size/2 {
		t.Fatalf("the link came after the node leeched %d of %d bytes", got, size)
	}
	user := openEngine(t, userNet, "user")
	dest := t.TempDir()
	st, err := user.Get(ctx, link, dest)
	if err != nil {
		t.Fatal(err)
	}
	r, err := user.Open(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	head := make([]byte, 512<<10)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile(filepath.Join(seedDir, "talk.mkv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(head, seed[:len(head)]) {
		t.Fatal("first bytes read over the hydre swarm differ")
	}
	leeched := c.Counters().BytesDownloaded
	if leeched >= size {
		t.Fatal("the node had the whole torrent before the user read its first bytes")
	}
	t.Logf("user read the first 512 KiB when the node had leeched %d of %d bytes", leeched, size)

	// The node stops mid-leech and starts again: it resumes by itself.
	stop()
	c, _, node, _ = start()
	path := fetchLink(t, ctx, user, link, dest)
	if btlab.FileSHA(t, path) != sum {
		t.Fatal("the user's file differs from the seeded one")
	}
	again, err := singleLink(Request(ctx, userNet, node.Address(), magnet, nil))
	if err != nil || again != link {
		t.Fatalf("after the restart the node answers another link (%v)", err)
	}
	node.mu.Lock()
	growing := node.cache[mustInfoHash(t, tf)].Growing
	node.mu.Unlock()
	if growing {
		t.Fatal("the cache entry is still growing after the leech")
	}
	checkDiscreet(t, c.Counters())
}
