package crypto

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchRun is one measured run of a program over the benchmark file.
type benchRun struct {
	wall   time.Duration // elapsed time of the work (inside the child for hydre)
	cpu    time.Duration // user + system time of the child process
	maxRSS int64         // peak resident memory of the child, bytes
}

const benchFileSize = 1 << 30

// TestBenchSeal measures sealing a 1 GiB file held in the page cache against
// sha256sum and b3sum over the same file in the same run: throughput, CPU
// use, peak memory, and the speed of verifying received chunks. It runs only
// with HYDRE_BENCH=1 and writes seal.md into $HYDRE_BENCH_OUT.
func TestBenchSeal(t *testing.T) {
	if os.Getenv("HYDRE_BENCH") != "1" {
		t.Skip("whole-system benchmark: set HYDRE_BENCH=1 (make bench)")
	}
	path := filepath.Join(t.TempDir(), "bench-1GiB.bin")
	writeBenchFile(t, path)
	// Warm the page cache and check the peers exist.
	for _, tool := range []string{"sha256sum", "b3sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (scripts/deps.sh bench): %v", tool, err)
		}
	}
	if _, err := runTool(t, "cat", path); err != nil {
		t.Fatal(err)
	}

	const rounds = 5
	type row struct {
		name string
		runs []benchRun
	}
	rows := []*row{{name: "hydre seal (BLAKE3 tree + XChaCha20-Poly1305)"}, {name: "sha256sum"}, {name: "b3sum"}, {name: "b3sum --num-threads 1"}}
	peers := [][]string{{"sha256sum", path}, {"b3sum", path}, {"b3sum", "--num-threads", "1", path}}
	// OpenSSL's SHA-256 uses SHA-NI where coreutils' does not: an extra,
	// stricter peer when it is installed.
	if _, err := exec.LookPath("openssl"); err == nil {
		rows = append(rows, &row{name: "openssl dgst -sha256 (SHA-NI)"})
		peers = append(peers, []string{"openssl", "dgst", "-sha256", path})
	}
	for range rounds { // interleaved, so load from other work hits every program alike
		r, err := runSealChild(t, path)
		if err != nil {
			t.Fatal(err)
		}
		rows[0].runs = append(rows[0].runs, r)
		for i, args := range peers {
			r, err := runTool(t, args[0], args[1:]...)
			if err != nil {
				t.Fatal(err)
			}
			rows[i+1].runs = append(rows[i+1].runs, r)
		}
	}
	verify, verifyDecrypt := measureVerify(t, path)

	var md strings.Builder
	fmt.Fprintf(&md, "## Seal\n\n")
	fmt.Fprintf(&md, "Sealing a 1 GiB file in the page cache (chunk size %d KiB, %d workers) against `sha256sum` and `b3sum` of the same file, "+
		"interleaved, median of %d runs. CPU = (user+sys)/wall of the work (2.0 = both cores busy; for hydre measured around the Seal call). Peak memory = max RSS of the child process "+
		"(hydre runs in a child test process, so the figure includes the Go test binary). Machine: %s, %d CPUs, %s.\n\n",
		DefaultChunkSize>>10, runtime.GOMAXPROCS(0), rounds, cpuModel(), runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(&md, "| program | MB/s | time | CPU (cores) | peak memory | vs sha256sum |\n|---|---:|---:|---:|---:|---:|\n")
	shaMBs := mbps(median(rows[1].runs).wall)
	for _, r := range rows {
		m := median(r.runs)
		fmt.Fprintf(&md, "| %s | %.0f | %.3f s | %.2f | %.1f MiB | %.2f× |\n", r.name, mbps(m.wall), m.wall.Seconds(),
			m.cpu.Seconds()/m.wall.Seconds(), float64(m.maxRSS)/(1<<20), mbps(m.wall)/shaMBs)
	}
	fmt.Fprintf(&md, "\n`b3sum` (the Rust reference, AVX-512, memory-maps the file: its peak memory is the mapped file) only hashes; sealing hashes *and* encrypts. "+
		"The target is sealing at least as fast as `sha256sum` alone, peak memory under 64 MiB.\n")
	fmt.Fprintf(&md, "\nVerifying received 256 KiB chunks against a downloader's partial tree (one core): %.0f MB/s (hash + proof), %.0f MB/s (hash + proof + decrypt).\n",
		verify, verifyDecrypt)
	t.Log("\n" + md.String())
	if dir := os.Getenv("HYDRE_BENCH_OUT"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "seal.md"), []byte(md.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seal := median(rows[0].runs)
	if seal.maxRSS >= 64<<20 {
		t.Errorf("sealing peak memory %.1f MiB, target < 64 MiB", float64(seal.maxRSS)/(1<<20))
	}
	if mbps(seal.wall) < shaMBs {
		t.Errorf("sealing %.0f MB/s is slower than sha256sum %.0f MB/s", mbps(seal.wall), shaMBs)
	}
}

// TestBenchSealChild is the child process of TestBenchSeal: it seals the
// file named by HYDRE_BENCH_SEAL_FILE and prints the time taken.
func TestBenchSealChild(t *testing.T) {
	path := os.Getenv("HYDRE_BENCH_SEAL_FILE")
	if path == "" {
		t.Skip("child of TestBenchSeal")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	cpu0 := selfCPU(t)
	start := time.Now()
	s, err := Seal(t.Context(), f, Header{Name: fi.Name(), Size: fi.Size()})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	cpu := selfCPU(t) - cpu0
	fmt.Printf("HYDRE_SEAL_RESULT %s\n", mustJSON(map[string]any{"ns": el.Nanoseconds(), "cpu_ns": cpu.Nanoseconds(), "id": s.Descriptor.ID().String()}))
}

// selfCPU returns the user + system time of this process so far.
func selfCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func writeBenchFile(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewChaCha8([32]byte{1}))
	block := make([]byte, 1<<20)
	for range benchFileSize / len(block) {
		for i := 0; i < len(block); i += 8 {
			v := r.Uint64()
			for k := range 8 {
				block[i+k] = byte(v >> (8 * k))
			}
		}
		if _, err := w.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

func runSealChild(t *testing.T, path string) (benchRun, error) {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBenchSealChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "HYDRE_BENCH_SEAL_FILE="+path, "HYDRE_BENCH=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return benchRun{}, fmt.Errorf("seal child: %w\n%s", err, out.String())
	}
	r := usage(cmd.ProcessState)
	for _, line := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "HYDRE_SEAL_RESULT "); ok {
			var res struct {
				NS    int64 `json:"ns"`
				CPUNS int64 `json:"cpu_ns"`
			}
			if err := json.Unmarshal([]byte(rest), &res); err != nil {
				return benchRun{}, err
			}
			r.wall, r.cpu = time.Duration(res.NS), time.Duration(res.CPUNS)
			return r, nil
		}
	}
	return benchRun{}, fmt.Errorf("seal child printed no result:\n%s", out.String())
}

