package testnet

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Sizes of a delay proxy's queues. A read takes at most delayChunk bytes
// (a TLS record is at most 16 KiB), and each direction of a connection
// holds at most delayQueue chunks in flight: 4 MiB, enough for 80 MB/s at
// 50 ms, far above what one tor circuit carries here, while an idle
// connection holds one buffer per direction.
const (
	delayChunk = 16 << 10
	delayQueue = 256
)

var chunkPool = sync.Pool{New: func() any { b := make([]byte, delayChunk); return &b }}

// delayProxy listens on a relay's advertised ORPort and forwards each
// connection to the port its tor listens on, holding every chunk of bytes,
// in each direction, for delay plus a jitter drawn uniformly from
// [-jitter, +jitter] before writing it on. Chunks keep their order (a
// chunk never leaves before the one read before it), as on a TCP link.
// Every connection between tors goes to a relay's ORPort, so every link of
// a circuit crosses exactly one proxy: its one-way latency is the delay.
type delayProxy struct {
	l             net.Listener
	target        string
	delay, jitter time.Duration

	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// listenDelayProxy starts a proxy from listen to target.
func listenDelayProxy(listen, target string, delay, jitter time.Duration) (*delayProxy, error) {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("delay proxy: %w", err)
	}
	p := &delayProxy{l: l, target: target, delay: delay, jitter: min(jitter, delay), conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.serve)
	return p, nil
}

// Addr returns the address the proxy listens on.
func (p *delayProxy) Addr() string { return p.l.Addr().String() }

// Close stops listening, ends every connection and waits for its
// goroutines.
func (p *delayProxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.l.Close()
	p.wg.Wait()
	return err
}

func (p *delayProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // out of descriptors: let some close
			continue
		}
		if !p.track(c) {
			c.Close()
			return
		}
		p.wg.Go(func() { p.handle(c) })
	}
}

// track registers c so that Close ends it; false once closed.
func (p *delayProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *delayProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *delayProxy) handle(in net.Conn) {
	defer p.untrack(in)
	out, err := net.DialTimeout("tcp", p.target, 10*time.Second)
	if err != nil {
		return
	}
	if !p.track(out) {
		out.Close()
		return
	}
	defer p.untrack(out)
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(out, in) })
	p.pipe(in, out)
	wg.Wait()
}

type delayedChunk struct {
	buf *[]byte
	n   int
	due time.Time
}

// pipe copies src to dst, each chunk delayed; at the end of src it closes
// dst for writing; on an error either way it closes both.
func (p *delayProxy) pipe(dst, src net.Conn) {
	queue := make(chan delayedChunk, delayQueue)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(queue)
		var last time.Time
		for {
			buf := chunkPool.Get().(*[]byte)
			n, err := src.Read(*buf)
			if n > 0 {
				due := time.Now().Add(p.delay)
				if p.jitter > 0 {
					due = due.Add(time.Duration(rand.Int64N(int64(2*p.jitter+1))) - p.jitter)
				}
				if due.Before(last) {
					due = last
				}
				last = due
				queue <- delayedChunk{buf, n, due}
			} else {
				chunkPool.Put(buf)
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					dst.Close()
				}
				return
			}
		}
	})
	failed := false
	for c := range queue {
		if !failed {
			time.Sleep(time.Until(c.due)) // the link's latency
			if _, err := dst.Write((*c.buf)[:c.n]); err != nil {
				failed = true
				src.Close() // unblocks the reader; the queue then drains
			}
		}
		chunkPool.Put(c.buf)
	}
	wg.Wait()
	if tc, ok := dst.(*net.TCPConn); ok && !failed {
		tc.CloseWrite()
	}
}
