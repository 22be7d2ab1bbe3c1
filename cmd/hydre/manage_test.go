package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
)

// downloadedNode makes a node's data directory holding one complete
// download over the in-memory network, its engine stopped. It returns the
// data directory, the link and the downloaded file.
func downloadedNode(t *testing.T) (home, link, file string) {
	t.Helper()
	ctx := context.Background()
	net := memnet.New()
	open := func(name, dataDir string) *swarm.Engine {
		e, err := swarm.Open(ctx, swarm.Config{DataDir: dataDir, Transport: net.Node(name), DownloadDir: t.TempDir(), Reshare: true, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	a := open("a", t.TempDir())
	t.Cleanup(func() { a.Close() })
	src := filepath.Join(t.TempDir(), "talk.webm")
	if err := os.WriteFile(src, bytes.Repeat([]byte("hydre pause resume rm\n"), 20000), 0o644); err != nil {
		t.Fatal(err)
	}
	sh, err := a.Share(ctx, src, swarm.ShareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	home = t.TempDir()
	b := open("b", filepath.Join(home, "swarm"))
	defer b.Close()
	st, err := b.Get(ctx, sh.Link, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); st.State != swarm.StateSeeding; time.Sleep(20 * time.Millisecond) {
		if st, err = b.Status(st.ID); err != nil || time.Now().After(deadline) {
			t.Fatalf("download: %+v %v", st, err)
		}
	}
	return home, sh.Link, st.Path
}

// TestPauseResumeRm: 'hydre pause', 'resume' and 'rm' change a stopped
// node's download (named by the ID 'ls' shows, or by its link) as 'ls'
// then shows it, and say so clearly while a running hydre holds the node.
func TestPauseResumeRm(t *testing.T) {
	home, link, file := downloadedNode(t)
	hydre := hydreIn(home)
	state := func() string {
		out, errb, code := hydre("ls", "--json")
		if code != 0 {
			t.Fatalf("ls: %d %s", code, errb)
		}
		var s struct{ ID, State string }
		if out == "" {
			return "none"
		}
		if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &s); err != nil {
			t.Fatalf("ls --json %q: %v", out, err)
		}
		return s.State
	}
	out, _, _ := hydre("ls")
	shortID := strings.Fields(strings.Split(out, "\n")[1])[0] // as ls shows it, with "…"
	if out, errb, code := hydre("pause", shortID); code != 0 || !strings.Contains(out, "paused talk.webm") || state() != "paused" {
		t.Fatalf("pause %s: exit %d, %q %q; ls says %s", shortID, code, out, errb, state())
	}
	if out, errb, code := hydre("resume", link); code != 0 || !strings.Contains(out, "resumed talk.webm") || state() != "seeding" {
		t.Fatalf("resume LINK: exit %d, %q %q; ls says %s", code, out, errb, state())
	}
	if _, errb, code := hydre("pause", "zz"); code != 1 || !strings.Contains(errb, `no content "zz" on this node`) {
		t.Errorf("pause of an unknown ID: exit %d, %q", code, errb)
	}

	// A running hydre (the daemon, the app) holds the node.
	e, err := swarm.Open(context.Background(), swarm.Config{DataDir: filepath.Join(home, "swarm"), Transport: memnet.New().Node("d"), DownloadDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	_, errb, code := hydre("rm", shortID)
	e.Close()
	if code != 1 || !strings.Contains(errb, "in use by a running hydre") || !strings.Contains(errb, "stop 'hydre daemon'") {
		t.Errorf("rm while a daemon runs: exit %d, %q", code, errb)
	}

	if out, errb, code := hydre("rm", "--delete", shortID); code != 0 || !strings.Contains(out, "file deleted") || state() != "none" {
		t.Fatalf("rm --delete: exit %d, %q %q; ls says %s", code, out, errb, state())
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rm --delete left the file: %v", err)
	}
}

// TestGetSavedElsewhere: a second 'hydre get' of a link with another -o
// says where the file already is and starts no tor; without -o it says
// the download resumes where it was first saved.
func TestGetSavedElsewhere(t *testing.T) {
	home, link, file := downloadedNode(t)
	ran := fakeTor(t)
	var out, errb bytes.Buffer
	other := t.TempDir()
	code := run([]string{"--data-dir", home, "get", "-o", other, link}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "already saved into "+filepath.Dir(file)+", not into -o "+other) {
		t.Errorf("get -o OTHER: exit %d, %q", code, errb.String())
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("tor was started")
	}
	errb.Reset()
	t.Chdir(t.TempDir())
	code = run([]string{"--data-dir", home, "get", link}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "first saved into "+filepath.Dir(file)+": it resumes there") {
		t.Errorf("get without -o: exit %d, %q", code, errb.String())
	}
	if _, err := os.Stat(ran); err != nil {
		t.Error("tor was not started for a get that resumes")
	}
}
