package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestTestnetUpTorStatusDown drives the README's commands: a detached
// network that outlives "up", used by another command through --testnet,
// then stopped by "down" with nothing left running.
func TestTestnetUpTorStatusDown(t *testing.T) {
	testkit.SkipWithoutTor(t)
	dir := filepath.Join(t.TempDir(), "net")
	home := t.TempDir()
	hydre := func(args ...string) (string, int) {
		var out, errb bytes.Buffer
		code := run(args, &out, &errb)
		return out.String() + errb.String(), code
	}
	t.Cleanup(func() { testnet.Stop(dir) })

	out, code := hydre("testnet", "up", dir)
	if code != 0 {
		t.Fatalf("testnet up: exit %d: %s", code, out)
	}
	if !strings.Contains(out, "usable after") {
		t.Fatalf("testnet up printed %q", out)
	}
	if out, code := hydre("testnet", "status", dir); code != 0 || !strings.Contains(out, "is running") {
		t.Fatalf("testnet status: exit %d: %s", code, out)
	}
	out, code = hydre("--data-dir", home, "--testnet", dir, "tor", "status")
	if code != 0 || !strings.Contains(out, "bootstrapped") || !strings.Contains(out, "bootstrap 100% done") {
		t.Fatalf("tor status on the testnet: exit %d: %s", code, out)
	}
	out, code = hydre("--json", "--data-dir", home, "--testnet", dir, "tor", "status")
	if code != 0 || !strings.Contains(out, `{"event":"bootstrapped"`) || !strings.Contains(out, `"percent":100`) {
		t.Fatalf("tor status --json: exit %d: %s", code, out)
	}
	if out, code := hydre("testnet", "down", dir); code != 0 {
		t.Fatalf("testnet down: exit %d: %s", code, out)
	}
	if b, _ := exec.Command("pgrep", "-f", dir).Output(); len(bytes.TrimSpace(b)) > 0 {
		t.Fatalf("tor processes left after down: %s", b)
	}
	if out, code := hydre("testnet", "status", dir); code == 0 {
		t.Fatalf("testnet status after down succeeded: %s", out)
	}
}

// TestMain lets the test binary stand in for hydre where a command starts
// hydre itself ("testnet up --latency" starts "hydre testnet delays DIR").
func TestMain(m *testing.M) {
	if os.Getenv("HYDRE_TEST_AS_HYDRE") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	testkit.Main(m)
}

// TestTestnetUpLatency: with --latency, the delay proxies outlive "up" in
// a process of their own, a tor bootstraps through them, and "down" ends
// them with the tors.
func TestTestnetUpLatency(t *testing.T) {
	testkit.SkipWithoutTor(t)
	t.Setenv("HYDRE_TEST_AS_HYDRE", "1") // for the delays process only
	dir := filepath.Join(t.TempDir(), "net")
	home := t.TempDir()
	hydre := func(args ...string) (string, int) {
		var out, errb bytes.Buffer
		code := run(args, &out, &errb)
		return out.String() + errb.String(), code
	}
	t.Cleanup(func() { testnet.Stop(dir) })
	if out, code := hydre("testnet", "up", "--latency", "20ms", "--jitter", "5ms", dir); code != 0 {
		t.Fatalf("testnet up --latency: exit %d: %s", code, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "delays.pid"))
	if err != nil {
		t.Fatalf("no delay process: %v", err)
	}
	if out, code := hydre("--data-dir", home, "--testnet", dir, "tor", "status"); code != 0 || !strings.Contains(out, "bootstrap 100% done") {
		t.Fatalf("tor status through the delays: exit %d: %s", code, out)
	}
	if out, code := hydre("testnet", "down", dir); code != 0 {
		t.Fatalf("testnet down: exit %d: %s", code, out)
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || syscall.Kill(pid, 0) == nil {
		t.Fatalf("delay process %s still running after down (%v)", b, err)
	}
	if b, _ := exec.Command("pgrep", "-f", dir).Output(); len(bytes.TrimSpace(b)) > 0 {
		t.Fatalf("processes left after down: %s", b)
	}
}

func TestTestnetUsage(t *testing.T) {
	for _, args := range [][]string{{"testnet"}, {"testnet", "up"}, {"testnet", "sideways", "x"}, {"testnet", "up", "--bandwidth", "fast", "d"},
		{"testnet", "up", "--vanguards", "4", "d"}, {"testnet", "up", "--limit-middles-only", "--vanguards", "-1", "d"},
		{"testnet", "up", "--latency", "10ms", "--jitter", "20ms", "d"}, {"testnet", "up", "--latency", "-1s", "d"}, {"testnet", "delays"}, {"tor"}, {"tor", "status", "extra"}} {
		var out bytes.Buffer
		if code := run(args, &out, &out); code != 2 {
			t.Errorf("hydre %s: exit %d, want 2: %s", strings.Join(args, " "), code, out.String())
		}
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1048576", 1 << 20, true}, {"1MiB", 1 << 20, true}, {"1MB", 1e6, true},
		{"500 KB", 500e3, true}, {"1.5MiB", 3 << 19, true}, {"fast", 0, false}, {"-1", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseRate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseRate(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
