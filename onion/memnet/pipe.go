package memnet

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// errReset is what both ends see when a link is broken by failure injection
// or by a node vanishing.
var errReset = errors.New("memnet: connection reset")

const (
	segmentMax = 16 << 10  // bytes per delivery unit
	windowMax  = 256 << 10 // bytes buffered in one direction before writes block
)

type segment struct {
	data []byte
	at   time.Time // delivery time
}

// pipe is one direction of a connection: an ordered queue of segments, each
// delivered after the link's latency, paced by its bandwidth, with a bounded
// window so a fast writer is held back like a TCP sender.
type pipe struct {
	mu       sync.Mutex
	segs     []segment
	buffered int
	nextFree time.Time
	eof      bool  // writer closed: reader sees EOF after draining
	err      error // broken: both ends see err at once
	rclosed  bool  // reader closed its end
	rdl, wdl time.Time
	notify   chan struct{}
	link     linkConfig
	up       *pacer // the writing node's uplink
}

func newPipe(l linkConfig) *pipe { return &pipe{notify: make(chan struct{}), link: l} }

// signal wakes every waiter; callers hold p.mu.
func (p *pipe) signal() {
	close(p.notify)
	p.notify = make(chan struct{})
}

// wait releases p.mu until a signal, the wake time or the deadline, and
// reports whether the deadline passed.
func (p *pipe) wait(wake, deadline time.Time) bool {
	ch := p.notify
	p.mu.Unlock()
	defer p.mu.Lock()
	until := wake
	if !deadline.IsZero() && (until.IsZero() || deadline.Before(until)) {
		until = deadline
	}
	if until.IsZero() {
		<-ch
		return false
	}
	d := time.Until(until)
	if d <= 0 {
		return !deadline.IsZero() && !time.Now().Before(deadline)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
	return !deadline.IsZero() && !time.Now().Before(deadline)
}

func (p *pipe) write(b []byte, fail func() bool) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for len(b) > 0 {
		for {
			switch {
			case p.err != nil:
				return n, p.err
			case p.eof:
				return n, net.ErrClosed
			case p.rclosed:
				return n, errReset
			}
			if p.buffered < windowMax {
				break
			}
			if p.wait(time.Time{}, p.wdl) {
				return n, os.ErrDeadlineExceeded
			}
		}
		if fail() {
			p.err = errReset
			p.signal()
			return n, p.err
		}
		k := min(len(b), segmentMax, windowMax-p.buffered)
		data := append([]byte(nil), b[:k]...)
		now := time.Now()
		start := p.nextFree
		if start.Before(now) {
			start = now
		}
		if p.link.bandwidth > 0 {
			p.nextFree = start.Add(time.Duration(int64(k) * int64(time.Second) / p.link.bandwidth))
		} else {
			p.nextFree = start
		}
		sent := p.nextFree
		if u := p.up.reserve(k); u.After(sent) {
			sent = u
		}
		p.segs = append(p.segs, segment{data: data, at: sent.Add(p.link.latency)})
		p.buffered += k
		p.signal()
		b = b[k:]
		n += k
	}
	return n, nil
}

func (p *pipe) read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		switch {
		case p.rclosed:
			return 0, net.ErrClosed
		case p.err != nil:
			return 0, p.err
		}
		var wake time.Time
		if len(p.segs) > 0 {
			s := &p.segs[0]
			if !time.Now().Before(s.at) {
				n := copy(b, s.data)
				s.data = s.data[n:]
				if len(s.data) == 0 {
					p.segs = p.segs[1:]
				}
				p.buffered -= n
				p.signal()
				return n, nil
			}
			wake = s.at
		} else if p.eof {
			return 0, io.EOF
		}
		if p.wait(wake, p.rdl) {
			return 0, os.ErrDeadlineExceeded
		}
	}
}

func (p *pipe) set(f func(p *pipe)) {
	p.mu.Lock()
	f(p)
	p.signal()
	p.mu.Unlock()
}
