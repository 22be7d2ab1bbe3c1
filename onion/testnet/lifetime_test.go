package testnet

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
)

// TestNoTorOutlivesKilledProcess starts a network in a child process, kills
// that process with SIGKILL (no cleanup can run) and checks that every tor of
// the network exits anyway.
func TestNoTorOutlivesKilledProcess(t *testing.T) {
	if dir := os.Getenv("HYDRE_TESTNET_CHILD"); dir != "" {
		runChild(dir)
		return
	}
	skipWithoutTor(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoTorOutlivesKilledProcess$")
	cmd.Env = append(os.Environ(), "HYDRE_TESTNET_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "child:") {
				ready <- sc.Text()
				return
			}
		}
		close(ready)
	}()
	select {
	case line, ok := <-ready:
		if !ok || line != "child: ready" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child did not start a network: %q", line)
		}
	case <-time.After(4 * time.Minute):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("child did not start a network in time")
	}
	b, err := os.ReadFile(dir + "/" + stateFile)
	if err != nil {
		t.Fatal(err)
	}
	nw := &Network{dir: dir}
	if err := json.Unmarshal(b, &nw.st); err != nil {
		t.Fatal(err)
	}
	if n := len(livePIDs(t, nw)); n != len(nw.st.Nodes) {
		t.Fatalf("%d of %d nodes running before the kill", n, len(nw.st.Nodes))
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for {
		left := livePIDs(t, nw)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			stopNodes(dir, nw.st.Nodes, nil, nil)
			t.Fatalf("tor processes %v outlived their killed parent", left)
		}
		time.Sleep(100 * time.Millisecond) // polling other processes' exit
	}
}

func runChild(dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if _, err := Start(ctx, Options{Dir: dir}); err != nil {
		fmt.Println("child: error:", err)
		os.Exit(1)
	}
	fmt.Println("child: ready")
	time.Sleep(time.Hour) // wait to be killed
}

// TestStopKillsStubbornNode checks that stopping a network through its pid
// files kills a node that ignores SIGTERM, and counts that as stopped: a
// tor slow to exit on a loaded machine once made "hydre testnet down" fail.
func TestStopKillsStubbornNode(t *testing.T) {
	if os.Getenv("HYDRE_TESTNET_STUBBORN") != "" {
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("child: ready")
		time.Sleep(time.Minute)
		return
	}
	root := t.TempDir()
	n := &node{Name: "stubborn"}
	if err := os.MkdirAll(n.dir(root), 0o700); err != nil {
		t.Fatal(err)
	}
	// The node's torrc on the command line, as nodePID checks.
	cmd := exec.Command(os.Args[0], "-test.run=^TestStopKillsStubbornNode$", filepath.Join(n.dir(root), "torrc"))
	cmd.Env = append(os.Environ(), "HYDRE_TESTNET_STUBBORN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "child: ready\n" {
		t.Fatalf("child said %q", line)
	}
	go func() { cmd.Wait(); close(exited) }()
	if err := os.WriteFile(filepath.Join(n.dir(root), "pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, alive := nodePID(root, n); !alive {
		t.Fatal("nodePID does not see the child")
	}
	if err := stopNodes(root, []*node{n}, nil, nil); err != nil {
		t.Fatalf("stopNodes: %v", err)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the node still runs after stopNodes returned")
	}
}

// skipWithoutTor is testkit.SkipWithoutTor, which this package's own
// tests cannot import (testkit imports testnet).
func skipWithoutTor(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no private Tor network")
	}
	if _, err := exec.LookPath("tor"); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("tor is not installed: required in CI")
	}
	t.Skip("tor is not installed (sudo apt-get install tor, or run scripts/deps.sh)")
}

// startTestTor is testkit.StartTor, for the same reason: a managed tor
// that joins nw, bootstrapped, closed with the test.
func startTestTor(t *testing.T, nw *Network, tweak func(*onion.Config)) *onion.Tor {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := nw.TorConfig(t.TempDir())
	if tweak != nil {
		tweak(&cfg)
	}
	tor, err := onion.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start tor: %v", err)
	}
	t.Cleanup(func() { tor.Close() })
	if err := tor.Bootstrap(ctx, nil); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return tor
}
