package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
	"github.com/hydre-p2p/hydre/bridge/internal/btlab"
	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
)

// gatedTransport holds every publication of a service with a given key
// (the engine's spares and contents; the node's own service has none)
// until open is closed, as a tor whose descriptor uploads take long.
type gatedTransport struct {
	onion.Transport
	open chan struct{}

	mu    sync.Mutex
	addrs []string // the addresses held, in order
}

func (g *gatedTransport) Listen(ctx context.Context, cfg onion.ServiceConfig) (onion.Listener, error) {
	if cfg.Key != nil {
		g.mu.Lock()
		g.addrs = append(g.addrs, onion.AddressForKey(cfg.Key.Public().(ed25519.PublicKey), cfg.Port))
		g.mu.Unlock()
		select {
		case <-g.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Transport.Listen(ctx, cfg)
}

func (g *gatedTransport) held() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.addrs)
}

// TestNodeLinkReachable: a node whose contents' onion services are not
// published yet holds the link back, even after the whole torrent is
// leeched, and gives it once the service is up; the user's first dial then
// reaches it. The content's address is one the node had published (a
// spare or its own).
func TestNodeLinkReachable(t *testing.T) {
	dir := t.TempDir()
	seedDir := filepath.Join(dir, "seed")
	const size = 1<<20 + 99
	sum := btlab.WritePayload(t, filepath.Join(seedDir, "note.bin"), size, 21)
	tf := filepath.Join(dir, "note.torrent")
	btlab.MakeTorrent(t, filepath.Join(seedDir, "note.bin"), tf, "", 15)
	port := btlab.FreePort(t)
	aria := btlab.StartAria2Seeder(t, tf, seedDir, port)
	aria.Out.Wait(t, 60*time.Second, func(l string) bool { return strings.Contains(l, "listening on TCP port") })
	magnet := "magnet:?xt=urn:btih:" + mustInfoHash(t, tf)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	mn := memnet.New()
	gated := &gatedTransport{Transport: mn.Node("bridge"), open: make(chan struct{})}
	userNet := mn.Node("user")
	engine := openEngine(t, gated, "bridge")
	node, stop := serveNode(t, ctx, Config{Leech: bridge.Config{MetadataDir: filepath.Join(dir, "meta")}, Engine: engine, Transport: gated,
		StateDir: filepath.Join(dir, "node"), Logger: btlab.Logger(t), Peers: []string{fmt.Sprintf("127.0.0.1:%d", port)}})
	defer stop()

	type answer struct {
		link string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		link, err := singleLink(Request(ctx, userNet, node.Address(), magnet, nil))
		answered <- answer{link, err}
	}()
	// The node shares the torrent and leeches all of it while its
	// content's service is not published: no link yet.
	for {
		if sts := engine.List(); len(sts) == 1 && sts[0].Verified == size {
			if sts[0].Reachable {
				t.Fatal("content reachable through a transport that published nothing")
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the node did not share the whole torrent: %+v", engine.List())
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case a := <-answered:
		t.Fatalf("link given out before its onion service was published (err %v)", a.err)
	default:
	}
	close(gated.open)
	a := <-answered
	if a.err != nil {
		t.Fatal(a.err)
	}
	l, err := hcrypto.ParseLink(a.link)
	if err != nil || len(l.Peers) == 0 {
		t.Fatalf("link: %v", err)
	}
	if held := gated.held(); !slices.Contains(held, l.Peers[0]) {
		t.Fatalf("content at %s, not among the services the node published %v", l.Peers[0], held)
	}
	user := openEngine(t, userNet, "user")
	st, err := user.Get(ctx, a.link, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	connected := false
	for st.State != swarm.StateSeeding && st.State != swarm.StateDone {
		connected = connected || st.Connections > 0
		// Other waits are shown meanwhile (asking the rendezvous slots);
		// a failed dial says so.
		if !connected && strings.HasPrefix(st.Waiting, "no peer reachable yet") {
			t.Fatalf("the user's first dial failed: %s", st.Waiting)
		}
		if st.State == swarm.StateFailed || ctx.Err() != nil {
			t.Fatalf("user fetch: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
		if st, err = user.Status(st.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := btlab.FileSHA(t, st.Path); got != sum {
		t.Fatal("file fetched through the bridge differs from the seeded one")
	}
}