func runTool(t *testing.T, name string, args ...string) (benchRun, error) {
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Stdout = io.Discard
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return benchRun{}, fmt.Errorf("%s: %w", name, err)
	}
	r := usage(cmd.ProcessState)
	r.wall = time.Since(start)
	return r, nil
}

func usage(ps *os.ProcessState) benchRun {
	r := benchRun{cpu: ps.UserTime() + ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = int64(ru.Maxrss) * 1024 // Linux reports KiB
	}
	return r
}

// measureVerify returns the MB/s of verifying (and of verifying and
// decrypting) 256 ciphertext chunks of the benchmark file on one core.
func measureVerify(t *testing.T, path string) (verify, verifyDecrypt float64) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const n = 256
	s, err := sealWith(t.Context(), io.NewSectionReader(f, 0, n*DefaultChunkSize), Header{Size: n * DefaultChunkSize}, testKey(1), runtime.GOMAXPROCS(0))
	if err != nil {
		t.Fatal(err)
	}
	cts := make([][]byte, n)
	proofs := make([]Proof, n)
	for i := range n {
		if cts[i], proofs[i], err = s.ReadChunk(f, i); err != nil {
			t.Fatal(err)
		}
	}
	var bestV, bestVD time.Duration
	a := newAEAD(s.Key)
	buf := make([]byte, 0, DefaultChunkSize)
	for range 3 {
		pt := NewPartialTree(s.Descriptor)
		start := time.Now()
		for i := range n {
			if err := pt.Verify(i, cts[i], proofs[i]); err != nil {
				t.Fatal(err)
			}
		}
		el := time.Since(start)
		if bestV == 0 || el < bestV {
			bestV = el
		}
		start = time.Now()
		for i := range n {
			if err := pt.Add(i, cts[i], proofs[i]); err != nil {
				t.Fatal(err)
			}
			if _, err := openChunk(a, i, buf[:0], cts[i]); err != nil {
				t.Fatal(err)
			}
		}
		el = time.Since(start)
		if bestVD == 0 || el < bestVD {
			bestVD = el
		}
	}
	bytesTotal := float64(n * DefaultChunkSize)
	return bytesTotal / bestV.Seconds() / 1e6, bytesTotal / bestVD.Seconds() / 1e6
}

func median(runs []benchRun) benchRun {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b benchRun) int { return int(a.wall - b.wall) })
	return s[len(s)/2]
}

func mbps(d time.Duration) float64 { return benchFileSize / d.Seconds() / 1e6 }

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			model := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
			if strings.Contains(string(b), " sha_ni") {
				model += " (SHA-NI)"
			}
			return model
		}
	}
	return runtime.GOARCH
}
