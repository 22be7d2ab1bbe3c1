package testkit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
)

// Pair is a transport under test: a side that publishes services and a
// side that dials them, on one network.
type Pair struct {
	Server, Client onion.Transport
	// Isolated, if set, checks that the open streams to addr, dialled by
	// Client with these isolation tags, ride separate paths (circuits on
	// Tor). Without it the suite checks only that each tag's stream works.
	Isolated func(t *testing.T, addr string, tags []string)
	// Timeout bounds each case; 0 means one minute.
	Timeout time.Duration
	// EchoBytes is the size of the large echo; 0 means 1 MiB.
	EchoBytes int
}

// TransportSuite checks what hydre relies on from an onion.Transport:
// a service's address is its key's, bytes go through intact both ways,
// isolation tags get separate streams, a closed service is gone, a closed
// stream ends at the other side, addresses that are not v3 onions are
// refused before any traffic, and client authorization admits the right
// key only (ErrClientAuth otherwise). The cases share p; each publishes
// services of its own.
func TransportSuite(t *testing.T, p Pair) {
	if p.Timeout == 0 {
		p.Timeout = time.Minute
	}
	if p.EchoBytes == 0 {
		p.EchoBytes = 1 << 20
	}
	for _, c := range []struct {
		name string
		run  func(*testing.T, context.Context, Pair)
	}{
		{"AddressIsKey", suiteAddress},
		{"EchoAndIsolation", suiteEcho},
		{"CloseService", suiteCloseService},
		{"CloseStream", suiteCloseStream},
		{"RefuseNotOnion", suiteRefuse},
		{"ClientAuth", suiteClientAuth},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), p.Timeout)
			defer cancel()
			c.run(t, ctx, p)
		})
	}
}

func suiteAddress(t *testing.T, ctx context.Context, p Pair) {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, port := range []int{0, 80} {
		l := listen(t, ctx, p.Server, onion.ServiceConfig{Key: key, Port: port})
		want := port
		if want == 0 {
			want = onion.DefaultPort
		}
		if got := l.Address(); got != onion.AddressForKey(key.Public().(ed25519.PublicKey), want) {
			t.Errorf("port %d: address %q is not the key's", port, got)
		}
		if _, _, err := onion.ParseAddress(l.Address()); err != nil {
			t.Errorf("port %d: %v", port, err)
		}
		l.Close()
	}
}

func suiteEcho(t *testing.T, ctx context.Context, p Pair) {
	l := listen(t, ctx, p.Server, onion.ServiceConfig{})
	accepted := ServeEcho(t, l)
	tags := []string{"suite-one", "suite-two"}
	var conns []net.Conn
	for _, tag := range tags {
		c := dialRetry(t, ctx, p.Client, l.Address(), onion.DialOptions{Isolation: tag})
		conns = append(conns, c)
		Echo(t, c, 1024)
	}
	if n := accepted(); n != len(tags) {
		t.Fatalf("service accepted %d streams, want %d", n, len(tags))
	}
	if p.Isolated != nil {
		p.Isolated(t, l.Address(), tags)
	}
	Echo(t, conns[0], p.EchoBytes)
}

func suiteCloseService(t *testing.T, ctx context.Context, p Pair) {
	l := listen(t, ctx, p.Server, onion.ServiceConfig{})
	accepted := ServeEcho(t, l)
	c := dialRetry(t, ctx, p.Client, l.Address(), onion.DialOptions{Isolation: "suite-close"})
	Echo(t, c, 1024)
	l.Close()
	if _, err := l.Accept(); err == nil {
		t.Fatal("Accept on a closed service succeeded")
	}
	// Tor may keep trying the service's old introduction points until the
	// deadline: a dial that ends in an error or a timeout has not connected.
	dctx, cancel := context.WithTimeout(ctx, min(p.Timeout/2, 15*time.Second))
	defer cancel()
	if c2, err := p.Client.Dial(dctx, l.Address(), onion.DialOptions{Isolation: "suite-closed"}); err == nil {
		c2.Close()
		t.Fatal("dial to a closed service succeeded")
	}
	if n := accepted(); n != 1 {
		t.Fatalf("service accepted %d streams, want 1", n)
	}
}

