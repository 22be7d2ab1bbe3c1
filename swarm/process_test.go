package swarm

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// The test binary doubles as a downloader process (re-executed with
// HYDRE_SWARM_CHILD=get) so that a test can kill -9 it and inspect its
// connections.
func init() {
	switch os.Getenv("HYDRE_SWARM_CHILD") {
	case "get":
		os.Exit(childGet())
	case "seed":
		os.Exit(childSeed())
	}
}

// childTorEngine starts a tor of the network in $CHILD_TESTNET and an
// engine with state in $CHILD_DATA.
func childTorEngine(ctx context.Context) (*Engine, func(), error) {
	nw, err := testnet.Open(os.Getenv("CHILD_TESTNET"))
	if err != nil {
		return nil, nil, err
	}
	data := os.Getenv("CHILD_DATA")
	tor, err := onion.Start(ctx, nw.TorConfig(filepath.Join(data, "tor")))
	if err != nil {
		return nil, nil, err
	}
	if err := tor.Bootstrap(ctx, nil); err != nil {
		tor.Close()
		return nil, nil, err
	}
	e, err := Open(ctx, Config{DataDir: filepath.Join(data, "swarm"), Transport: tor, Reshare: true})
	if err != nil {
		tor.Close()
		return nil, nil, err
	}
	return e, func() { e.Close(); tor.Close() }, nil
}

// childSeed shares $CHILD_FILE, prints "link LINK" and serves until its
// stdin closes.
func childSeed() int {
	ctx := context.Background()
	e, stop, err := childTorEngine(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	defer stop()
	st, err := e.Share(ctx, os.Getenv("CHILD_FILE"), ShareOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	fmt.Printf("link %s\n", st.Link)
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// childGet downloads $CHILD_LINK into $CHILD_OUT with state in $CHILD_DATA
// over a tor of the network in $CHILD_TESTNET, printing "progress V S" lines
// and "done PATH" at the end.
func childGet() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "child:", err); return 1 }
	ctx := context.Background()
	e, stop, err := childTorEngine(ctx)
	if err != nil {
		return fail(err)
	}
	defer stop()
	st, err := e.Get(ctx, os.Getenv("CHILD_LINK"), os.Getenv("CHILD_OUT"))
	if err != nil {
		return fail(err)
	}
	fmt.Printf("pid %d\n", os.Getpid())
	for {
		s, err := e.Status(st.ID)
		if err != nil {
			return fail(err)
		}
		fmt.Printf("progress %d %d\n", s.Verified, s.Size)
		if s.State == StateSeeding || s.State == StateDone {
			c, _ := e.get(st.ID)
			fmt.Printf("fetched %d\n", c.fetched.Load())
			fmt.Printf("done %s\n", s.Path)
			return 0
		}
		if s.State == StateFailed {
			return fail(fmt.Errorf("download failed: %s", s.Err))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type child struct {
	cmd   *exec.Cmd
	lines chan string
}

func startChild(t *testing.T, env ...string) *child {
	return startChildMode(t, "get", env...)
}

func startChildMode(t *testing.T, mode string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"HYDRE_SWARM_CHILD=" + mode}, env...)...)
	cmd.SysProcAttr = childAttr()
	if mode == "seed" {
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stdin.Close() })
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 1024)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return c
}

// until reads the child's lines until ok returns true.
func (c *child) until(t *testing.T, d time.Duration, what string, ok func(string) bool) string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l, open := <-c.lines:
			if !open {
				t.Fatalf("child exited before %s", what)
			}
			if ok(l) {
				return l
			}
		case <-timeout:
			t.Fatalf("child: no %s in %v", what, d)
		}
	}
}

func progressOf(l string) (v, size int64, ok bool) {
	f := strings.Fields(l)
	if len(f) != 3 || f[0] != "progress" {
		return 0, 0, false
	}
	v, _ = strconv.ParseInt(f[1], 10, 64)
	size, _ = strconv.ParseInt(f[2], 10, 64)
	return v, size, true
}

