package testnet

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// echoServer accepts connections on loopback and echoes them until closed.
func echoServer(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveEcho(t, l)
	return l.Addr().String()
}

// serveEcho echoes every connection of l until l is closed, at the latest
// when the test ends, which waits for its handlers.
func serveEcho(t testing.TB, l net.Listener) {
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				io.Copy(c, c)
			})
		}
	})
}

func TestDelayProxy(t *testing.T) {
	tests := []struct {
		name          string
		delay, jitter time.Duration
	}{
		{"no delay", 0, 0},
		{"delay", 30 * time.Millisecond, 0},
		{"delay and jitter", 30 * time.Millisecond, 20 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := listenDelayProxy("127.0.0.1:0", echoServer(t), tt.delay, tt.jitter)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// A round trip crosses the proxy twice.
			begin := time.Now()
			if _, err := c.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
				t.Fatal(err)
			}
			if rtt, least := time.Since(begin), 2*(tt.delay-tt.jitter); rtt < least {
				t.Fatalf("round trip %v, want at least %v", rtt, least)
			}
			// Bytes arrive whole and in order, jitter or not.
			want := make([]byte, 4<<20)
			rand.Read(want)
			go func() {
				for b := want; len(b) > 0; b = b[min(len(b), 1000):] {
					c.Write(b[:min(len(b), 1000)])
				}
				c.(*net.TCPConn).CloseWrite()
			}()
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes back, not the %d sent", len(got), len(want))
			}
		})
	}
}

func TestDelayProxyCloseEndsConnections(t *testing.T) {
	p, err := listenDelayProxy("127.0.0.1:0", echoServer(t), 10*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil { // waits for every goroutine
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatalf("read %d bytes after Close", n)
	}
	if _, err := net.Dial("tcp", p.Addr()); err == nil {
		t.Fatal("proxy still accepts after Close")
	}
}

// BenchmarkDelayProxy measures the throughput of one connection to a
// server that discards what it reads, directly and through a proxy, and the
// CPU the whole process (sender, proxy, receiver) spends per MiB: the
// difference is the proxy's cost.
func BenchmarkDelayProxy(b *testing.B) {
	for _, bb := range []struct {
		name  string
		delay time.Duration
		proxy bool
	}{{"direct", 0, false}, {"proxy", 0, true}, {"proxy-35ms", 35 * time.Millisecond, true}} {
		b.Run(bb.name, func(b *testing.B) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			received := make(chan int64, 1)
			go func() {
				c, err := l.Accept()
				if err != nil {
					received <- 0
					return
				}
				defer c.Close()
				n, _ := io.Copy(io.Discard, c)
				received <- n
			}()
			addr := l.Addr().String()
			if bb.proxy {
				p, err := listenDelayProxy("127.0.0.1:0", addr, bb.delay, 0)
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				addr = p.Addr()
			}
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 64<<10)
			b.SetBytes(int64(len(buf)))
			var before, after syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			begin := time.Now()
			for range b.N {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			c.Close()
			if n := <-received; n != int64(b.N*len(buf)) {
				b.Fatalf("received %d bytes, sent %d", n, b.N*len(buf))
			}
			wall := time.Since(begin)
			syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
			b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
			b.ReportMetric(cpu.Seconds()*1e3/(float64(b.N*len(buf))/(1<<20)), "cpu-ms/MiB")
		})
	}
}
