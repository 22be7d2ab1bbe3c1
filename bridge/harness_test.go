package bridge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// This file holds the lab: independent BitTorrent software started on
// 127.0.0.1 with explicit configurations that reach nothing else.

// needProgram skips the test when name is missing, unless in CI.
func needProgram(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (scripts/deps.sh installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// testLogger is testkit.Logger, under the name this package's tests call.
func testLogger(t testing.TB) *slog.Logger { return testkit.Logger(t) }

// freePort returns a TCP port free on 127.0.0.1 (and its UDP twin).
func freePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		u, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		u.Close()
		return port
	}
	t.Fatal("no free port")
	return 0
}

// writePayload is testkit.WritePayload, under the name this package's tests call.
func writePayload(t testing.TB, path string, size int64, seed uint64) [32]byte {
	t.Helper()
	return testkit.WritePayload(t, path, size, seed)
}

// fileSHA is testkit.FileSHA, under the name this package's tests call.
func fileSHA(t testing.TB, path string) [32]byte {
	t.Helper()
	return testkit.FileSHA(t, path)
}

// makeTorrent runs mktorrent on path. announce may be empty.
func makeTorrent(t testing.TB, path, out, announce string, pieceLog2 int) {
	t.Helper()
	needProgram(t, "mktorrent")
	args := []string{"-l", fmt.Sprint(pieceLog2), "-o", out}
	if announce != "" {
		args = append(args, "-a", announce)
	}
	args = append(args, path)
	if b, err := exec.Command("mktorrent", args...).CombinedOutput(); err != nil {
		t.Fatalf("mktorrent: %v\n%s", err, b)
	}
}

// proc is a child process owned by a test; it dies with the test.
type proc struct {
	cmd  *exec.Cmd
	out  *lineBuf
	done chan struct{}
}

type lineBuf struct {
	mu    sync.Mutex
	lines []string
	cond  chan struct{}
}

func (b *lineBuf) add(l string) {
	b.mu.Lock()
	b.lines = append(b.lines, l)
	c := b.cond
	b.cond = nil
	b.mu.Unlock()
	if c != nil {
		close(c)
	}
}

func (b *lineBuf) snapshot() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.lines...)
}

// wait returns the first line for which f is true, waiting up to d.
func (b *lineBuf) wait(t testing.TB, d time.Duration, f func(string) bool) string {
	t.Helper()
	deadline := time.After(d)
	seen := 0
	for {
		b.mu.Lock()
		for ; seen < len(b.lines); seen++ {
			if f(b.lines[seen]) {
				l := b.lines[seen]
				b.mu.Unlock()
				return l
			}
		}
		if b.cond == nil {
			b.cond = make(chan struct{})
		}
		c := b.cond
		b.mu.Unlock()
		select {
		case <-c:
		case <-deadline:
			t.Fatalf("no expected line after %v; got:\n%s", d, strings.Join(b.snapshot(), "\n"))
		}
	}
}

func startProc(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	p := &proc{cmd: cmd, out: &lineBuf{}, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	scanDone := make(chan struct{})
	go func() {
		defer close(scanDone)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.out.add(sc.Text())
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		cmd.Wait()
		pw.Close()
		<-scanDone
		close(p.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			lines := p.out.snapshot()
			if len(lines) > 40 {
				lines = lines[len(lines)-40:]
			}
			t.Logf("%s output (tail):\n%s", filepath.Base(name), strings.Join(lines, "\n"))
		}
	})
	return p
}

// startAria2Seeder seeds torrentPath from dataDir on 127.0.0.1:port with
// DHT, LPD and PEX off.
func startAria2Seeder(t testing.TB, torrentPath, dataDir string, port int, extra ...string) *proc {
	needProgram(t, "aria2c")
	args := append([]string{
		"--no-conf", "--seed-ratio=0.0", "--check-integrity=true", "--bt-seed-unverified=false",
		"--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
		"--disable-ipv6=true", "--interface=127.0.0.1", "--listen-port=" + fmt.Sprint(port),
		"--bt-external-ip=127.0.0.1", "--bt-max-peers=0", "--summary-interval=0",
		"--console-log-level=notice", "--file-allocation=none", "--enable-rpc=false",
		"--dir=" + dataDir}, extra...)
	return startProc(t, "aria2c", append(args, torrentPath)...)
}

