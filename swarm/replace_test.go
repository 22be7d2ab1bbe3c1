package swarm

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// TestSlowCircuit checks which circuit is replaced: one far slower than the
// other circuits to its peer, once they have all been busy long enough.
func TestSlowCircuit(t *testing.T) {
	const age = 15 * time.Second
	type circ struct {
		addr   string
		rate   int64 // bytes per second busy
		busy   time.Duration
		inward bool // an accepted connection
	}
	full := func(addr string, rates ...int64) []circ {
		var cs []circ
		for _, r := range rates {
			cs = append(cs, circ{addr: addr, rate: r, busy: age})
		}
		return cs
	}
	tests := []struct {
		name  string
		circs []circ
		want  int // index in circs; -1: none
	}{
		{"one circuit far slower than the others to its peer", full("a", 90e3, 100e3, 5e3, 110e3), 2},
		{"a third of the median is not slow enough", full("a", 30e3, 90e3, 90e3, 100e3), -1},
		{"a slow peer keeps its circuits", append(full("a", 100e3, 100e3, 100e3), full("b", 5e3, 6e3, 5e3)...), -1},
		{"the slowest of two slow circuits", append(full("a", 100e3, 100e3, 8e3), full("b", 100e3, 4e3, 100e3)...), 4},
		{"too few circuits to the peer to tell", full("a", 100e3, 5e3), -1},
		{"not busy long enough", []circ{{"a", 100e3, age, false}, {"a", 100e3, age, false}, {"a", 5e3, age / 2, false}, {"a", 100e3, age, false}}, -1},
		{"accepted connections are not ours to replace", []circ{{"a", 100e3, age, false}, {"a", 100e3, age, false}, {"a", 5e3, age, true}, {"a", 100e3, age, false}}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := stealSwarm(t, 10, 16<<10)
			var ps []*peer
			for i, c := range tt.circs {
				p := newPeer(s, nil, c.addr, !c.inward, i)
				p.busy = c.busy
				p.rx.Store(c.rate * int64(c.busy/time.Second))
				s.peers[p] = true
				ps = append(ps, p)
			}
			got := s.slowCircuit(age)
			if want := tt.want; want < 0 && got != nil || want >= 0 && got != ps[want] {
				t.Errorf("slowCircuit = circuit %v, want %d", got, want)
			}
		})
	}
}

// slowTransport dials through a memnet node and makes the circuits whose
// isolation tag ends in slowSuffix slow to read from; it records the tags
// it dialed and which slow connections were closed.
type slowTransport struct {
	*memnet.Node
	slowSuffix string
	rate       int // bytes/s of a slow circuit

	mu         sync.Mutex
	tags       []string
	slowClosed int
	extra      map[string]bool // Hello.Extra of each tag's dial
}

func (st *slowTransport) Dial(ctx context.Context, addr string, opt onion.DialOptions) (net.Conn, error) {
	st.mu.Lock()
	st.tags = append(st.tags, opt.Isolation)
	st.mu.Unlock()
	c, err := st.Node.Dial(ctx, addr, opt)
	if err != nil {
		return nil, err
	}
	c = &helloConn{Conn: c, st: st, tag: opt.Isolation}
	if st.slowSuffix == "" || !strings.HasSuffix(opt.Isolation, st.slowSuffix) {
		return c, nil
	}
	return &slowConn{Conn: c, st: st}, nil
}

// helloConn records the extra bit of the Hello written on it.
type helloConn struct {
	net.Conn
	st   *slowTransport
	tag  string
	once sync.Once
}

func (c *helloConn) Write(b []byte) (int, error) {
	c.once.Do(func() {
		// The Hello is the first frame, written in one Write (wire.WriteFrame).
		if len(b) > 5 && wire.Type(b[4]) == wire.TypeHello {
			m, err := wire.DecodeBody(wire.TypeHello, b[5:])
			if err != nil {
				return
			}
			c.st.mu.Lock()
			if c.st.extra == nil {
				c.st.extra = map[string]bool{}
			}
			c.st.extra[c.tag] = m.(wire.Hello).Extra
			c.st.mu.Unlock()
		}
	})
	return c.Conn.Write(b)
}

