package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/gui"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestShareGetLs drives "hydre share", "hydre get" and "hydre ls" on a
// private Tor network: share says when its link is reachable, the file
// arrives whole and verified, get exits 0, ls lists it.
func TestShareGetLs(t *testing.T) {
	testkit.SkipWithoutTor(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	nw, newGlobals := testnetGlobals(ctx, t)
	file := filepath.Join(t.TempDir(), "report.pdf")
	data := bytes.Repeat([]byte("hydre share get ls\n"), 300000)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}

	ga, aout, aerr := newGlobals()
	shareCtx, stopShare := context.WithCancel(ctx)
	shareErr := make(chan error, 1)
	go func() { shareErr <- runCommand(shareCtx, ga, "share", []string{file}) }()
	link := waitLine(t, aout, aerr, "hydre:", shareErr)
	// It says when the link starts to work: once tor has published the
	// service, which a get started earlier would wait for.
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(aerr.String(), "Reachable after"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("share never said its link is reachable: %q", aerr.String())
		}
	}

	gb, bout, berr := newGlobals()
	dest := t.TempDir()
	if err := runCommand(ctx, gb, "get", []string{"-o", dest, link}); err != nil {
		t.Fatalf("get: %v\n%s", err, berr.String())
	}
	got, err := os.ReadFile(filepath.Join(dest, "report.pdf"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("downloaded file: %d bytes, %v", len(got), err)
	}
	if !strings.Contains(bout.String(), filepath.Join(dest, "report.pdf")) {
		t.Fatalf("get printed %q", bout.String())
	}
	if !strings.Contains(berr.String(), "seeding 100.0%") {
		t.Errorf("no final progress line in %q", berr.String())
	}

	gb.Stdout = &syncBuffer{}
	if err := runCommand(ctx, gb, "ls", nil); err != nil {
		t.Fatal(err)
	}
	if ls := gb.Stdout.(*syncBuffer).String(); !strings.Contains(ls, "report.pdf") || !strings.Contains(ls, "100%") || !strings.Contains(ls, "download") {
		t.Fatalf("ls printed %q", ls)
	}
	stopShare()
	if err := <-shareErr; err != nil {
		t.Fatalf("share: %v", err)
	}

	// The share survives: a daemon on A's data directory serves it again at
	// the same address, and a third node fetches it from there alone.
	ga.Stdout, ga.Stderr = &syncBuffer{}, &syncBuffer{}
	daemonCtx, stopDaemon := context.WithCancel(ctx)
	daemonErr := make(chan error, 1)
	go func() { daemonErr <- runCommand(daemonCtx, ga, "daemon", nil) }()
	gc, _, cerr := newGlobals()
	dest2 := t.TempDir()
	if err := runCommand(ctx, gc, "get", []string{"-o", dest2, link}); err != nil {
		t.Fatalf("get from the daemon: %v\n%s", err, cerr.String())
	}
	if got, err := os.ReadFile(filepath.Join(dest2, "report.pdf")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file from the daemon: %d bytes, %v", len(got), err)
	}

	// The app starts its node the same way (startNode): on C's data
	// directory it uses the tor folder C's get used, and opens the engine
	// that holds C's download.
	e, tr, stopApp, err := gc.guiStart(ctx, gui.Settings{DownloadDir: dest2}, func(gui.Progress) {})
	if err != nil {
		t.Fatalf("the app's start: %v", err)
	}
	list := e.List()
	stopApp()
	if tr == nil || len(list) != 1 || list[0].Name != "report.pdf" {
		t.Errorf("the app's node: transport %v, contents %v", tr, list)
	}
	if dirs, _ := filepath.Glob(filepath.Join(gc.DataDir, "tor-testnet*")); len(dirs) != 1 || filepath.Base(dirs[0]) != "tor-testnet-"+nw.ID() {
		t.Errorf("tor folders of the command line and the app: %v, want one, tor-testnet-%s", dirs, nw.ID())
	}

	// Its tor dies (SIGKILL, as by the OOM killer): the daemon exits with
	// an error that says so, for a supervisor to start it again.
	defer stopDaemon()
	if err := syscall.Kill(torPIDOf(t, ga.DataDir), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-daemonErr:
		if err == nil || !strings.Contains(err.Error(), "tor went away: tor exited (signal: killed)") {
			t.Fatalf("daemon after its tor died: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the daemon kept running a minute after its tor died")
	}
}

// torPIDOf finds the tor process started for the data directory dir.
func torPIDOf(t *testing.T, dir string) int {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil || len(procs) == 0 {
		t.Skipf("no /proc to find tor in: %v", err)
	}
	for _, p := range procs {
		cmd, err := os.ReadFile(p)
		if err == nil && bytes.HasPrefix(cmd, []byte("/")) && bytes.Contains(cmd, []byte("tor\x00-f\x00"+dir+"/")) {
			pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			if err == nil {
				return pid
			}
		}
	}
	t.Fatalf("no tor runs for %s", dir)
	return 0
}

func TestShareGetUsage(t *testing.T) {
	for _, args := range [][]string{{"share"}, {"get"}, {"get", "a", "b"}, {"ls", "extra"}, {"daemon", "extra"}} {
		var out bytes.Buffer
		if code := run(append([]string{"--data-dir", t.TempDir()}, args...), &out, &out); code != 2 {
			t.Errorf("hydre %v: exit %d, want 2: %s", args, code, out.String())
		}
	}
}
