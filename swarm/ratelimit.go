package swarm

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/time/rate"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// Limits are rate limits in bytes per second, for the whole node
// (Config, Engine.SetGlobalLimits) or one content (Engine.SetLimits); 0
// means no limit. Up counts the pieces sent to peers, Down the bytes read
// from them. A content is held to its own limits and to the node's.
type Limits struct {
	Up   int64 `json:"up,omitempty"`
	Down int64 `json:"down,omitempty"`
}

// MinRate is the least rate limit taken: below it a chunk would take so
// long that peers give up on their requests (docs/protocol.md, W7).
const MinRate = 16 << 10

// ErrRateTooLow is returned for a limit under MinRate (other than 0).
var ErrRateTooLow = errors.New("rate limit too low")

// Check says whether l holds limits the engine takes: each 0 or at least
// MinRate (ErrRateTooLow).
func (l Limits) Check() error {
	for _, v := range []int64{l.Up, l.Down} {
		if v < 0 || v > 0 && v < MinRate {
			return fmt.Errorf("%w: %d B/s (at least %d KiB/s, or 0 for none)", ErrRateTooLow, v, MinRate>>10)
		}
	}
	return nil
}

// rateSlice is the most sent or read at once under a limit: the bucket's
// least burst, small enough that a limit holds over a second.
const rateSlice = 16 << 10

// limiter is a token bucket of one direction (a node's or a content's),
// unlimited until set; its rate can change while transfers wait on it.
type limiter struct{ l *rate.Limiter }

func newLimiter(bps int64) *limiter {
	l := &limiter{l: rate.NewLimiter(rate.Inf, rateSlice)}
	l.set(bps)
	return l
}

// set changes the rate (0: unlimited). The burst is an eighth of a second
// of it, at least one slice.
func (l *limiter) set(bps int64) {
	if bps <= 0 {
		l.l.SetLimit(rate.Inf)
		return
	}
	l.l.SetBurst(max(rateSlice, int(bps/8)))
	l.l.SetLimit(rate.Limit(bps))
}

// rate is the limit in bytes per second, 0 for none.
func (l *limiter) rate() int64 {
	if r := l.l.Limit(); r != rate.Inf {
		return int64(r)
	}
	return 0
}

// waitAll takes n bytes (at most rateSlice) from every bucket of ls,
// waiting until each allows it or done closes; it reports false if done
// closed first.
func waitAll(n int, done <-chan struct{}, ls ...*limiter) bool {
	for {
		var wait time.Duration
		now := time.Now()
		var held []*rate.Reservation
		for _, l := range ls {
			if l == nil || l.l.Limit() == rate.Inf {
				continue
			}
			r := l.l.ReserveN(now, n)
			if !r.OK() { // the burst shrank under n meanwhile: take what fits
				continue
			}
			held = append(held, r)
			wait = max(wait, r.DelayFrom(now))
		}
		if wait <= 0 {
			return true
		}
		// Sleep at most a second at a time, so that a limit raised (or
		// lifted) meanwhile takes effect within it: the reservations are
		// handed back and taken again at the new rate.
		t := time.NewTimer(min(wait, time.Second))
		select {
		case <-done:
			t.Stop()
			for _, r := range held {
				r.CancelAt(time.Now())
			}
			return false
		case <-t.C:
		}
		if wait <= time.Second {
			return true
		}
		for _, r := range held {
			r.CancelAt(time.Now())
		}
	}
}

// upLimits are the buckets a content's uploads take from: the node's and
// its own.
func (c *content) upLimits() []*limiter { return []*limiter{c.e.up, c.up} }

// downLimits are the buckets a content's downloads take from.
func (c *content) downLimits() []*limiter { return []*limiter{c.e.down, c.down} }

// limited reports whether any of ls has a limit.
func limited(ls []*limiter) bool {
	for _, l := range ls {
		if l != nil && l.rate() > 0 {
			return true
		}
	}
	return false
}

// writeLimited writes b to conn in slices, each taken from the buckets of
// ls first, renewing the write deadline for each; it gives up with
// net.ErrClosed if done closes while it waits.
func writeLimited(conn net.Conn, b []byte, done <-chan struct{}, ls []*limiter) error {
	for len(b) > 0 {
		n := min(len(b), rateSlice)
		if !waitAll(n, done, ls...) {
			return net.ErrClosed
		}
		conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := conn.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// limitedReader reads from conn at most a slice at a time while any of ls
// has a limit, and takes what it read from their buckets before it reads
// again; the idle deadline is renewed after a wait, which is this node's
// and not the peer's.
type limitedReader struct {
	r    io.Reader
	conn net.Conn
	done <-chan struct{}
	ls   []*limiter
}

func (l limitedReader) Read(b []byte) (int, error) {
	if !limited(l.ls) {
		return l.r.Read(b)
	}
	if len(b) > rateSlice {
		b = b[:rateSlice]
	}
	n, err := l.r.Read(b)
	if n > 0 {
		start := time.Now()
		if !waitAll(n, l.done, l.ls...) {
			return n, net.ErrClosed
		}
		if time.Since(start) > time.Second {
			l.conn.SetReadDeadline(time.Now().Add(idleTimeout))
		}
	}
	return n, err
}

// SetGlobalLimits changes the node's rate limits at once, for every
// transfer under way; the front end keeps them (the engine starts with
// Config.Limits).
func (e *Engine) SetGlobalLimits(l Limits) error {
	if err := l.Check(); err != nil {
		return fmt.Errorf("set limits: %w", err)
	}
	e.up.set(l.Up)
	e.down.set(l.Down)
	return nil
}

// GlobalLimits returns the node's rate limits.
func (e *Engine) GlobalLimits() Limits { return Limits{Up: e.up.rate(), Down: e.down.rate()} }

// SetLimits changes a content's own rate limits at once and keeps them
// across restarts; the node's limits hold beside them.
func (e *Engine) SetLimits(id hcrypto.ContentID, l Limits) error {
	if err := l.Check(); err != nil {
		return fmt.Errorf("set limits: %w", err)
	}
	c, err := e.get(id)
	if err != nil {
		return err
	}
	if err := c.update(func(r *record) { r.Limits = l }); err != nil {
		return err
	}
	c.up.set(l.Up)
	c.down.set(l.Down)
	e.bus.publish(c.status(), true)
	return nil
}

// SetLimitsOffline sets a content's own rate limits in dataDir without
// starting an engine, as SetLimits does on a running one. Errors as
// SetPausedOffline.
func SetLimitsOffline(dataDir string, id hcrypto.ContentID, l Limits) (Status, error) {
	if err := l.Check(); err != nil {
		return Status{}, fmt.Errorf("set limits: %w", err)
	}
	var st Status
	err := editOffline(dataDir, id, func(d *db, r *record) error {
		r.Limits = l
		if err := d.putRecord(id, r); err != nil {
			return err
		}
		st = d.offlineStatus(id, r)
		return nil
	})
	return st, err
}