func suiteCloseStream(t *testing.T, ctx context.Context, p Pair) {
	l := listen(t, ctx, p.Server, onion.ServiceConfig{})
	got := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(p.Timeout))
		b := make([]byte, 5)
		if _, err := io.ReadFull(c, b); err != nil {
			got <- fmt.Errorf("read hello: %w", err)
			return
		}
		_, err = c.Read(b) // the client closed: an end, not a wait
		if err == nil {
			err = errors.New("read after the client closed returned data")
		} else {
			err = nil
		}
		got <- err
	}()
	c := dialRetry(t, ctx, p.Client, l.Address(), onion.DialOptions{Isolation: "suite-stream"})
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the service did not see the stream end")
	}
}

func suiteRefuse(t *testing.T, ctx context.Context, p Pair) {
	for _, addr := range []string{"example.com:80", "127.0.0.1:22", "[::1]:22", "expyuzz4wqqyqhjn.onion:80",
		"3gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:80"} {
		if c, err := p.Client.Dial(ctx, addr, onion.DialOptions{}); err == nil {
			c.Close()
			t.Errorf("Dial(%q) succeeded", addr)
		} else if !errors.Is(err, onion.ErrNotOnion) && !errors.Is(err, onion.ErrBadChecksum) {
			t.Errorf("Dial(%q) = %v, want a refusal before any traffic", addr, err)
		}
	}
}

func suiteClientAuth(t *testing.T, ctx context.Context, p Pair) {
	priv, pub, err := onion.GenerateClientKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := onion.GenerateClientKey()
	if err != nil {
		t.Fatal(err)
	}
	l := listen(t, ctx, p.Server, onion.ServiceConfig{ClientAuth: []onion.ClientPublicKey{pub}})
	ServeEcho(t, l)
	for _, tt := range []struct {
		name string
		key  *onion.ClientPrivateKey
	}{{"no key", nil}, {"wrong key", &other}} {
		dctx, cancel := context.WithTimeout(ctx, p.Timeout/2)
		c, err := p.Client.Dial(dctx, l.Address(), onion.DialOptions{Isolation: "suite-" + tt.name, ClientKey: tt.key})
		cancel()
		if err == nil {
			c.Close()
			t.Fatalf("dial with %s succeeded", tt.name)
		}
		if !errors.Is(err, onion.ErrClientAuth) {
			t.Fatalf("dial with %s: %v, want ErrClientAuth", tt.name, err)
		}
	}
	c := dialRetry(t, ctx, p.Client, l.Address(), onion.DialOptions{Isolation: "suite-key", ClientKey: &priv})
	Echo(t, c, 4096)
}

// listen publishes a service on tr, closed at the end of the test.
func listen(t *testing.T, ctx context.Context, tr onion.Transport, cfg onion.ServiceConfig) onion.Listener {
	t.Helper()
	l, err := tr.Listen(ctx, cfg)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// ServeEcho echoes every stream of l until l is closed (at the latest at
// the end of the test, which waits for its handlers). accepted returns the
// number of streams accepted so far.
func ServeEcho(t testing.TB, l net.Listener) (accepted func() int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				io.Copy(c, c)
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// dialRetry dials until it works or ctx ends: a service just published may
// take a few tries to reach over Tor. The stream closes with the test.
func dialRetry(t *testing.T, ctx context.Context, tr onion.Transport, addr string, opt onion.DialOptions) net.Conn {
	t.Helper()
	for {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		c, err := tr.Dial(dctx, addr, opt)
		cancel()
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return c
		}
		select {
		case <-ctx.Done():
			t.Fatalf("dial %s: %v (last error: %v)", opt.Isolation, ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}

// Echo sends n pseudo-random bytes through c and checks they come back.
func Echo(t testing.TB, c net.Conn, n int) {
	t.Helper()
	src := make([]byte, n)
	rand.NewChaCha8(seedOf(uint64(n))).Read(src)
	c.SetDeadline(time.Now().Add(3 * time.Minute))
	defer c.SetDeadline(time.Time{})
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(src)
		werr <- err
	}()
	h := sha256.New()
	if _, err := io.CopyN(h, c, int64(n)); err != nil {
		t.Fatalf("echo: read: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("echo: write: %v", err)
	}
	if want := sha256.Sum256(src); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("echo of %d bytes came back different", n)
	}
}
