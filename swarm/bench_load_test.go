package swarm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
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
	breaks   atomic.Int64 // downloads that ended while the test ran
	start    time.Time
	// steady is what they received per second at the end of the ramp-up.
	steady float64
}

// rampPolicy says when the other users' rate is steady: after at least min,
// two consecutive windows whose rates differ by at most steady of the
// larger; after max the bench goes on and says so.
type rampPolicy struct {
	min, window, max time.Duration
	steady           float64
}

// othersRamp is the benches' ramp-up. On the 48-relay network, all on one
// pair of tors, the other users received 3.4-5.0 MiB/s for the first 3
// minutes and then 7.2-8.2 (2026-12-01), so the fixed 20 s ramp-up of
// before measured the first runs on a less busy network than the later ones.
func othersRamp() rampPolicy {
	return rampPolicy{min: 3 * time.Minute, window: 30 * time.Second, max: 10 * time.Minute, steady: 0.10}
}

// A run during which the other users received less than othersFloor of
// their steady rate is measured again, at most othersRetries times.
const (
	othersFloor   = 0.6
	othersRetries = 2
)

// startOtherUsers keeps n downloads running, each on its own circuit, until
// the test ends, and returns once their rate is steady (rampUp); it counts
// what they receive from then. They are spread over tors: each of pairs
// services on its own tor serves n/pairs downloads from a client on its own
// tor, as the real network's other users come from many tors. Every
// download reads an endless stream; one that breaks is started again on a
// new circuit.
func startOtherUsers(t *testing.T, nw *testnet.Network, n, pairs int, ramp rampPolicy) *otherUsers {
	t.Helper()
	pairs = max(1, min(pairs, n))
	type pair struct {
		client *onion.Tor
		l      onion.Listener
	}
	ps := make([]pair, pairs)
	for p := range ps {
		server := torFor(t, nw)
		ps[p].client = torFor(t, nw)
		l, err := server.Listen(context.Background(), onion.ServiceConfig{})
		if err != nil {
			t.Fatal(err)
		}
		ps[p].l = l
	}
	// Registered after the tors, so that it runs before they stop: a
	// download that their stopping breaks is not counted as broken.
	ctx, cancel := context.WithCancel(context.Background())
	u := &otherUsers{}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		for _, p := range ps {
			p.l.Close()
		}
		wg.Wait()
	})
	for p, pr := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveEndless(ctx, pr.l)
		}()
		for i := p; i < n; i += pairs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u.download(ctx, t, pr.client, pr.l.Address(), i)
			}()
		}
	}
	u.rampUp(t, ramp)
	return u
}