// TestTorKillResume kills a downloader process with SIGKILL mid-transfer,
// checks on the way that it only ever talks to its tor, and restarts it: it
// finishes without fetching again what it had verified.
func TestTorKillResume(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("inspects /proc")
	}
	nw := testkit.Shared(t, testnet.Options{})
	a := torNode(t, torFor(t, nw), "a")
	path, data := writeFile(t, t.TempDir(), "kill.bin", 48<<20)
	st := a.share(path, 0)
	dataDir, out := t.TempDir(), t.TempDir()
	env := []string{"CHILD_TESTNET=" + nw.Dir(), "CHILD_DATA=" + dataDir, "CHILD_OUT=" + out, "CHILD_LINK=" + st.Link}

	c := startChild(t, env...)
	c.until(t, 3*time.Minute, "25%", func(l string) bool {
		v, size, ok := progressOf(l)
		return ok && size > 0 && v > size/4
	})
	checkOnlyTor(t, c.cmd.Process.Pid)
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()

	// What survived the kill is what the database says is verified.
	list, err := ReadState(filepath.Join(dataDir, "swarm"))
	for deadline := time.Now().Add(30 * time.Second); err == ErrBusy && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		list, err = ReadState(filepath.Join(dataDir, "swarm"))
	}
	if err != nil || len(list) != 1 {
		t.Fatalf("state after kill: %v %v", list, err)
	}
	kept := list[0].Verified
	if kept == 0 {
		t.Fatal("nothing verified survived the kill")
	}

	c2 := startChild(t, env...)
	first := c2.until(t, 3*time.Minute, "progress", func(l string) bool { _, _, ok := progressOf(l); return ok })
	if v, _, _ := progressOf(first); v < kept {
		t.Fatalf("restart shows %d verified, %d were kept", v, kept)
	}
	fl := c2.until(t, 5*time.Minute, "fetched", func(l string) bool { return strings.HasPrefix(l, "fetched ") })
	fetched, _ := strconv.ParseInt(strings.TrimPrefix(fl, "fetched "), 10, 64)
	done := c2.until(t, time.Minute, "done", func(l string) bool { return strings.HasPrefix(l, "done ") })
	if err := c2.cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	checkFile(t, strings.TrimPrefix(done, "done "), data)
	const chunk = 256 << 10
	chunks := (int64(len(data)) + chunk - 1) / chunk
	missing := chunks - kept/chunk
	t.Logf("kept %d of %d chunks across kill -9; fetched %d after restart", kept/chunk, chunks, fetched)
	if fetched > missing {
		t.Fatalf("fetched %d chunks after restart, only %d were missing: verified chunks fetched again", fetched, missing)
	}
}

// checkOnlyTor fails unless every TCP socket of process pid is a loopback
// listener (for tor to reach its onion services) or a connection whose far
// end belongs to its tor (a child process).
func checkOnlyTor(t *testing.T, pid int) {
	t.Helper()
	torPIDs := childPIDs(pid)
	if len(torPIDs) == 0 {
		t.Fatal("downloader has no tor child")
	}
	socks := tcpSockets(t, pid)
	mine := inodesOf(pid)
	torEnds := map[string]bool{}
	for _, tp := range torPIDs {
		for ino := range inodesOf(tp) {
			if s, ok := socks[ino]; ok {
				torEnds[s.local] = true
			}
		}
	}
	n := 0
	for ino := range mine {
		s, ok := socks[ino]
		if !ok {
			continue
		}
		n++
		host, _, _ := net.SplitHostPort(s.local)
		if !net.ParseIP(host).IsLoopback() {
			t.Errorf("socket bound to %s, not loopback", s.local)
		}
		if s.state == "0A" { // listening
			continue
		}
		if !torEnds[s.remote] {
			t.Errorf("connection %s -> %s does not end at its tor", s.local, s.remote)
		}
	}
	if n == 0 {
		t.Fatal("no TCP socket found: the check proves nothing")
	}
	t.Logf("downloader pid %d: %d TCP sockets, all to its tor (pids %v)", pid, n, torPIDs)
}

type tcpSock struct{ local, remote, state string }

func tcpSockets(t *testing.T, pid int) map[string]tcpSock {
	out := map[string]tcpSock{}
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 {
				continue
			}
			out[fs[9]] = tcpSock{local: hexAddr(fs[1]), remote: hexAddr(fs[2]), state: fs[3]}
		}
	}
	return out
}

func hexAddr(s string) string {
	h, p, _ := strings.Cut(s, ":")
	port, _ := strconv.ParseUint(p, 16, 16)
	b, _ := hex.DecodeString(h)
	for i := 0; i+4 <= len(b); i += 4 { // each 32-bit word is little endian
		slices.Reverse(b[i : i+4])
	}
	return net.JoinHostPort(net.IP(b).String(), strconv.Itoa(int(port)))
}

func inodesOf(pid int) map[string]bool {
	out := map[string]bool{}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			out[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	return out
}

func childPIDs(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
