package testnet

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestNoTorOutlivesKilledProcess starts a network in a child process, kills
// that process with SIGKILL (no cleanup can run) and checks that every tor of
// the network exits anyway.
func TestNoTorOutlivesKilledProcess(t *testing.T) {
	if dir := os.Getenv("HYDRE_TESTNET_CHILD"); dir != "" {
		runChild(dir)
		return
	}
	SkipWithoutTor(t)
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
