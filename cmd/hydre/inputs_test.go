package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
)

// fakeTor puts a "tor" program in place through $HYDRE_TOR_PATH (and clears
// the variables that would choose another tor) that only records it was
// started and fails. It returns the file it creates when run.
func fakeTor(t *testing.T) (ran string) {
	t.Helper()
	dir := t.TempDir()
	ran = filepath.Join(dir, "ran")
	script := filepath.Join(dir, "tor")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch '"+ran+"'\nexit 1\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"HYDRE_TESTNET", "HYDRE_TOR_CONTROL", "HYDRE_TOR_COOKIE", "HYDRE_TOR_PASSWORD"} {
		t.Setenv(v, "")
	}
	t.Setenv("HYDRE_TOR_PATH", script)
	return ran
}

// unwritableDir returns a folder this test cannot write in: its own
// read-only folder, or /sys for root, whom file modes do not stop.
func unwritableDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() == 0 {
		return "/sys"
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	return dir
}

// TestInputsCheckedBeforeTor runs commands with a mistake in what they are
// given: each exits with an error that says what is wrong, and tor was not
// started. The first case, with nothing wrong, shows that the fake tor is
// started when a command gets that far.
func TestInputsCheckedBeforeTor(t *testing.T) {
	link := hcrypto.Link{ID: hcrypto.ContentID{1, 2, 3}}.Encode()
	c := "a"
	if link[20] == 'a' {
		c = "b"
	}
	typo := link[:20] + c + link[21:] // one character changed
	const onionAddr = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion:7446"
	const magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"
	aFile := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(aFile, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string // in stderr
		torRuns bool
	}{
		{"good link starts tor", []string{"get", link}, 1, "start tor", true},
		{"get, mistyped link", []string{"get", typo}, 2, "bad checksum", false},
		{"get, not a link", []string{"get", "holiday.mp4"}, 2, "not a hydre link", false},
		{"get, magnet without bridge", []string{"get", magnet}, 2, "add --bridge", false},
		{"get, bad bridge address", []string{"get", "--bridge", onionAddr[:60] + ":7446", magnet}, 2, "bad onion address", false},
		{"get, bridge port with sign", []string{"get", "--bridge", strings.Replace(onionAddr, ":", ":+", 1), magnet}, 2, "bad port", false},
		{"get, -o is a file", []string{"get", "-o", aFile, link}, 1, "not a directory", false},
		{"get, -o not writable", []string{"get", "-o", unwritableDir(t), link}, 1, "-o: cannot save into", false},
		{"stream, -o not writable", []string{"stream", "-o", unwritableDir(t), link}, 1, "-o: cannot save into", false},
		{"get, negative circuits", []string{"get", "--circuits", "-1", link}, 2, "--circuits", false},
		{"stream, mistyped link", []string{"stream", "--player", "none", typo}, 2, "bad checksum", false},
		{"stream, magnet", []string{"stream", magnet}, 2, "'hydre get --bridge ONION --stream MAGNET'", false},
		{"get, truncated link", []string{"get", link[:len(link)-1]}, 2, "bad link: truncated", false},
		{"get, link cut at a byte", []string{"get", link[:len(link)-8]}, 2, "bad link: truncated", false},
		{"get, a character added", []string{"get", link + "bb"}, 2, "a character added", false},
		{"stream, truncated link", []string{"stream", link[:len(link)-3]}, 2, "bad link: truncated", false},
		{"get, unknown option", []string{"get", "--nope", link}, 2, "flag provided but not defined: -nope", false},
		{"stream, unknown player", []string{"stream", "--player", "winamp", link}, 2, "unknown player", false},
		{"share, missing file", []string{"share", filepath.Join(t.TempDir(), "missing.mp4")}, 1, "no such file", false},
		{"share, an empty folder", []string{"share", t.TempDir()}, 1, "no file in it to share", false},
		{"share, a device", []string{"share", "/dev/null"}, 1, "not a regular file or folder", false},
		{"share --each, a folder", []string{"share", "--each", filepath.Dir(aFile)}, 2, "--each shares files, not folders", false},
		{"get --file with --bridge", []string{"get", "--file", "a.txt", "--bridge", onionAddr, magnet}, 2, "--file is for a hydre link", false},
		{"gui, mistyped link", []string{"gui", typo}, 2, "bad checksum", false},
		{"bridge request, bad address", []string{"bridge", "request", "example.com:80", magnet}, 2, "bad onion address", false},
		{"bridge request, not a magnet", []string{"bridge", "request", onionAddr, link}, 2, "want a magnet link", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := fakeTor(t)
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"--data-dir", t.TempDir()}, tt.args...), &stdout, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("hydre %q: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr.String(), tt.code, tt.wantErr)
			}
			if strings.Count(stderr.String(), "bad link") > 1 || strings.Contains(stderr.String(), "parse link") {
				t.Errorf("hydre %q: stderr %q says it twice", tt.args, stderr.String())
			}
			if _, err := os.Stat(ran); (err == nil) != tt.torRuns {
				t.Errorf("hydre %q: tor started: %v, want %v", tt.args, err == nil, tt.torRuns)
			}
		})
	}
}

// TestBusyDataDirBeforeTor: while an engine holds the data directory (the
// daemon, the app), a command says so and starts no tor.
func TestBusyDataDirBeforeTor(t *testing.T) {
	ran := fakeTor(t)
	home := t.TempDir()
	e, err := swarm.Open(context.Background(), swarm.Config{DataDir: filepath.Join(home, "swarm"),
		Transport: memnet.New().Node("daemon"), DownloadDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	link := hcrypto.Link{ID: hcrypto.ContentID{1, 2, 3}}.Encode()
	var stdout, stderr bytes.Buffer
	code := run([]string{"--data-dir", home, "get", "-o", t.TempDir(), link}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "in use by a running hydre") {
		t.Errorf("exit %d, stderr %q; want 1 and that the database is in use", code, stderr.String())
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("tor was started")
	}
}

// TestGlobalOptionsAfterCommand: the global options work after the
// command's name too, as people type them ("hydre get LINK --data-dir X").
func TestGlobalOptionsAfterCommand(t *testing.T) {
	ran := fakeTor(t)
	home := t.TempDir()
	link := hcrypto.Link{ID: hcrypto.ContentID{1, 2, 3}}.Encode()
	var stdout, stderr bytes.Buffer
	code := run([]string{"get", "-o", t.TempDir(), link, "--data-dir", home, "--log-level=error"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "start tor") {
		t.Errorf("get with --data-dir after it: exit %d, stderr %q; want 1 and tor started", code, stderr.String())
	}
	if _, err := os.Stat(ran); err != nil {
		t.Error("tor was not started")
	}
	if _, err := os.Stat(filepath.Join(home, "tor")); err != nil {
		t.Errorf("the tor of --data-dir given after the command: %v", err)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"version", "--json"}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), `{"version":`) {
		t.Errorf("version --json: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
