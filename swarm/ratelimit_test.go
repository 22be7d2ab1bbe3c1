package swarm

import (
	"errors"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/memnet"
)

// achieved follows a download of id on nd from the moment from bytes are
// verified to the end, and returns its rate in bytes per second over that
// span (the buckets' first burst is left out).
func achieved(t *testing.T, nd *node, st Status, from int64) float64 {
	t.Helper()
	start := nd.waitFor(st.ID, 60*time.Second, "first bytes", func(s Status) bool { return s.Verified >= from })
	t0 := time.Now()
	done := nd.waitDone(st.ID, 120*time.Second)
	return float64(done.Size-start.Verified) / time.Since(t0).Seconds()
}

func TestRateLimitsHold(t *testing.T) {
	const limit = 512 << 10
	tests := []struct {
		name       string
		seeder     func(*Config)
		downloader func(*Config)
		content    func(*node, Status) // sets a content's own limit
	}{
		{name: "node upload", seeder: func(c *Config) { c.Limits.Up = limit }},
		{name: "node download", downloader: func(c *Config) { c.Limits.Down = limit }},
		{name: "content upload", content: func(seeder *node, st Status) {
			if err := seeder.e.SetLimits(st.ID, Limits{Up: limit}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := memnet.New(memnet.WithLatency(2 * time.Millisecond))
			seeder := newNode(t, n, "seeder", tt.seeder)
			path, data := writeFile(t, t.TempDir(), "data.bin", 2<<20)
			st := seeder.share(path, 16<<10)
			if tt.content != nil {
				tt.content(seeder, st)
			}
			b := newNode(t, n, "b", tt.downloader)
			b.get(st.Link)
			rate := achieved(t, b, st, 256<<10)
			t.Logf("%.0f KiB/s under a limit of %d KiB/s", rate/1024, limit>>10)
			if rate > 1.5*limit {
				t.Errorf("%.0f KiB/s: more than 1.5 times the limit of %d KiB/s", rate/1024, limit>>10)
			}
			done, _ := b.e.Status(st.ID)
			checkFile(t, done.Path, data)
		})
	}
}

// TestRateLimitLive changes a content's limit while it uploads: set, it
// holds at once; lifted, the rest comes faster than the limit allows.
func TestRateLimitLive(t *testing.T) {
	const limit = 128 << 10
	n := memnet.New(memnet.WithLatency(2 * time.Millisecond))
	seeder := newNode(t, n, "seeder", nil)
	path, data := writeFile(t, t.TempDir(), "data.bin", 4<<20)
	st := seeder.share(path, 16<<10)
	b := newNode(t, n, "b", func(c *Config) { c.Limits.Down = 1 << 20 })
	b.get(st.Link)
	b.waitFor(st.ID, 30*time.Second, "256 KiB", func(s Status) bool { return s.Verified >= 256<<10 })
	if err := seeder.e.SetLimits(st.ID, Limits{Up: limit}); err != nil {
		t.Fatal(err)
	}
	if got, _ := seeder.e.Status(st.ID); got.Limits.Up != limit {
		t.Fatalf("status says limits %+v", got.Limits)
	}
	// What was sent before the change drains first (the transport's
	// buffers); measure from a second later, over two seconds.
	settled := time.Now().Add(time.Second)
	s0 := b.waitFor(st.ID, 10*time.Second, "a second", func(Status) bool { return time.Now().After(settled) })
	t0 := time.Now()
	s1 := b.waitFor(st.ID, 10*time.Second, "two seconds", func(Status) bool { return time.Since(t0) >= 2*time.Second })
	rate := float64(s1.Verified-s0.Verified) / time.Since(t0).Seconds()
	t.Logf("%.0f KiB/s after the limit of %d KiB/s was set", rate/1024, limit>>10)
	if rate > 1.5*limit {
		t.Errorf("%.0f KiB/s after the limit was set: more than 1.5 times %d KiB/s", rate/1024, limit>>10)
	}
	if s1.Done() {
		t.Fatal("done before the limit was lifted: the limit did not hold")
	}
	if err := seeder.e.SetLimits(st.ID, Limits{}); err != nil {
		t.Fatal(err)
	}
	t2 := time.Now()
	left := s1.Size - s1.Verified
	done := b.waitDone(st.ID, 120*time.Second)
	took := time.Since(t2)
	t.Logf("the last %d KiB in %v once lifted", left>>10, took.Round(time.Millisecond))
	if limited := time.Duration(float64(left) / limit * float64(time.Second)); took >= limited {
		t.Errorf("the last %d KiB took %v once the limit was lifted, as long as under it (%v)", left>>10, took, limited)
	}
	checkFile(t, done.Path, data)
}

func TestRateLimitsKeptAndChecked(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	path, _ := writeFile(t, t.TempDir(), "f", 1<<10)
	st := a.share(path, 0)
	for _, bad := range []Limits{{Up: 1}, {Down: MinRate - 1}, {Up: -5}} {
		if err := a.e.SetLimits(st.ID, bad); !errors.Is(err, ErrRateTooLow) {
			t.Errorf("SetLimits(%+v) = %v, want ErrRateTooLow", bad, err)
		}
		if err := a.e.SetGlobalLimits(bad); !errors.Is(err, ErrRateTooLow) {
			t.Errorf("SetGlobalLimits(%+v) = %v, want ErrRateTooLow", bad, err)
		}
	}
	want := Limits{Up: 1 << 20, Down: 300 << 10}
	if err := a.e.SetLimits(st.ID, want); err != nil {
		t.Fatal(err)
	}
	if err := a.e.SetGlobalLimits(Limits{Up: MinRate}); err != nil {
		t.Fatal(err)
	}
	if got := a.e.GlobalLimits(); got != (Limits{Up: MinRate}) {
		t.Errorf("GlobalLimits = %+v", got)
	}
	a.close()
	off, err := SetLimitsOffline(a.dir, st.ID, Limits{Up: 2 << 20})
	if err != nil || off.Limits != (Limits{Up: 2 << 20}) {
		t.Fatalf("SetLimitsOffline = %+v, %v", off.Limits, err)
	}
	a.open()
	got, _ := a.e.Status(st.ID)
	if got.Limits != (Limits{Up: 2 << 20}) {
		t.Errorf("after a restart the limits are %+v", got.Limits)
	}
	c, _ := a.e.get(st.ID)
	if c.up.rate() != 2<<20 || c.down.rate() != 0 {
		t.Errorf("the restarted content's buckets: up %d down %d", c.up.rate(), c.down.rate())
	}
}
