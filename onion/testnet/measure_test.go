package testnet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
)

// TestMeasureBringUp brings up $HYDRE_TESTNET_MEASURE fresh networks one
// after the other and bootstraps one fresh tor on each, as "hydre testnet up"
// then "hydre --testnet DIR share" do, and prints the distribution of both
// times. It is a measurement, not a pass/fail test: it runs only when the
// variable is set, and fails only when a network or a tor does not come up
// at all, or needs a second try. With $HYDRE_TESTNET_KEEP set to a directory, the logs of every
// run are copied there.
func TestMeasureBringUp(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("HYDRE_TESTNET_MEASURE"))
	if runs <= 0 {
		t.Skip("set HYDRE_TESTNET_MEASURE=N to measure N bring-ups")
	}
	skipWithoutTor(t)
	keep := os.Getenv("HYDRE_TESTNET_KEEP")
	var ups, boots []time.Duration
	for i := range runs {
		up, boot, err := measureOnce(t, i, keep)
		if err != nil {
			t.Errorf("run %d: %v", i, err)
			continue
		}
		t.Logf("run %d: usable after %v, a fresh tor bootstrapped in %v (load average %s)", i, up.Round(10*time.Millisecond), boot.Round(10*time.Millisecond), loadAverage())
		ups, boots = append(ups, up), append(boots, boot)
	}
	t.Logf("bring-up (%d): %s", len(ups), distribution(ups))
	t.Logf("node bootstrap (%d): %s", len(boots), distribution(boots))
}

func measureOnce(t *testing.T, i int, keep string) (up, boot time.Duration, err error) {
	dir, err := os.MkdirTemp("", "hydre-measure-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	if keep != "" {
		defer exec.Command("cp", "-r", dir, filepath.Join(keep, fmt.Sprintf("run%02d", i))).Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	logf, err := os.Create(filepath.Join(dir, "start.log"))
	if err != nil {
		return 0, 0, err
	}
	defer logf.Close()
	// Every other run (every run with $HYDRE_TESTNET_LIMITED set) is a
	// limited-middles network, whose tors take an authority as their guard
	// (EntryNodes).
	limited := i%2 == 1 || os.Getenv("HYDRE_TESTNET_LIMITED") != ""
	nw, err := Start(ctx, Options{Dir: dir, LimitMiddlesOnly: limited, Logger: slog.New(slog.NewTextHandler(logf, nil))})
	if err != nil {
		return 0, 0, err
	}
	if b, _ := os.ReadFile(logf.Name()); bytes.Contains(b, []byte("retrying with new keys")) {
		t.Errorf("run %d: the bring-up needed a second try", i)
	}
	defer nw.Close()
	cfg := nw.TorConfig(filepath.Join(dir, "node"))
	cfg.BootstrapTimeout = 3 * time.Minute
	cfg.Torrc = append(cfg.Torrc, "Log notice file "+filepath.Join(dir, "node", "notice.log"))
	begin := time.Now()
	tor, err := onion.Start(ctx, cfg)
	if err != nil {
		return 0, 0, err
	}
	defer tor.Close()
	if err := tor.Bootstrap(ctx, nil); err != nil {
		return 0, 0, fmt.Errorf("node bootstrap: %w", err)
	}
	boot = time.Since(begin)
	// The node's own onion service answers it: the network agrees on the
	// onion-service time period.
	l, err := tor.Listen(ctx, onion.ServiceConfig{})
	if err != nil {
		return 0, 0, err
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	published := time.Now()
	for attempt := 1; ; attempt++ {
		err := echoOnce(ctx, tor, l.Address())
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return 0, 0, fmt.Errorf("the node's onion service: %w", err)
		}
		t.Logf("run %d: the node's onion service, attempt %d: %v", i, attempt, err)
	}
	t.Logf("run %d: the node's own onion service answered %v after it was published", i, time.Since(published).Round(time.Millisecond))
	return nw.UsableAfter(), boot, nil
}

// loadAverage returns the machine's load average over the last minute.
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// TestMeasureLatency brings up a network for each one-way latency in
// $HYDRE_TESTNET_LATENCIES (e.g. "0,10ms,35ms") and prints the round trips
// of one byte through an onion-service circuit on it.
func TestMeasureLatency(t *testing.T) {
	list := os.Getenv("HYDRE_TESTNET_LATENCIES")
	if list == "" {
		t.Skip("set HYDRE_TESTNET_LATENCIES=0,10ms,... to measure onion round trips")
	}
	skipWithoutTor(t)
	for _, v := range strings.Split(list, ",") {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(v, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			nw, err := Start(ctx, Options{Dir: t.TempDir(), Latency: d})
			if err != nil {
				t.Fatal(err)
			}
			defer nw.Close()
			logDir := ""
			if keep := os.Getenv("HYDRE_TESTNET_KEEP"); keep != "" {
				logDir = filepath.Join(keep, "latency-"+v)
				os.MkdirAll(logDir, 0o700)
			}
			rtts, dial := onionRTTs(t, nw, 20, logDir)
			t.Logf("latency %v: first dial %v, onion round trip %s (load average %s)", d, dial.Round(time.Millisecond), distribution(rtts), loadAverage())
		})
	}
}

// distribution formats the minimum, quartiles, maximum and every value.
func distribution(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	unit := 100 * time.Millisecond
	if s[len(s)-1] < 5*time.Second {
		unit = time.Millisecond
	}
	q := func(p float64) time.Duration { return s[int(p*float64(len(s)-1)+0.5)].Round(unit) }
	all := make([]time.Duration, len(d))
	for i, v := range d {
		all[i] = v.Round(unit)
	}
	return fmt.Sprintf("min %v, p25 %v, median %v, p75 %v, max %v; all %v", q(0), q(0.25), q(0.5), q(0.75), q(1), all)
}
