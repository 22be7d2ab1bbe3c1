package bridge

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/hydre-p2p/hydre/bridge/internal/btlab"
)

// TestBenchBridgeTransmission times one torrent leeched from a
// Transmission 3.00 seeder alone and from an aria2 seeder alone, by the
// discreet client and, as a control, by aria2c: if aria2c is as slow from
// Transmission, the gap is the seeder's, not ours. Runs interleave
// (hydre from aria2, hydre from Transmission, aria2c from aria2, aria2c
// from Transmission, ...), so no two leeches from Transmission follow
// each other: Transmission turns away a connection from an address whose
// last one it has not yet closed. Each aria2c leech comes from an address
// of its own (127.0.0.10 and up): aria2c tells the seeder when it has
// everything, and Transmission then refuses every later connection from
// that address (two seeds have nothing to trade); hydre never says what
// it has, so its runs can share 127.0.0.1. Run by `make bench` (HYDRE_BENCH=1);
// HYDRE_BENCH_TR_RUNS (default 5, from 5 to 100) and HYDRE_BENCH_TR_MIB
// (default 64) change the run. Goal: hydre from Transmission within 1.5x
// its time from aria2.
func TestBenchBridgeTransmission(t *testing.T) {
	if os.Getenv("HYDRE_BENCH") != "1" {
		t.Skip("benchmark: set HYDRE_BENCH=1 (make bench)")
	}
	runs := envInt(t, "HYDRE_BENCH_TR_RUNS", 5)
	if runs < 5 || runs > 100 {
		t.Fatalf("HYDRE_BENCH_TR_RUNS=%d: want 5 to 100 runs (each aria2c run takes a loopback address)", runs)
	}
	size := int64(envInt(t, "HYDRE_BENCH_TR_MIB", 64)) << 20
	needProgram(t, "aria2c")
	dir := t.TempDir()
	payload := btlab.NewPayload(t, dir, "tr.bin", size, 11, "", 20)
	trPort, _ := payload.SeedWithTransmission(t)
	ariaPort, _ := payload.SeedWithAria2(t)
	tf := payload.Torrent

	type cell struct{ total, first []time.Duration }
	var hydreAria, hydreTr, ariaAria, ariaTr cell
	add := func(c *cell, total, first time.Duration) {
		c.total, c.first = append(c.total, total), append(c.first, first)
	}
	loadBefore := loadAverage()
	for i := range runs {
		d, f := benchDiscreetFirst(t, tf, fmt.Sprintf("127.0.0.1:%d", ariaPort))
		add(&hydreAria, d, f)
		d, f = benchDiscreetFirst(t, tf, fmt.Sprintf("127.0.0.1:%d", trPort))
		add(&hydreTr, d, f)
		d, f = benchAria2Leech(t, tf, "tr.bin", fmt.Sprintf("127.0.0.%d", 10+2*i), ariaPort)
		add(&ariaAria, d, f)
		d, f = benchAria2Leech(t, tf, "tr.bin", fmt.Sprintf("127.0.0.%d", 11+2*i), trPort)
		add(&ariaTr, d, f)
		t.Logf("run %d: hydre from aria2 %v, from Transmission %v; aria2c from aria2 %v, from Transmission %v",
			i, hydreAria.total[i], hydreTr.total[i], ariaAria.total[i], ariaTr.total[i])
	}
	loadAfter := loadAverage()

	trVersion, _ := exec.Command("transmission-daemon", "--version").CombinedOutput()
	trName := strings.TrimSpace(strings.SplitN(string(trVersion), "\n", 2)[0])
	ariaName := "aria2 " + aria2Version()
	ratio := func(a, b []time.Duration) float64 { return float64(median(a)) / float64(median(b)) }
	var b strings.Builder
	fmt.Fprintf(&b, "## Bridge: from a Transmission seeder\n\n")
	fmt.Fprintf(&b, "A %d MiB torrent (1 MiB pieces) leeched from one seeder alone on 127.0.0.1, %s or %s, by the discreet client (stall watchdog at its default) and, as a control, by aria2c (%s, told of the seeder by a one-peer tracker on 127.0.0.1); %d runs of each, interleaved. ",
		size>>20, trName, ariaName, aria2Version(), runs)
	fmt.Fprintf(&b, "Times from the start of the leech (for aria2c, of its process) to the end; first data: until the first piece data arrived (hydre) or the file appeared (aria2c).\n\n")
	fmt.Fprintf(&b, "| leecher | seeder | median time | median MiB/s | median first data | median after it | runs, in order |\n|---|---|---|---|---|---|---|\n")
	row := func(leecher, seeder string, c cell) {
		var after []time.Duration
		for i := range c.total {
			after = append(after, c.total[i]-c.first[i])
		}
		m := median(c.total)
		fmt.Fprintf(&b, "| %s | %s | %v | %.1f | %v | %v | %v |\n", leecher, seeder, m.Round(time.Millisecond),
			float64(size)/m.Seconds()/(1<<20), median(c.first).Round(time.Millisecond), median(after).Round(time.Millisecond), roundAll(c.total))
	}
	row("hydre bridge", ariaName, hydreAria)
	row("hydre bridge", trName, hydreTr)
	row("aria2c", ariaName, ariaAria)
	row("aria2c", trName, ariaTr)
	fmt.Fprintf(&b, "\nhydre, Transmission/aria2, ratio of the medians: **%.2f** (goal <= 1.5). The control, aria2c, Transmission/aria2: %.2f. From Transmission, hydre/aria2c: %.2f.\n",
		ratio(hydreTr.total, hydreAria.total), ratio(ariaTr.total, ariaAria.total), ratio(hydreTr.total, ariaTr.total))
	fmt.Fprintf(&b, "\nhydre's first data from Transmission, in order: %v (Transmission unchokes a new peer at its rechoke, every 10 s). After it, Transmission sends only at its bandwidth pulse, every 500 ms, one request window per pulse: see docs/bridge.md, \"Finishes downloads\".\n", roundAll(hydreTr.first))
	fmt.Fprintf(&b, "\nMachine: %d CPUs, 1-minute load average %s before the runs and %s after.\n", runtime.NumCPU(), loadBefore, loadAfter)
	t.Log("\n" + b.String())
	if out := os.Getenv("HYDRE_BENCH_OUT"); out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "bridge-transmission.md"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// benchAria2Leech times aria2c, on the loopback address local, leeching
// tf (whose one file is name) from the seeder on 127.0.0.1:seederPort
// alone, from the start of its process
// to its exit, and until the file appeared. aria2c takes no peer on its
// command line: a one-peer HTTP tracker on 127.0.0.1 names the seeder,
// in a copy of tf (the same info-hash).
func benchAria2Leech(t *testing.T, tf, name, local string, seederPort int) (total, first time.Duration) {
	t.Helper()
	dir := t.TempDir()
	mi, err := metainfo.LoadFromFile(tf)
	if err != nil {
		t.Fatal(err)
	}
	mi.Announce = startOnePeerTracker(t, seederPort)
	mi.AnnounceList = nil
	atf := filepath.Join(dir, "tracked.torrent")
	f, err := os.Create(atf)
	if err != nil {
		t.Fatal(err)
	}
	if err := mi.Write(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	dl := filepath.Join(dir, "dl")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aria2c", "--no-conf", "--enable-dht=false", "--enable-dht6=false",
		"--bt-enable-lpd=false", "--enable-peer-exchange=false", "--disable-ipv6=true", "--interface="+local,
		"--listen-port="+fmt.Sprint(freePort(t)), "--summary-interval=0", "--file-allocation=none",
		"--enable-rpc=false", "--seed-time=0", "--console-log-level=warn", "--dir="+dl, atf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	out, err := os.Create(filepath.Join(dir, "aria2c.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				log, _ := os.ReadFile(out.Name())
				t.Fatalf("aria2c leech: %v\n%s", err, log)
			}
			total = time.Since(start)
			if first == 0 {
				first = total
			}
			return total, first
		case <-tick.C:
			if first == 0 {
				if fi, err := os.Stat(filepath.Join(dl, name)); err == nil && fi.Size() > 0 {
					first = time.Since(start)
				}
			}
		}
	}
}

// startOnePeerTracker serves, on 127.0.0.1 until the test ends, an HTTP
// tracker whose every announce answer is the one peer 127.0.0.1:port,
// and returns its announce URL.
func startOnePeerTracker(t *testing.T, port int) string {
	t.Helper()
	answer, err := bencode.Marshal(map[string]any{
		"interval": 60,
		"peers":    string([]byte{127, 0, 0, 1, byte(port >> 8), byte(port)}),
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write(answer)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String() + "/announce"
}
