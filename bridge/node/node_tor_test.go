package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/bridge/internal/btlab"
	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
	"github.com/hydre-p2p/hydre/swarm"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// TestNodeOverTor is the end-to-end run on the private Tor network: a
// hydre user asks a hidden bridge node for a magnet whose seeder is
// Transmission (rate-limited to 512 KiB/s), streams the first megabytes
// before the node's leech ends, both through the node's stream mode and
// through the hydre link the node answers with at once (the live content,
// over the hydre swarm protocol), reads the exact file to the end, and the
// link's download ends with the exact file too.
func TestNodeOverTor(t *testing.T) {
	dir := t.TempDir()
	seedDir := filepath.Join(dir, "seed")
	sum := testkit.WritePayload(t, filepath.Join(seedDir, "lecture.bin"), 12<<20+5, 6)
	tf := filepath.Join(dir, "lecture.torrent")
	btlab.MakeTorrent(t, filepath.Join(seedDir, "lecture.bin"), tf, "", 16)
	port := btlab.FreePort(t)
	trd := btlab.StartTransmission(t, filepath.Join(dir, "tr"), port,
		map[string]any{"speed-limit-up-enabled": true, "speed-limit-up": 512})
	trd.Add(t, tf, seedDir)
	trd.WaitField(t, 60*time.Second, "Percent Done", func(v string) bool { return v == "100%" })

	nw := testkit.Shared(t, testnet.Options{})
	bridgeTor, userTor := testkit.StartTor(t, nw), testkit.StartTor(t, nw)
	engine := openEngine(t, bridgeTor, "bridge")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The operator's peer stands in for the node's DHT look-up.
	node, stop := serveNode(t, ctx, Config{Engine: engine, Transport: bridgeTor,
		StateDir: filepath.Join(dir, "node"), Logger: testkit.Logger(t), Peers: []string{fmt.Sprintf("127.0.0.1:%d", port)}})
	defer stop()
	c := node.Client()

	start := time.Now()
	magnet := "magnet:?xt=urn:btih:" + mustInfoHash(t, tf)
	stream, err := openStreamRetry(ctx, userTor, node.Address(), magnet)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	first := make([]byte, 2<<20)
	if _, err := io.ReadFull(stream, first); err != nil {
		t.Fatal(err)
	}
	firstAfter := time.Since(start)
	leeched := leechedBytes(c)
	if leeched >= stream.Size() {
		t.Fatal("the node had the whole file before the user streamed 2 MiB")
	}

	// The hydre link: answered at once, read over the hydre swarm while
	// the node still leeches.
	link, err := requestRetry(ctx, userTor, node.Address(), magnet)
	if err != nil {
		t.Fatal(err)
	}
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	linkAfter := time.Since(start)
	user := openEngine(t, userTor, "user")
	if _, err := user.Get(ctx, link, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	f, err := user.Open(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	viaLink := make([]byte, 2<<20)
	if _, err := io.ReadFull(f, viaLink); err != nil {
		t.Fatal(err)
	}
	viaLinkAfter := time.Since(start)
	leeched = leechedBytes(c)
	if leeched >= stream.Size() {
		t.Fatal("the node had the whole file before the user read 2 MiB through the hydre link")
	}
	if !bytes.Equal(viaLink, first) {
		t.Fatal("the first 2 MiB through the link differ from the stream's")
	}
	t.Logf("link after %v, its first 2 MiB over hydre after %v (node had %d of %d bytes)",
		linkAfter.Round(time.Millisecond), viaLinkAfter.Round(time.Millisecond), leeched, stream.Size())

	h := sha256.New()
	h.Write(first)
	if _, err := io.Copy(h, stream); err != nil {
		t.Fatal(err)
	}
	if [32]byte(h.Sum(nil)) != sum {
		t.Fatal("file streamed through the bridge over tor differs")
	}
	streamed := time.Since(start)
	if again, err := singleLink(stream.Links(), nil); err != nil || again != link {
		t.Fatalf("the stream ends with another link (%v)", err)
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
	if testkit.FileSHA(t, st.Path) != sum {
		t.Fatal("file fetched through the bridge over tor differs")
	}
	checkDiscreet(t, c.Counters())
	t.Logf("first 2 MiB after %v (node had %d of %d bytes), whole stream and link after %v, hydre get done after %v",
		firstAfter.Round(time.Millisecond), leeched, stream.Size(), streamed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}
