// Package btlab is the BitTorrent lab of hydre's bridge tests: independent
// BitTorrent software (aria2, transmission-daemon, qbittorrent-nox,
// mktorrent) started on 127.0.0.1 with explicit configurations that reach
// nothing else, the payloads they seed, a tap that reads what a client
// sends on the wire independently of the bridge's parser, and the
// process's own sockets as a port scan finds them. Only tests import it.
package btlab

import (
	"bufio"
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

// NeedProgram skips the test when name is missing, unless in CI.
func NeedProgram(t testing.TB, name string) string {
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

// Logger is testkit.Logger: a logger writing through t.Log at Info level.
func Logger(t testing.TB) *slog.Logger { return testkit.Logger(t) }

// FreePort returns a TCP port free on 127.0.0.1 (and its UDP twin).
func FreePort(t testing.TB) int {
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

// WritePayload is testkit.WritePayload: size pseudo-random bytes of seed
// at path, and their SHA-256.
func WritePayload(t testing.TB, path string, size int64, seed uint64) [32]byte {
	t.Helper()
	return testkit.WritePayload(t, path, size, seed)
}

// FileSHA is testkit.FileSHA: the SHA-256 of the file at path.
func FileSHA(t testing.TB, path string) [32]byte {
	t.Helper()
	return testkit.FileSHA(t, path)
}

// MakeTorrent runs mktorrent on path. announce may be empty.
func MakeTorrent(t testing.TB, path, out, announce string, pieceLog2 int) {
	t.Helper()
	NeedProgram(t, "mktorrent")
	args := []string{"-l", fmt.Sprint(pieceLog2), "-o", out}
	if announce != "" {
		args = append(args, "-a", announce)
	}
	args = append(args, path)
	if b, err := exec.Command("mktorrent", args...).CombinedOutput(); err != nil {
		t.Fatalf("mktorrent: %v\n%s", err, b)
	}
}

// Proc is a child process owned by a test; it dies with the test.
type Proc struct {
	cmd  *exec.Cmd
	Out  *Lines // its output, line by line
	done chan struct{}
}

// Lines collects a process's output lines.
type Lines struct {
	mu    sync.Mutex
	lines []string
	cond  chan struct{}
}

func (b *Lines) add(l string) {
	b.mu.Lock()
	b.lines = append(b.lines, l)
	c := b.cond
	b.cond = nil
	b.mu.Unlock()
	if c != nil {
		close(c)
	}
}

// Snapshot returns the lines so far.
func (b *Lines) Snapshot() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.lines...)
}

// Wait returns the first line for which f is true, waiting up to d.
func (b *Lines) Wait(t testing.TB, d time.Duration, f func(string) bool) string {
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
			t.Fatalf("no expected line after %v; got:\n%s", d, strings.Join(b.Snapshot(), "\n"))
		}
	}
}

// StartProc starts a process that is killed (with its process group) at
// the end of the test.
func StartProc(t testing.TB, name string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	p := &Proc{cmd: cmd, Out: &Lines{}, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	scanDone := make(chan struct{})
	go func() {
		defer close(scanDone)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.Out.add(sc.Text())
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
			lines := p.Out.Snapshot()
			if len(lines) > 40 {
				lines = lines[len(lines)-40:]
			}
			t.Logf("%s output (tail):\n%s", filepath.Base(name), strings.Join(lines, "\n"))
		}
	})
	return p
}

// StartAria2Seeder seeds torrentPath from dataDir on 127.0.0.1:port with
// DHT, LPD and PEX off.
func StartAria2Seeder(t testing.TB, torrentPath, dataDir string, port int, extra ...string) *Proc {
	NeedProgram(t, "aria2c")
	args := append([]string{
		"--no-conf", "--seed-ratio=0.0", "--check-integrity=true", "--bt-seed-unverified=false",
		"--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
		"--disable-ipv6=true", "--interface=127.0.0.1", "--listen-port=" + fmt.Sprint(port),
		"--bt-external-ip=127.0.0.1", "--bt-max-peers=0", "--summary-interval=0",
		"--console-log-level=notice", "--file-allocation=none", "--enable-rpc=false",
		"--dir=" + dataDir}, extra...)
	return StartProc(t, "aria2c", append(args, torrentPath)...)
}

// Transmission runs a transmission-daemon with its own config dir.
type Transmission struct {
	p       *Proc
	rpc     string
	confDir string
}

// StartTransmission starts a daemon listening for peers on port, with DHT,
// LPD, uTP, PEX and port forwarding off and RPC on 127.0.0.1 only.
func StartTransmission(t testing.TB, dir string, port int, extra ...map[string]any) *Transmission {
	NeedProgram(t, "transmission-daemon")
	NeedProgram(t, "transmission-remote")
	conf := filepath.Join(dir, "conf")
	dl := filepath.Join(dir, "data")
	os.MkdirAll(conf, 0o755)
	os.MkdirAll(dl, 0o755)
	rpcPort := FreePort(t)
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
	p := StartProc(t, "transmission-daemon", "-f", "-g", conf)
	tr := &Transmission{p: p, rpc: fmt.Sprintf("127.0.0.1:%d", rpcPort), confDir: conf}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := tr.Remote("-l"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("transmission rpc not up")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return tr
}

// Remote runs transmission-remote against the daemon.
func (tr *Transmission) Remote(args ...string) (string, error) {
	b, err := exec.Command("transmission-remote", append([]string{tr.rpc}, args...)...).CombinedOutput()
	return string(b), err
}

// Add adds a torrent whose data is (or will be) in dataDir.
func (tr *Transmission) Add(t testing.TB, torrentPath, dataDir string) {
	t.Helper()
	if out, err := tr.Remote("-a", torrentPath, "-w", dataDir); err != nil {
		t.Fatalf("transmission-remote -a: %v: %s", err, out)
	}
}

// WaitField polls "transmission-remote -t all -i" until field has a value
// for which ok is true.
func (tr *Transmission) WaitField(t testing.TB, d time.Duration, field string, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(d)
	var last string
	for time.Now().Before(deadline) {
		out, err := tr.Remote("-t", "all", "-i")
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
