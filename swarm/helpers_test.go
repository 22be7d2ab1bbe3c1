package swarm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// testOnion is a valid v3 onion address with its port, as PEX carries one.
const testOnion = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:7446"

// node is an engine on a memnet node, with its folders.
type node struct {
	t    *testing.T
	name string
	mem  *memnet.Node
	dir  string // data dir
	dl   string // download dir
	e    *Engine
	cfg  Config
}

// testLogger is testkit.Logger, under the name this package's tests call.
func testLogger(t *testing.T) *slog.Logger { return testkit.Logger(t) }

func newNode(t *testing.T, n *memnet.Network, name string, tweak func(*Config), opts ...memnet.Option) *node {
	t.Helper()
	nd := &node{t: t, name: name, mem: n.Node(name, opts...), dir: t.TempDir(), dl: t.TempDir()}
	nd.cfg = Config{DataDir: nd.dir, Transport: nd.mem, DownloadDir: nd.dl, Reshare: true,
		Logger: testLogger(t).With("node", name)}
	if tweak != nil {
		tweak(&nd.cfg)
	}
	nd.open()
	t.Cleanup(func() { nd.close() })
	return nd
}

func (nd *node) open() {
	nd.t.Helper()
	nd.mem.Reopen()
	e, err := Open(context.Background(), nd.cfg)
	if err != nil {
		nd.t.Fatal(err)
	}
	nd.e = e
}

func (nd *node) close() {
	if nd.e != nil {
		if err := nd.e.Close(); err != nil {
			nd.t.Error(err)
		}
		nd.e = nil
	}
}

// writeFile is testkit.RandomFile, under the name this package's tests call.
func writeFile(t *testing.T, dir, name string, size int) (string, []byte) {
	t.Helper()
	return testkit.RandomFile(t, dir, name, size)
}

func (nd *node) share(path string, chunk int) Status {
	nd.t.Helper()
	st, err := nd.e.Share(context.Background(), path, ShareOptions{ChunkSize: chunk})
	if err != nil {
		nd.t.Fatal(err)
	}
	return st
}

func (nd *node) get(link string) Status {
	nd.t.Helper()
	st, err := nd.e.Get(context.Background(), link, nd.dl)
	if err != nil {
		nd.t.Fatal(err)
	}
	return st
}

// ownAddress waits until the link nd shows for content id names an
// address other than seeder's (nd's own onion address, added once it is
// published) and returns it.
func (nd *node) ownAddress(id hcrypto.ContentID, seeder string) string {
	nd.t.Helper()
	var own string
	nd.waitFor(id, 10*time.Second, "its own address", func(s Status) bool {
		for _, a := range linkPeers(nd.t, s.Link) {
			if a != seeder {
				own = a
				return true
			}
		}
		return false
	})
	return own
}

// waitFor polls the status of id until ok or the deadline.
func (nd *node) waitFor(id hcrypto.ContentID, d time.Duration, what string, ok func(Status) bool) Status {
	nd.t.Helper()
	deadline := time.Now().Add(d)
	for {
		st, err := nd.e.Status(id)
		if err == nil && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			nd.t.Fatalf("%s: %s not reached in %v: %+v (err %v)", nd.name, what, d, st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inSwarm runs fn on the goroutine of id's swarm and reports whether it
// ran (not if no swarm runs, or if it ended first).
func (nd *node) inSwarm(id hcrypto.ContentID, fn func(*swarm)) bool {
	c, err := nd.e.get(id)
	if err != nil {
		return false
	}
	r := c.run.Load()
	if r == nil {
		return false
	}
	l := look{fn: fn, done: make(chan struct{})}
	select {
	case r.s.events <- l:
	case <-r.done:
		return false
	}
	select {
	case <-l.done:
		return true
	case <-r.done:
		return false
	}
}

// waitSwarm polls the swarm of id (on its goroutine) until ok or the
// deadline.
func (nd *node) waitSwarm(id hcrypto.ContentID, d time.Duration, what string, ok func(*swarm) bool) {
	nd.t.Helper()
	testkit.Eventually(nd.t, d, func() bool {
		var yes bool
		return nd.inSwarm(id, func(s *swarm) { yes = ok(s) }) && yes
	}, func() string { return nd.name + ": " + what })
}

// waitTicks waits until the swarm of id has run n more ticks of its loop:
// n more chances to dial, publish and pass PEX on.
func (nd *node) waitTicks(id hcrypto.ContentID, n int) {
	nd.t.Helper()
	start := -1
	nd.waitSwarm(id, time.Duration(n+20)*tickInterval, fmt.Sprintf("%d ticks", n), func(s *swarm) bool {
		if start < 0 {
			start = s.ticks
		}
		return s.ticks-start >= n
	})
}

func (nd *node) waitDone(id hcrypto.ContentID, d time.Duration) Status {
	nd.t.Helper()
	return nd.waitFor(id, d, "complete", func(s Status) bool {
		return s.State == StateSeeding || s.State == StateDone
	})
}

func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, sha256 %x; want %d bytes, sha256 %x", path, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
}

// linkWith returns the link of st with its peer hints replaced.
func linkWith(t *testing.T, link string, peers ...string) string {
	t.Helper()
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	l.Peers = peers
	return l.Encode()
}

var _ onion.Transport = (*memnet.Node)(nil)

// logCapture is a slog.Handler that keeps the messages of warnings and errors.
type logCapture struct {
	mu   *sync.Mutex
	msgs *[]string
}

func newLogCapture() logCapture { return logCapture{mu: &sync.Mutex{}, msgs: new([]string)} }

func (l logCapture) Enabled(_ context.Context, lvl slog.Level) bool { return lvl >= slog.LevelWarn }
func (l logCapture) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	*l.msgs = append(*l.msgs, r.Message)
	return nil
}
func (l logCapture) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logCapture) WithGroup(string) slog.Handler      { return l }

func (l logCapture) contains(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range *l.msgs {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}
