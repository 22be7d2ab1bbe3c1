package swarm

import (
	"context"
	"net/textproto"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cretz/bine/control"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// torFor starts a tor that joins the private network nw.
func torFor(t *testing.T, nw *testnet.Network) *onion.Tor { return testkit.StartTor(t, nw) }

// torForWith starts a tor that joins nw with extra torrc lines.
func torForWith(t *testing.T, nw *testnet.Network, torrc []string) *onion.Tor {
	t.Helper()
	return testkit.StartTor(t, nw, func(c *onion.Config) { c.Torrc = append(c.Torrc, torrc...) })
}

// torNode is an engine over a tor of the private network.
func torNode(t *testing.T, tor onion.Transport, name string) *node {
	t.Helper()
	return torNodeWith(t, tor, name, nil)
}

// torNodeWith is torNode with a tweak of its Config.
func torNodeWith(t *testing.T, tor onion.Transport, name string, tweak func(*Config)) *node {
	t.Helper()
	nd := &node{t: t, name: name, dir: t.TempDir(), dl: t.TempDir()}
	nd.cfg = Config{DataDir: nd.dir, Transport: tor, DownloadDir: nd.dl, Reshare: true,
		Logger: testLogger(t).With("node", name)}
	if tweak != nil {
		tweak(&nd.cfg)
	}
	e, err := Open(context.Background(), nd.cfg)
	if err != nil {
		t.Fatal(err)
	}
	nd.e = e
	t.Cleanup(func() { nd.close() })
	return nd
}

// watchEvents calls handle with each event of tor's control port named
// by codes, from one goroutine, until the test ends.
func watchEvents(t *testing.T, tor *onion.Tor, handle func(control.Event), codes ...control.EventCode) {
	t.Helper()
	conn, err := textproto.Dial("tcp", tor.ControlAddr())
	if err != nil {
		t.Fatal(err)
	}
	c := control.NewConn(conn)
	t.Cleanup(func() { c.Close() })
	if err := c.Authenticate(""); err != nil {
		t.Fatal(err)
	}
	ch := make(chan control.Event, 4096)
	if err := c.AddEventListener(ch, codes...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go c.HandleEvents(ctx)
	go func() {
		for {
			select {
			case ev := <-ch:
				handle(ev)
			case <-ctx.Done():
				return
			}
		}
	}()
}

// TestTorSwarm runs the engine over real onion services: A shares, B gets
// by link; C gets from A and B and both serve it; D loses A mid-transfer and
// completes from B.
func TestTorSwarm(t *testing.T) {
	nw := testkit.Shared(t, testnet.Options{})
	tor1, tor2 := torFor(t, nw), torFor(t, nw)
	a := torNode(t, tor1, "a")
	b := torNode(t, tor2, "b")
	path, data := writeFile(t, t.TempDir(), "tor.bin", 24<<20)
	st := a.share(path, 0)
	b.get(st.Link)
	checkFile(t, b.waitDone(st.ID, 3*time.Minute).Path, data)
	bs, _ := b.e.Status(st.ID)
	aPeers, bPeers := linkPeers(t, st.Link), linkPeers(t, bs.Link)

	c := torNode(t, tor2, "c")
	aUp, bUp := upload(a, st), upload(b, st)
	c.get(linkWith(t, st.Link, aPeers[0], bPeers[0]))
	checkFile(t, c.waitDone(st.ID, 3*time.Minute).Path, data)
	if da, db := upload(a, st)-aUp, upload(b, st)-bUp; da == 0 || db == 0 {
		t.Errorf("c fetched %d bytes from a and %d from b: want both", da, db)
	} else {
		cc, _ := c.e.get(st.ID)
		t.Logf("c fetched %.1f MiB from a and %.1f MiB from b, %.1f MiB of it twice", float64(da)/(1<<20),
			float64(db)/(1<<20), float64(cc.duplicate.Load())/(1<<20))
	}

	d := torNode(t, tor1, "d")
	d.get(linkWith(t, st.Link, aPeers[0], bPeers[0]))
	d.waitFor(st.ID, 3*time.Minute, "10%", func(s Status) bool { return s.Verified > int64(len(data))/10 })
	a.close() // A stops mid-transfer
	checkFile(t, d.waitDone(st.ID, 3*time.Minute).Path, data)
}

func upload(nd *node, st Status) int64 {
	s, _ := nd.e.Status(st.ID)
	return s.Uploaded
}

// TestTorLostEngine checks that an engine over a real tor tells its front
// end when that tor dies (SIGKILL, as by the OOM killer).
func TestTorLostEngine(t *testing.T) {
	nw := testkit.Shared(t, testnet.Options{})
	tor := torFor(t, nw)
	a := torNode(t, tor, "a")
	if err := syscall.Kill(tor.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.e.TransportLost():
	case <-time.After(30 * time.Second):
		t.Fatal("the engine did not notice its tor died")
	}
	if err := a.e.TransportErr(); err == nil || !strings.Contains(err.Error(), "tor exited") {
		t.Fatalf("TransportErr: %v", err)
	}
}
