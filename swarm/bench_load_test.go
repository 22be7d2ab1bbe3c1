package swarm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
)

// otherUsers is the traffic of other people on a private network's relays:
// bulk downloads, each on its own circuit, that run for as long as the
// benchmark does. On the real network a relay carries thousands of
// circuits, and one more circuit of ours gets about one more share of it;
// on an idle private network our circuits only share the relays among
// themselves, so a client's extra circuits find no capacity that its first
// ones did not already take.
type otherUsers struct {
	received atomic.Int64
	start    time.Time
}

// othersRampUp is how long the other users run before the first
// measurement, so that their circuits are built and busy.
const othersRampUp = 20 * time.Second

// startOtherUsers keeps n downloads running between a service and a client,
// each on its own tor joined to nw, until the test ends, and returns once
// they have run for othersRampUp; it counts what they receive from then.
// Every download reads an endless stream; one that breaks is started again
// on a new circuit.
func startOtherUsers(t *testing.T, nw *testnet.Network, n int) *otherUsers {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	server, client := torFor(t, nw), torFor(t, nw)
	l, err := server.Listen(ctx, onion.ServiceConfig{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	u := &otherUsers{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveEndless(ctx, l)
	}()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; ctx.Err() == nil; round++ {
				c, err := client.Dial(ctx, l.Address(), onion.DialOptions{Isolation: fmt.Sprintf("other-%d-%d", i, round)})
				if err != nil {
					sleepCtx(ctx, time.Second)
					continue
				}
				stop := context.AfterFunc(ctx, func() { c.Close() })
				u.drain(c)
				stop()
				c.Close()
			}
		}()
	}
	t.Cleanup(func() {
		cancel()
		l.Close()
		wg.Wait()
	})
	time.Sleep(othersRampUp)
	u.received.Store(0)
	u.start = time.Now()
	return u
}

// drain reads c to its end, counting.
func (u *otherUsers) drain(c net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		k, err := c.Read(buf)
		u.received.Add(int64(k))
		if err != nil {
			return
		}
	}
}

// count returns how many bytes the other users have received so far, and
// when; nothing for no other users (nil).
func (u *otherUsers) count() otherCount {
	if u == nil {
		return otherCount{}
	}
	return otherCount{u.received.Load(), time.Now()}
}

// otherCount is what the other users had received at a moment.
type otherCount struct {
	bytes int64
	at    time.Time
}

// since returns what the other users received per second since from.
func (u *otherUsers) since(from otherCount) float64 {
	now := u.count()
	if d := now.at.Sub(from.at).Seconds(); d > 0 {
		return float64(now.bytes-from.bytes) / d
	}
	return 0
}

// rate returns what the other users have received per second so far.
func (u *otherUsers) rate() float64 {
	return float64(u.received.Load()) / time.Since(u.start).Seconds()
}

// serveEndless writes zeros to every connection l accepts until ctx ends.
func serveEndless(ctx context.Context, l net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	buf := make([]byte, 32<<10)
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			sleepCtx(ctx, 100*time.Millisecond) // do not spin on a failing Accept
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			stop := context.AfterFunc(ctx, func() { c.Close() })
			defer stop()
			for {
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
	}
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// cpuSample is the machine's CPU time counters at one moment (/proc/stat).
type cpuSample struct {
	used, total uint64
	ok          bool
}

// busy returns the fraction of CPU time spent busy since s, and false where
// /proc/stat cannot be read.
func (s cpuSample) busy() (float64, bool) {
	now := readCPU()
	if !s.ok || !now.ok || now.total <= s.total {
		return 0, false
	}
	return float64(now.used-s.used) / float64(now.total-s.total), true
}

// readCPU reads the first line of /proc/stat: user nice system idle iowait
// irq softirq steal..., in clock ticks; idle and iowait are not busy.
func readCPU() cpuSample {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return cpuSample{}
	}
	var s cpuSample
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return cpuSample{}
		}
		s.total += n
		if i != 3 && i != 4 { // idle, iowait
			s.used += n
		}
	}
	s.ok = true
	return s
}
