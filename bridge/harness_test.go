package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/bridge/internal/btlab"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// This file holds the lab: independent BitTorrent software started on
// 127.0.0.1 with explicit configurations that reach nothing else.

// The lab's helpers live in package btlab, shared with bridge/node's
// tests; these are their names in this package's tests.
type (
	proc         = btlab.Proc
	transmission = btlab.Transmission
)

var (
	needProgram       = btlab.NeedProgram
	freePort          = btlab.FreePort
	writePayload      = btlab.WritePayload
	fileSHA           = btlab.FileSHA
	makeTorrent       = btlab.MakeTorrent
	startProc         = btlab.StartProc
	startAria2Seeder  = btlab.StartAria2Seeder
	startTransmission = btlab.StartTransmission
	envInt            = btlab.EnvInt
	median            = btlab.Median
	roundAll          = btlab.RoundAll
)

// testLogger is testkit.Logger, under the name this package's tests call.
func testLogger(t testing.TB) *slog.Logger { return testkit.Logger(t) }

// npmDir installs the npm packages the lab needs once per machine.
func npmDir(t testing.TB) string {
	t.Helper()
	needProgram(t, "node")
	needProgram(t, "npm")
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "hydre-test", "npm")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "bittorrent-dht", "package.json")); err == nil {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "bittorrent-tracker", "server.js")); err == nil {
			return dir
		}
	}
	// --ignore-scripts: the tracker's optional WebRTC module would try to
	// download a prebuilt binary; the lab uses only its HTTP/UDP server.
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--omit=optional",
		"--prefix", dir, "bittorrent-tracker@11.2.3", "bittorrent-dht@11.0.12")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install: %v\n%s", err, b)
	}
	return dir
}

// startNode runs a testdata script with node, NODE_PATH set to the lab's
// npm packages, and returns it once it printed its JSON ready line.
func startNode(t testing.TB, script string, ready any, args ...string) *proc {
	t.Helper()
	dir := npmDir(t)
	abs, err := filepath.Abs(filepath.Join("testdata", script))
	if err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "node", append([]string{abs, filepath.Join(dir, "node_modules")}, args...)...)
	line := p.Out.Wait(t, 30*time.Second, func(l string) bool { return strings.HasPrefix(l, "READY ") })
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "READY ")), ready); err != nil {
		t.Fatalf("%s ready line %q: %v", script, line, err)
	}
	return p
}

// eventLines returns the JSON events a node script printed.
func eventLines[T any](p *proc, prefix string) []T {
	var out []T
	for _, l := range p.Out.Snapshot() {
		if rest, ok := strings.CutPrefix(l, prefix+" "); ok {
			var v T
			if json.Unmarshal([]byte(rest), &v) == nil {
				out = append(out, v)
			}
		}
	}
	return out
}

// waitDone waits for a torrent to complete and checks its file bit for bit.
func waitDone(t testing.TB, ctx context.Context, bt *Torrent, path string, want [32]byte) {
	t.Helper()
	select {
	case <-bt.Done():
	case <-ctx.Done():
		t.Fatalf("download incomplete: %d of %d bytes", bt.BytesCompleted(), bt.Length())
	}
	if got := fileSHA(t, path); !bytes.Equal(got[:], want[:]) {
		t.Fatalf("downloaded file differs from the seeded one")
	}
}

func execOutput(name string, args ...string) (string, error) {
	b, err := exec.Command(name, args...).Output()
	return string(b), err
}

// leechedBytes returns the verified bytes of the torrent c leeches (the
// tests' clients leech one at a time), 0 when none runs.
func leechedBytes(c *Client) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for bt := range c.torrents {
		n = bt.BytesCompleted()
	}
	return n
}
