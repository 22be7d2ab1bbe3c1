package testnet

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

func TestStartOpenClose(t *testing.T) {
	SkipWithoutTor(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	nw, err := Start(ctx, Options{Dir: dir, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close() })
	t.Logf("usable after %v", nw.UsableAfter())

	if _, err := Start(ctx, Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second Start in the same dir: %v, want 'already running'", err)
	}
	other, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	cfg := other.TorConfig(t.TempDir())
	var auths int
	for _, l := range cfg.Torrc {
		if strings.HasPrefix(l, "DirAuthority ") {
			auths++
			if !strings.Contains(l, " 127.0.0.1:") {
				t.Errorf("DirAuthority not on loopback: %s", l)
			}
		}
	}
	if auths != 3 {
		t.Fatalf("TorConfig has %d DirAuthority lines, want 3", auths)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatalf("Close of an opened handle stopped the network: %v", err)
	}
	pids := livePIDs(t, nw)
	if len(pids) != 3+DefaultRelays {
		t.Fatalf("%d live nodes, want %d", len(pids), 3+DefaultRelays)
	}
	if err := nw.Close(); err != nil {
		t.Fatal(err)
	}
	if left := livePIDs(t, nw); len(left) > 0 {
		t.Fatalf("nodes still running after Close: %v", left)
	}
	if _, err := Open(dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Open after Close: %v, want ErrNotRunning", err)
	}
}

func livePIDs(t *testing.T, nw *Network) []int {
	t.Helper()
	var out []int
	for _, n := range nw.st.Nodes {
		if pid, alive := nodePID(nw.dir, n); alive && !isZombie(pid) {
			out = append(out, pid)
		}
	}
	return out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	CloseShared()
	os.Exit(code)
}
