package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func needBridgeProgram(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (scripts/deps.sh installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
}

// TestBridgeFetch runs 'hydre bridge fetch' against a local aria2 seeder
// given with --peer (no DHT) and checks the file, then 'bridge status'.
func TestBridgeFetch(t *testing.T) {
	needBridgeProgram(t, "aria2c")
	needBridgeProgram(t, "mktorrent")
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed")
	os.MkdirAll(seed, 0o755)
	data := make([]byte, 3<<20+5)
	rand.Read(data)
	os.WriteFile(filepath.Join(seed, "clip.bin"), data, 0o644)
	tf := filepath.Join(dir, "clip.torrent")
	if b, err := exec.Command("mktorrent", "-l", "16", "-o", tf, filepath.Join(seed, "clip.bin")).CombinedOutput(); err != nil {
		t.Fatalf("mktorrent: %v %s", err, b)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	aria := exec.Command("aria2c", "--no-conf", "--seed-ratio=0.0", "--check-integrity=true",
		"--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
		"--disable-ipv6=true", "--interface=127.0.0.1", fmt.Sprintf("--listen-port=%d", port),
		"--summary-interval=0", "--enable-rpc=false", "--dir="+seed, tf)
	aria.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := aria.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { aria.Process.Kill(); aria.Wait() })

	var out, errb bytes.Buffer
	g := &globals{DataDir: filepath.Join(dir, "home"), Stdout: &out, Stderr: &errb,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dl := filepath.Join(dir, "dl")
	err = runBridge(ctx, g, []string{"fetch", "--no-dht", "--peer", fmt.Sprintf("127.0.0.1:%d", port), "--dir", dl, tf})
	if err != nil {
		t.Fatalf("bridge fetch: %v\n%s", err, errb.String())
	}
	path := strings.TrimSpace(out.String())
	if path != filepath.Join(dl, "clip.bin") {
		t.Fatalf("printed %q", path)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("fetched file differs (%v)", err)
	}
	if err := runBridge(ctx, g, []string{"status"}); err == nil {
		t.Fatal("status succeeded with no fetch running")
	}
	if err := runBridge(ctx, g, []string{"fetch", "--fingerprint", "nope", tf}); err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Fatalf("bad fingerprint: %v", err)
	}
}
