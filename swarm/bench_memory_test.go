package swarm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/testnet"
)

// peakRSS returns the peak resident set (VmHWM) of pid in bytes.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// writeBigFile writes size pseudo-random bytes without holding them.
func writeBigFile(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, mib)
	for n := int64(0); n < size; n += int64(len(buf)) {
		r.Read(buf)
		if _, err := f.Write(buf[:min(int64(len(buf)), size-n)]); err != nil {
			t.Fatal(err)
		}
	}
}

// benchMemory measures the peak RSS of a seeder process (sealing then
// serving a 2 GiB file to 4 downloader processes) and of the downloaders,
// after they have transferred for a while (tor's own memory is not counted:
// it is another process).
func benchMemory(t *testing.T, md *strings.Builder) {
	nw := startNetwork(t, testnet.Options{})
	size := int64(envInt("HYDRE_BENCH_MEMORY_MIB", 2048)) * mib
	dur := time.Duration(envInt("HYDRE_BENCH_MEMORY_SECONDS", 90)) * time.Second
	dir := t.TempDir()
	path := filepath.Join(dir, "big.bin")
	writeBigFile(t, path, size)
	seed := startChildMode(t, "seed", "CHILD_TESTNET="+nw.Dir(), "CHILD_DATA="+t.TempDir(), "CHILD_FILE="+path)
	line := seed.until(t, 10*time.Minute, "link", func(l string) bool { return strings.HasPrefix(l, "link ") })
	link := strings.TrimPrefix(line, "link ")
	var gets []*child
	for range 4 {
		gets = append(gets, startChild(t, "CHILD_TESTNET="+nw.Dir(), "CHILD_DATA="+t.TempDir(), "CHILD_OUT="+t.TempDir(), "CHILD_LINK="+link))
	}
	// Follow the downloaders' progress for dur once they have started.
	var got [4]int64
	deadline := time.Now().Add(dur + 3*time.Minute)
	started := time.Time{}
	for time.Now().Before(deadline) && (started.IsZero() || time.Since(started) < dur) {
		for i, g := range gets {
			select {
			case l := <-g.lines:
				if v, _, ok := progressOf(l); ok {
					got[i] = v
					if v > 0 && started.IsZero() {
						started = time.Now()
					}
				}
			default:
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	seedRSS := peakRSS(seed.cmd.Process.Pid)
	var getRSS []string
	var maxGet int64
	for i, g := range gets {
		r := peakRSS(g.cmd.Process.Pid)
		maxGet = max(maxGet, r)
		getRSS = append(getRSS, fmt.Sprintf("%.0f MiB (%.0f MiB fetched)", float64(r)/mib, float64(got[i])/mib))
	}
	fmt.Fprintf(md, "### Peak memory (%d MiB file, 4 downloaders)\n\n", size/mib)
	fmt.Fprintf(md, "Peak resident set (VmHWM) of hydre engine processes; each process has its own tor (not counted). "+
		"The seeder seals the file (reads it once) then serves 4 downloaders for %v of transfer.\n\n", dur)
	fmt.Fprintf(md, "| process | peak RSS | target |\n|---|---|---|\n")
	fmt.Fprintf(md, "| seeder | %.0f MiB | < 150 MiB |\n", float64(seedRSS)/mib)
	fmt.Fprintf(md, "| downloaders | %s | < 150 MiB |\n\n", strings.Join(getRSS, "; "))
	if seedRSS > 150*mib || maxGet > 150*mib {
		t.Errorf("peak RSS seeder %d MiB, downloader %d MiB: over 150 MiB", seedRSS/mib, maxGet/mib)
	}
}
