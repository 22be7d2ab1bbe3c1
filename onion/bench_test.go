package onion_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestBenchTor measures, on a private network of this machine: bringing the
// network up, a client's bootstrap, a fresh onion service's first answer,
// and echo throughput over one onion stream against a plain TCP echo on
// loopback in the same run. It writes tor.md to $HYDRE_BENCH_OUT.
func TestBenchTor(t *testing.T) {
	if os.Getenv("HYDRE_BENCH") != "1" {
		t.Skip("benchmark: set HYDRE_BENCH=1 (make bench)")
	}
	const runs = 5
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	// Bring-up from nothing, each in its own directory.
	var bringUp []time.Duration
	for i := range runs {
		dir, err := os.MkdirTemp("", "hydre-bench-testnet-")
		if err != nil {
			t.Fatal(err)
		}
		nw, err := testnet.Start(ctx, testnet.Options{Dir: dir})
		if err != nil {
			t.Fatalf("bring-up %d: %v (logs kept in %s)", i, err, dir)
		}
		bringUp = append(bringUp, nw.UsableAfter())
		if err := nw.Close(); err != nil {
			t.Fatal(err)
		}
		os.RemoveAll(dir)
	}

	nw := testkit.Shared(t, testnet.Options{})
	var boot []time.Duration
	for range runs {
		start := time.Now()
		tor := startTor(t, "")
		boot = append(boot, time.Since(start))
		tor.Close()
	}

	a := startTor(t, "")
	b := startTor(t, "")
	var firstConn []time.Duration
	for i := range runs {
		start := time.Now()
		l, err := a.Listen(ctx, onion.ServiceConfig{})
		if err != nil {
			t.Fatal(err)
		}
		testkit.ServeEcho(t, l)
		c, err := dialRetry(ctx, b, l.Address(), onion.DialOptions{Isolation: fmt.Sprint("first", i)})
		if err != nil {
			t.Fatal(err)
		}
		testkit.Echo(t, c, 1)
		firstConn = append(firstConn, time.Since(start))
		c.Close()
		l.Close()
	}

	l, err := a.Listen(ctx, onion.ServiceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	testkit.ServeEcho(t, l)
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testkit.ServeEcho(t, tcp)
	const onionBytes, tcpBytes = 32 << 20, 512 << 20
	var onionRate, tcpRate []float64
	for i := range 3 {
		c, err := dialRetry(ctx, b, l.Address(), onion.DialOptions{Isolation: fmt.Sprint("bulk", i)})
		if err != nil {
			t.Fatal(err)
		}
		onionRate = append(onionRate, echoRate(t, c, onionBytes))
		c.Close()
		p, err := net.Dial("tcp", tcp.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		tcpRate = append(tcpRate, echoRate(t, p, tcpBytes))
		p.Close()
	}

	var md strings.Builder
	fmt.Fprintf(&md, "## Tor\n\n")
	fmt.Fprintf(&md, "Private Tor network on 127.0.0.1 (onion/testnet: 3 authorities + %d relays, Debian's tor %s, relays unlimited), "+
		"%d CPUs, %s. Every figure is a median; all runs are listed.\n\n", testnet.DefaultRelays, torVersion(t, a), runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&md, "| measure | median | runs |\n|---|---|---|\n")
	fmt.Fprintf(&md, "| network bring-up from nothing to a fresh onion answering | %s | %s |\n", secs(median(bringUp)), listSecs(bringUp))
	fmt.Fprintf(&md, "| client start to bootstrapped (network up) | %s | %s |\n", secs(median(boot)), listSecs(boot))
	fmt.Fprintf(&md, "| ADD_ONION to first successful connection (incl. descriptor upload) | %s | %s |\n", secs(median(firstConn)), listSecs(firstConn))
	fmt.Fprintf(&md, "\n| echo throughput (bytes sent and received back concurrently) | MB/s median | runs | ratio to TCP |\n|---|---|---|---|\n")
	fmt.Fprintf(&md, "| one onion stream, %d MiB | %.2f | %s | %.4f |\n", onionBytes>>20, medianF(onionRate), listF(onionRate), medianF(onionRate)/medianF(tcpRate))
	fmt.Fprintf(&md, "| plain TCP on loopback, %d MiB (same run) | %.1f | %s | 1 |\n", tcpBytes>>20, medianF(tcpRate), listF(tcpRate))
	fmt.Fprintf(&md, "\nOne onion stream crosses a client circuit and a service circuit that meet at a rendezvous relay; the loopback echo is the same Go echo server without Tor.\n")
	t.Log("\n" + md.String())
	_ = nw
	if dir := os.Getenv("HYDRE_BENCH_OUT"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "tor.md"), []byte(md.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// echoRate sends n bytes through c while reading them back and returns the
// rate in MB/s.
func echoRate(t *testing.T, c net.Conn, n int64) float64 {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	start := time.Now()
	var wg sync.WaitGroup
	var werr error
	wg.Go(func() {
		for sent := int64(0); sent < n; sent += int64(len(buf)) {
			if _, werr = c.Write(buf[:min(int64(len(buf)), n-sent)]); werr != nil {
				return
			}
		}
	})
	got, err := io.CopyN(io.Discard, c, n)
	wg.Wait()
	if err != nil || werr != nil || got != n {
		t.Fatalf("echo: got %d of %d bytes: %v %v", got, n, err, werr)
	}
	return float64(n) / time.Since(start).Seconds() / 1e6
}

func torVersion(t *testing.T, tor *onion.Tor) string {
	v, err := tor.GetInfo("version")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianF(f []float64) float64 {
	s := slices.Clone(f)
	slices.Sort(s)
	return s[len(s)/2]
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func listSecs(d []time.Duration) string {
	var p []string
	for _, x := range d {
		p = append(p, fmt.Sprintf("%.1f", x.Seconds()))
	}
	return strings.Join(p, ", ") + " s"
}

func listF(f []float64) string {
	var p []string
	for _, x := range f {
		p = append(p, fmt.Sprintf("%.2f", x))
	}
	return strings.Join(p, ", ")
}