// extraOf returns the Hello.Extra of the dial whose tag ends in suffix.
func (st *slowTransport) extraOf(t *testing.T, suffix string) bool {
	t.Helper()
	st.mu.Lock()
	defer st.mu.Unlock()
	for tag, x := range st.extra {
		if strings.HasSuffix(tag, suffix) {
			return x
		}
	}
	t.Fatalf("no Hello seen on a circuit ending in %s", suffix)
	return false
}

func (st *slowTransport) dialed() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return slices.Clone(st.tags)
}

type slowConn struct {
	net.Conn
	st   *slowTransport
	once sync.Once
}

func (c *slowConn) Read(b []byte) (int, error) {
	b = b[:min(len(b), 1<<10)]
	n, err := c.Conn.Read(b)
	time.Sleep(time.Duration(n) * time.Second / time.Duration(c.st.rate))
	return n, err
}

func (c *slowConn) Close() error {
	c.once.Do(func() {
		c.st.mu.Lock()
		c.st.slowClosed++
		c.st.mu.Unlock()
	})
	return c.Conn.Close()
}

// TestReplaceSlowCircuit checks that a downloader replaces a circuit far
// slower than its others to the same seeder with a circuit on a new
// isolation tag, closes the slow one, and never dials its tag again; and
// that it replaces nothing when its circuits are alike.
func TestReplaceSlowCircuit(t *testing.T) {
	for _, slow := range []bool{true, false} {
		t.Run(fmt.Sprintf("slow circuit %v", slow), func(t *testing.T) {
			n := memnet.New()
			a := newNode(t, n, "a", nil, memnet.WithBandwidth(128<<10))
			path, data := writeFile(t, t.TempDir(), "r", 3<<20)
			st := a.share(path, 16<<10)
			// Dials before the service is up fail and are dialed again,
			// which the tag counts below would take for redials.
			a.waitFor(st.ID, 5*time.Second, "reachable", func(s Status) bool { return s.Reachable })
			var tr *slowTransport
			b := newNode(t, n, "b", func(c *Config) {
				tr = &slowTransport{Node: c.Transport.(*memnet.Node), rate: 4 << 10}
				if slow {
					tr.slowSuffix = "-0"
				}
				c.Transport = tr
				c.replaceAge, c.replaceMinLeft = 2*time.Second, time.Second
			})
			b.get(st.Link)
			done := b.waitDone(st.ID, time.Minute)
			checkFile(t, done.Path, data)
			tags := slices.DeleteFunc(tr.dialed(), isRendezvousTag) // the peer dials only
			count := func(suffix string) int {
				return len(slices.DeleteFunc(slices.Clone(tags), func(s string) bool { return !strings.HasSuffix(s, suffix) }))
			}
			// Circuit 0 leads (Hello without the extra bit), 1-3 are extra.
			for i := range DefaultCircuitsPerPeer {
				if got := tr.extraOf(t, fmt.Sprintf("-%d", i)); got != (i > 0) {
					t.Errorf("circuit %d said extra %v", i, got)
				}
			}
			if !slow {
				if len(tags) != DefaultCircuitsPerPeer {
					t.Fatalf("dialed %v, want %d circuits and no replacement", tags, DefaultCircuitsPerPeer)
				}
				return
			}
			if tr.extraOf(t, "-4") {
				t.Error("the replacement of the leading circuit said it was extra: it should lead in its place")
			}
			tr.mu.Lock()
			closed := tr.slowClosed
			tr.mu.Unlock()
			if count("-4") != 1 || closed != 1 || count("-0") != 1 {
				t.Fatalf("dialed %v, slow circuit closed %d times; want one more circuit (-4), the slow one (-0) closed and never dialed again", tags, closed)
			}
		})
	}
}