// download keeps the i-th other user's download running until ctx ends,
// dialing again on a new circuit when it breaks.
func (u *otherUsers) download(ctx context.Context, t *testing.T, client *onion.Tor, addr string, i int) {
	for round := 0; ctx.Err() == nil; round++ {
		c, err := client.Dial(ctx, addr, onion.DialOptions{Isolation: fmt.Sprintf("other-%d-%d", i, round)})
		if err != nil {
			sleepCtx(ctx, time.Second)
			continue
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		err = u.drain(c)
		stop()
		c.Close()
		if ctx.Err() == nil {
			u.breaks.Add(1)
			t.Logf("other user %d: download broke after round %d: %v", i, round, err)
		}
	}
}

// rampUp waits until the other users' rate is steady by p, records it, and
// counts what they receive from then.
func (u *otherUsers) rampUp(t *testing.T, p rampPolicy) {
	t.Helper()
	began := time.Now()
	time.Sleep(max(0, p.min-p.window))
	prev := -1.0
	for {
		from := u.count()
		time.Sleep(p.window)
		r := u.since(from)
		t.Logf("other users, %v after they started: %.2f MiB/s over %v, %d broken downloads so far",
			time.Since(began).Round(time.Second), r/mib, p.window, u.breaks.Load())
		if prev >= 0 && math.Abs(r-prev) <= p.steady*max(r, prev) {
			u.steady = (r + prev) / 2
			break
		}
		if time.Since(began) >= p.max {
			t.Logf("other users: not steady after %v; measuring anyway", p.max)
			u.steady = r
			break
		}
		prev = r
	}
	u.received.Store(0)
	u.start = time.Now()
}

// drain reads c to its end, counting, and returns the error that ended it.
func (u *otherUsers) drain(c net.Conn) error {
	buf := make([]byte, 32<<10)
	for {
		k, err := c.Read(buf)
		u.received.Add(int64(k))
		if err != nil {
			return err
		}
	}
}

// count returns how many bytes the other users have received so far, and
// when; nothing for no other users (nil).
func (u *otherUsers) count() otherCount {
	if u == nil {
		return otherCount{}
	}
	return otherCount{u.received.Load(), u.breaks.Load(), time.Now()}
}

// otherCount is what the other users had received at a moment, and how many
// of their downloads had broken.
type otherCount struct {
	bytes, breaks int64
	at            time.Time
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

// torTicks is the CPU time of each tor process on the machine at one
// moment (user and system, in clock ticks), by pid.
type torTicks map[int]torProc

// torProc is one tor process: its name (its data directory's, e.g.
// "auth2", "relay15" or a client's "016") and its CPU time.
type torProc struct {
	name  string
	ticks uint64
}

// readTorTicks reads /proc for every process named tor; empty where /proc
// cannot be read.
func readTorTicks() torTicks {
	out := torTicks{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		open, shut := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || shut < open || s[open+1:shut] != "tor" {
			continue
		}
		// After the name: state (field 3) ... utime (14), stime (15).
		f := strings.Fields(s[shut+1:])
		if len(f) < 13 {
			continue
		}
		ut, err1 := strconv.ParseUint(f[11], 10, 64)
		st, err2 := strconv.ParseUint(f[12], 10, 64)
		pid, err3 := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		out[pid] = torProc{name: torName(filepath.Dir(p)), ticks: ut + st}
	}
	return out
}

// torName names a tor process by the directory of the torrc it was
// started with (tor -f DIR/torrc); "?" when its command line says none.
func torName(procDir string) string {
	b, err := os.ReadFile(filepath.Join(procDir, "cmdline"))
	if err != nil {
		return "?"
	}
	args := strings.Split(string(b), "\x00")
	for i, a := range args[:max(len(args)-1, 0)] {
		if a == "-f" && args[i+1] != "" {
			return filepath.Base(filepath.Dir(args[i+1]))
		}
	}
	return "?"
}

// torShares returns, for each tor that ran both at before and now, the
// share of one core it used in between, as the machine's counters since
// cpu0 (read with before) measure time; false where they cannot be read.
func torShares(before torTicks, cpu0 cpuSample) (map[string]float64, bool) {
	after, cpu1 := readTorTicks(), readCPU()
	if !cpu0.ok || !cpu1.ok || cpu1.total <= cpu0.total || len(before) == 0 {
		return nil, false
	}
	perCore := float64(cpu1.total-cpu0.total) / float64(runtime.NumCPU())
	out := map[string]float64{}
	for pid, b := range before {
		if a, ok := after[pid]; ok && a.name == b.name && a.ticks >= b.ticks {
			out[b.name] += float64(a.ticks-b.ticks) / perCore
		}
	}
	return out, true
}

// processor names the machine's processor from /proc/cpuinfo, with its
// number of CPUs; "" where it cannot be read.
func processor() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return fmt.Sprintf("%d CPUs of %s", runtime.NumCPU(), strings.TrimSpace(v))
		}
	}
	return ""
}

// describeTorShares says which tor was the busiest and what each guard (the
// authorities, "auth*") took: a guard far above the others means that the
// tors crowded onto it, and that its CPU, not the limited relays, set the
// rates.
func describeTorShares(shares map[string]float64) string {
	if len(shares) == 0 {
		return ""
	}
	names := slices.Sorted(maps.Keys(shares))
	busiest := slices.MaxFunc(names, func(a, b string) int { return cmp.Compare(shares[a], shares[b]) })
	var guards []string
	for _, n := range names {
		if strings.HasPrefix(n, "auth") {
			guards = append(guards, fmt.Sprintf("%s %.0f%%", n, 100*shares[n]))
		}
	}
	s := fmt.Sprintf("The busiest tor was %s, at %.0f%% of a core", busiest, 100*shares[busiest])
	if len(guards) > 0 {
		s += "; the guards took " + strings.Join(guards, ", ")
	}
	return s + "."
}

func TestDescribeTorShares(t *testing.T) {
	tests := []struct {
		name   string
		shares map[string]float64
		want   string
	}{
		{"none", nil, ""},
		{"crowded guard", map[string]float64{"auth0": 0.01, "auth1": 0.02, "auth2": 0.67, "relay3": 0.03, "016": 0.05},
			"The busiest tor was auth2, at 67% of a core; the guards took auth0 1%, auth1 2%, auth2 67%."},
		{"no authority", map[string]float64{"relay0": 0.10, "016": 0.20},
			"The busiest tor was 016, at 20% of a core."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeTorShares(tt.shares); got != tt.want {
				t.Errorf("describeTorShares = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTorName(t *testing.T) {
	tests := []struct {
		name    string
		cmdline string
		want    string
	}{
		{"relay", "/usr/sbin/tor\x00-f\x00/tmp/net/nodes/relay15/torrc\x00--hush\x00", "relay15"},
		{"client", "/usr/sbin/tor\x00-f\x00/tmp/b/016/torrc\x00", "016"},
		{"no torrc", "/usr/sbin/tor\x00--version\x00", "?"},
		{"-f last", "/usr/sbin/tor\x00-f\x00", "?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "cmdline"), []byte(tt.cmdline), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := torName(dir); got != tt.want {
				t.Errorf("torName = %q, want %q", got, tt.want)
			}
		})
	}
	if got := torName(filepath.Join(t.TempDir(), "gone")); got != "?" {
		t.Errorf("torName of a process gone = %q, want ?", got)
	}
}
