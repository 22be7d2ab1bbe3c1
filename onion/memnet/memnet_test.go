package memnet

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func listen(t *testing.T, nd *Node, cfg onion.ServiceConfig) onion.Listener {
	t.Helper()
	l, err := nd.Listen(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestAddressFromKey(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	l := listen(t, New().Node("a"), onion.ServiceConfig{Key: key, Port: 80})
	if want := onion.AddressForKey(key.Public().(ed25519.PublicKey), 80); l.Address() != want {
		t.Fatalf("address %s, want %s", l.Address(), want)
	}
	if _, _, err := onion.ParseAddress(l.Address()); err != nil {
		t.Fatal(err)
	}
	if _, err := New().Node("b").Listen(context.Background(), onion.ServiceConfig{Key: key, Port: 80}); err != nil {
		t.Fatal("same key on another network:", err)
	}
}

func TestTransfer(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		minTime time.Duration
	}{
		{"unlimited", nil, 0},
		{"latency", []Option{WithLatency(50 * time.Millisecond)}, 50 * time.Millisecond},
		{"bandwidth", []Option{WithBandwidth(1 << 20)}, 450 * time.Millisecond}, // 512 KiB at 1 MiB/s
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(tt.opts...)
			l := listen(t, n.Node("srv"), onion.ServiceConfig{})
			data := bytes.Repeat([]byte("hydre"), 512<<10/5)
			done := make(chan error, 1)
			go func() {
				c, err := l.Accept()
				if err != nil {
					done <- err
					return
				}
				defer c.Close()
				_, err = c.Write(data)
				done <- err
			}()
			start := time.Now()
			c, err := n.Node("cli").Dial(context.Background(), l.Address(), onion.DialOptions{Isolation: "x"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("got %d bytes, want %d", len(got), len(data))
			}
			if el := time.Since(start); el < tt.minTime {
				t.Fatalf("took %v, want at least %v", el, tt.minTime)
			}
		})
	}
}

func TestNodeCloseResets(t *testing.T) {
	n := New()
	srv := n.Node("srv")
	l := listen(t, srv, onion.ServiceConfig{})
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("hello"))
		}
	}()
	c, err := n.Node("cli").Dial(context.Background(), l.Address(), onion.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if _, err := c.Read(buf); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("read after peer vanished: %v, want reset", err)
	}
	if _, err := n.Node("cli").Dial(context.Background(), l.Address(), onion.DialOptions{}); err == nil {
		t.Fatal("dial to a vanished service succeeded")
	}
}

func TestDeadline(t *testing.T) {
	n := New()
	l := listen(t, n.Node("srv"), onion.ServiceConfig{})
	go l.Accept()
	c, err := n.Node("cli").Dial(context.Background(), l.Address(), onion.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v, want deadline exceeded", err)
	}
}

// TestTransport runs the suite every onion.Transport passes (onion's Tor
// tests run it on a private Tor network).
func TestTransport(t *testing.T) {
	n := New()
	cli := n.Node("cli")
	testkit.TransportSuite(t, testkit.Pair{Server: n.Node("srv"), Client: cli,
		Isolated: func(t *testing.T, _ string, tags []string) {
			for _, tag := range tags {
				if !slices.Contains(cli.IsolationTags(), tag) {
					t.Errorf("no dial with isolation tag %q: %v", tag, cli.IsolationTags())
				}
			}
		}})
}

func TestFailureRate(t *testing.T) {
	n := New(WithFailureRate(1))
	l := listen(t, n.Node("srv"), onion.ServiceConfig{})
	go l.Accept()
	c, err := n.Node("cli").Dial(context.Background(), l.Address(), onion.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("write on a failing link succeeded")
	}
}

func TestUplinkShared(t *testing.T) {
	n := New()
	srv := n.Node("srv", WithUplink(1<<20))
	l := listen(t, srv, onion.ServiceConfig{})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { c.Write(make([]byte, 256<<10)); c.Close() }()
		}
	}()
	start := time.Now()
	done := make(chan error, 2)
	for range 2 {
		go func() {
			c, err := n.Node("cli").Dial(context.Background(), l.Address(), onion.DialOptions{})
			if err == nil {
				_, err = io.ReadAll(c)
			}
			done <- err
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// 512 KiB through a shared 1 MiB/s uplink takes about half a second.
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Fatalf("took %v: the uplink is not shared", el)
	}
}

// TestLose checks the node's stand-in for a tor that dies: Done closes with
// Err set, and Reopen gives a node that has not gone away.
func TestLose(t *testing.T) {
	nd := New().Node("a")
	done := nd.Done()
	lost := errors.New("tor exited")
	nd.Lose(lost)
	select {
	case <-done:
	default:
		t.Fatal("Done not closed by Lose")
	}
	if nd.Err() != lost {
		t.Fatalf("Err %v", nd.Err())
	}
	nd.Lose(errors.New("again")) // no second close, the first reason stays
	if nd.Err() != lost {
		t.Fatalf("Err after a second Lose: %v", nd.Err())
	}
	nd.Reopen()
	select {
	case <-nd.Done():
		t.Fatal("Done closed after Reopen")
	default:
	}
	if nd.Err() != nil {
		t.Fatalf("Err after Reopen: %v", nd.Err())
	}
}
