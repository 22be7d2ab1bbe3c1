package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestShareJSONAndSIGTERM runs 'hydre --json share' as a process of its own
// on the private network, twice on one data directory, and stops it with a
// SIGTERM to its process group (as a service manager or a Ctrl-C does): it
// exits 0 without "went away", and the second share, whose engine also
// serves the first one's file again, prints the statuses of its own file
// only.
func TestShareJSONAndSIGTERM(t *testing.T) {
	nw := testkit.Shared(t, testnet.Options{})
	home := t.TempDir()
	share := func(file string) (lines []string, stderr string) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "--testnet", nw.Dir(), "--data-dir", home, "--json", "share", file)
		cmd.Env = append(os.Environ(), "HYDRE_TEST_AS_HYDRE=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		var errb syncBuffer
		cmd.Stderr = &errb
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		got := make(chan string)
		go func() {
			defer close(got)
			for sc := bufio.NewScanner(out); sc.Scan(); {
				got <- sc.Text()
			}
		}()
		var id string
		deadline := time.After(3 * time.Minute)
	wait:
		for {
			select {
			case l, ok := <-got:
				if !ok {
					t.Fatalf("share ended: %v\n%s", cmd.Wait(), errb.String())
				}
				lines = append(lines, l)
				var s jsonStatus
				if err := json.Unmarshal([]byte(l), &s); err != nil {
					t.Fatalf("not JSON: %q", l)
				}
				if s.Event == "shared" {
					id = s.ID
				}
				if s.ID == id && s.Reachable {
					break wait
				}
			case <-deadline:
				t.Fatalf("never reachable: %q\n%s", lines, errb.String())
			}
		}
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		for l := range got {
			lines = append(lines, l)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("share after SIGTERM: %v\n%s", err, errb.String())
		}
		if strings.Contains(errb.String(), "went away") {
			t.Errorf("share warned on a normal stop:\n%s", errb.String())
		}
		return lines, errb.String()
	}
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first.bin"), filepath.Join(dir, "second.bin")
	for _, f := range []string{first, second} {
		if err := os.WriteFile(f, []byte(strings.Repeat(f, 5000)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lines, _ := share(first)
	var firstID string
	json.Unmarshal([]byte(lines[0]), &struct{ ID *string }{&firstID})
	lines, _ = share(second)
	for _, l := range lines {
		if strings.Contains(l, firstID) {
			t.Errorf("the second share printed the first one's status: %s", l)
		}
	}
}