// transmission runs a transmission-daemon with its own config dir.
type transmission struct {
	p       *proc
	rpc     string
	confDir string
}

// startTransmission starts a daemon listening for peers on port, with DHT,
// LPD, uTP, PEX and port forwarding off and RPC on 127.0.0.1 only.
func startTransmission(t testing.TB, dir string, port int, extra ...map[string]any) *transmission {
	needProgram(t, "transmission-daemon")
	needProgram(t, "transmission-remote")
	conf := filepath.Join(dir, "conf")
	dl := filepath.Join(dir, "data")
	os.MkdirAll(conf, 0o755)
	os.MkdirAll(dl, 0o755)
	rpcPort := freePort(t)
	settings := map[string]any{
		"bind-address-ipv4":           "127.0.0.1",
		"bind-address-ipv6":           "::1",
		"dht-enabled":                 false,
		"lpd-enabled":                 false,
		"utp-enabled":                 false,
		"pex-enabled":                 false,
		"port-forwarding-enabled":     false,
		"peer-port":                   port,
		"peer-port-random-on-start":   false,
		"rpc-enabled":                 true,
		"rpc-bind-address":            "127.0.0.1",
		"rpc-port":                    rpcPort,
		"rpc-whitelist-enabled":       true,
		"rpc-whitelist":               "127.0.0.1",
		"rpc-host-whitelist-enabled":  false,
		"rpc-authentication-required": false,
		"download-dir":                dl,
		"incomplete-dir-enabled":      false,
		"watch-dir-enabled":           false,
		"blocklist-enabled":           false,
		"ratio-limit-enabled":         false,
		"idle-seeding-limit-enabled":  false,
		"speed-limit-up-enabled":      false,
		"speed-limit-down-enabled":    false,
		"start-added-torrents":        true,
		"message-level":               2,
	}
	for _, e := range extra {
		for k, v := range e {
			settings[k] = v
		}
	}
	b, _ := json.MarshalIndent(settings, "", " ")
	if err := os.WriteFile(filepath.Join(conf, "settings.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "transmission-daemon", "-f", "-g", conf)
	tr := &transmission{p: p, rpc: fmt.Sprintf("127.0.0.1:%d", rpcPort), confDir: conf}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := tr.remote("-l"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("transmission rpc not up")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return tr
}

func (tr *transmission) remote(args ...string) (string, error) {
	b, err := exec.Command("transmission-remote", append([]string{tr.rpc}, args...)...).CombinedOutput()
	return string(b), err
}

// peerAddr is the daemon's peer address for a peer port it was given.
func (tr *transmission) peerAddr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// add adds a torrent whose data is (or will be) in dataDir.
func (tr *transmission) add(t testing.TB, torrentPath, dataDir string) {
	t.Helper()
	if out, err := tr.remote("-a", torrentPath, "-w", dataDir); err != nil {
		t.Fatalf("transmission-remote -a: %v: %s", err, out)
	}
}

// waitField polls "transmission-remote -t all -i" until field has a value
// for which ok is true.
func (tr *transmission) waitField(t testing.TB, d time.Duration, field string, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(d)
	var last string
	for time.Now().Before(deadline) {
		out, err := tr.remote("-t", "all", "-i")
		if err == nil {
			last = out
			for _, l := range strings.Split(out, "\n") {
				l = strings.TrimSpace(l)
				if v, found := strings.CutPrefix(l, field+":"); found && ok(strings.TrimSpace(v)) {
					return strings.TrimSpace(v)
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("transmission: %s never as wanted; last info:\n%s", field, last)
	return ""
}

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
	line := p.out.wait(t, 30*time.Second, func(l string) bool { return strings.HasPrefix(l, "READY ") })
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "READY ")), ready); err != nil {
		t.Fatalf("%s ready line %q: %v", script, line, err)
	}
	return p
}

// eventLines returns the JSON events a node script printed.
func eventLines[T any](p *proc, prefix string) []T {
	var out []T
	for _, l := range p.out.snapshot() {
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
