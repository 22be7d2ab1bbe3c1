package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestShareOnceCommand: 'hydre share --once' on a private Tor network
// serves one complete download, then says so and exits 0; its onion
// service is gone with it.
func TestShareOnceCommand(t *testing.T) {
	testkit.SkipWithoutTor(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, newGlobals := testnetGlobals(ctx, t)
	file := filepath.Join(t.TempDir(), "minutes.txt")
	data := bytes.Repeat([]byte("shared once\n"), 50000)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ga, aout, aerr := newGlobals()
	shareErr := make(chan error, 1)
	go func() { shareErr <- runCommand(ctx, ga, "share", []string{"--once", file}) }()
	var link string
	for deadline := time.Now().Add(3 * time.Minute); !strings.Contains(aerr.String(), "Reachable after"); time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-shareErr:
			t.Fatalf("share exited: %v\n%s", err, aerr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("share never said its link is reachable: %q", aerr.String())
		}
	}
	for _, l := range strings.Split(aout.String(), "\n") {
		if strings.HasPrefix(l, "hydre:") {
			link = l
		}
	}
	gb, _, berr := newGlobals()
	dest := t.TempDir()
	if err := runCommand(ctx, gb, "get", []string{"--no-reshare", "-o", dest, link}); err != nil {
		t.Fatalf("get: %v\n%s", err, berr.String())
	}
	if got, err := os.ReadFile(filepath.Join(dest, "minutes.txt")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("downloaded file: %d bytes, %v", len(got), err)
	}
	select {
	case err := <-shareErr:
		if err != nil || !strings.Contains(aerr.String(), "minutes.txt: stopped after the first complete download") {
			t.Fatalf("share --once: %v, %q", err, aerr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("share --once still runs a minute after the download: %q", aerr.String())
	}
}
