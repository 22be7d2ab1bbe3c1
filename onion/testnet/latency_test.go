package testnet

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
)

// onionRTTs publishes an echo onion service on one tor of nw, dials it from
// another and returns the times of n round trips of one byte, and how long
// the first dial took from the moment the service was published (failed
// attempts included, each given a minute). With logDir, the two tors log
// there.
func onionRTTs(t *testing.T, nw *Network, n int, logDir string) (rtts []time.Duration, dial time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	logTo := func(name string) func(*onion.Config) {
		if logDir == "" {
			return nil
		}
		return func(c *onion.Config) {
			c.Torrc = append(c.Torrc, "Log notice file "+filepath.Join(logDir, name+".log"))
		}
	}
	service, client := startTestTor(t, nw, logTo("service")), startTestTor(t, nw, logTo("client"))
	l, err := service.Listen(ctx, onion.ServiceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	serveEcho(t, l)
	var c net.Conn
	begin := time.Now()
	for c == nil {
		dctx, dcancel := context.WithTimeout(ctx, time.Minute)
		c, err = client.Dial(dctx, l.Address(), onion.DialOptions{})
		dcancel()
		if err != nil {
			t.Logf("dial the echo service after %v: %v", time.Since(begin).Round(time.Millisecond), err)
			if ctx.Err() != nil {
				t.Fatal("no dial succeeded")
			}
		}
	}
	dial = time.Since(begin)
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	b := []byte{0}
	for i := range n + 1 {
		begin := time.Now()
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			rtts = append(rtts, time.Since(begin))
		}
	}
	return rtts, dial
}

// TestLatency checks that every link of an onion-service circuit crosses a
// delay proxy: a round trip crosses 7 links (client, guard, middle,
// rendezvous point; service, guard, two middles) twice.
func TestLatency(t *testing.T) {
	skipWithoutTor(t)
	const latency = 20 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	nw, err := Start(ctx, Options{Dir: t.TempDir(), Latency: latency, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close() })
	for _, n := range nw.st.Nodes {
		b, err := os.ReadFile(n.dir(nw.dir) + "/torrc")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), " NoListen\n") {
			t.Fatalf("%s advertises the port it listens on:\n%s", n.Name, b)
		}
	}
	rtts, _ := onionRTTs(t, nw, 5, "")
	t.Logf("round trips through the onion circuit: %v", rtts)
	if least := 14 * latency; slices.Min(rtts) < least {
		t.Fatalf("a round trip took %v, less than the %v of 14 links at %v", slices.Min(rtts), least, latency)
	}
}
