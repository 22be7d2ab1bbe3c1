package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
	"github.com/hydre-p2p/hydre/swarm"
)

// TestShareGetFolder drives "hydre share DIR", "hydre get -o", "hydre get
// --file" and "hydre ls" on a private Tor network with a tree of 100 files
// over three levels: one link, one content on the sharer, every file whole
// under a folder of the tree's name, each file listed as it completes; one
// file fetched alone brings the manifest's chunks and its own, not the
// rest; ls lists the files.
func TestShareGetFolder(t *testing.T) {
	testkit.SkipWithoutTor(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	_, newGlobals := testnetGlobals(ctx, t)
	root := filepath.Join(t.TempDir(), "holiday")
	files := map[string][]byte{}
	var total int
	for i := range 100 {
		rel := fmt.Sprintf("level%d/sub%d/file%03d.bin", i%3, i%5, i)
		if i%10 == 0 {
			rel = fmt.Sprintf("top%03d.txt", i)
		}
		full := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		_, data := testkit.RandomFile(t, filepath.Dir(full), filepath.Base(full), 1000+(i*7919)%60000)
		files[rel] = data
		total += len(data)
	}

	ga, aout, aerr := newGlobals()
	shareCtx, stopShare := context.WithCancel(ctx)
	defer stopShare()
	shareErr := make(chan error, 1)
	go func() { shareErr <- runCommand(shareCtx, ga, "share", []string{root}) }()
	var link string
	for deadline := time.Now().Add(3 * time.Minute); !strings.Contains(aerr.String(), "Reachable after"); time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-shareErr:
			t.Fatalf("share exited: %v\n%s", err, aerr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("share never said its link is reachable: %q %q", aout.String(), aerr.String())
		}
	}
	var links int
	for _, l := range strings.Split(aout.String(), "\n") {
		if strings.HasPrefix(l, "hydre:") {
			link = l
			links++
		}
	}
	if links != 1 || !strings.Contains(aerr.String(), "100 files as one link") {
		t.Fatalf("share printed %d links: %q %q", links, aout.String(), aerr.String())
	}

	gb, bout, berr := newGlobals()
	dest := t.TempDir()
	start := time.Now()
	if err := runCommand(ctx, gb, "get", []string{"-o", dest, link}); err != nil {
		t.Fatalf("get: %v\n%s", err, berr.String())
	}
	whole := time.Since(start)
	for rel, data := range files {
		got, err := os.ReadFile(filepath.Join(dest, "holiday", filepath.FromSlash(rel)))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: %d bytes, %v", rel, len(got), err)
		}
	}
	if strings.TrimSpace(bout.String()) != filepath.Join(dest, "holiday") {
		t.Errorf("get printed %q, want the folder", bout.String())
	}
	if !strings.Contains(berr.String(), "100/100 ") || !strings.Contains(berr.String(), "100/100 files") {
		t.Errorf("no per-file progress in %q", berr.String())
	}
	t.Logf("tree of %d files, %d bytes: fetched in %v", len(files), total, whole)

	// One file alone, with --json: what was verified is the manifest's
	// chunks and the file's.
	gc, cout, cerr := newGlobals()
	gc.JSON = true
	dest2 := t.TempDir()
	one := "level2/sub3/file008.bin"
	start = time.Now()
	if err := runCommand(ctx, gc, "get", []string{"-o", dest2, "--file", one, link}); err != nil {
		t.Fatalf("get --file: %v\n%s", err, cerr.String())
	}
	alone := time.Since(start)
	got, err := os.ReadFile(filepath.Join(dest2, "holiday", filepath.FromSlash(one)))
	if err != nil || !bytes.Equal(got, files[one]) {
		t.Fatalf("the file alone: %d bytes, %v", len(got), err)
	}
	var done struct {
		Event          string
		Size, Verified int64
		Files          []struct {
			Path  string
			Fetch bool
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(cout.String()), "\n") {
		if strings.Contains(l, `"event":"done"`) {
			if err := json.Unmarshal([]byte(l), &done); err != nil {
				t.Fatal(err)
			}
		}
	}
	// 256 KiB chunks: the manifest's chunk and the one or two that hold
	// the file, of 13.
	if done.Event != "done" || len(done.Files) != 100 || done.Verified > 3*256<<10 || done.Verified >= done.Size/4 {
		t.Fatalf("done: event %q, %d files, %d bytes verified of %d", done.Event, len(done.Files), done.Verified, done.Size)
	}
	t.Logf("one file of %d bytes alone: %d bytes verified of %d, in %v", len(files[one]), done.Verified, done.Size, alone)
	made := 0
	filepath.WalkDir(dest2, func(_ string, d os.DirEntry, _ error) error {
		if d.Type().IsRegular() {
			made++
		}
		return nil
	})
	if made != 1 {
		t.Errorf("%d files made for one asked", made)
	}

	// hydre stream --file: one file of the collection, served on a local
	// address with its name, a byte range of it as a player asks.
	gs, sout, serr := newGlobals()
	streamCtx, stopStream := context.WithCancel(ctx)
	streamErr := make(chan error, 1)
	media := "level1/sub1/file016.bin"
	go func() {
		streamErr <- runCommand(streamCtx, gs, "stream", []string{"--player", "none", "-o", t.TempDir(), "--file", media, link})
	}()
	u := waitLine(t, sout, serr, "http://127.0.0.1:", streamErr)
	if !strings.HasSuffix(u, "/file016.bin") {
		t.Errorf("address %q does not end with the file's name", u)
	}
	resp, body, err := getFrom(ctx, t, u, 100)
	if err != nil || resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, files[media][100:]) {
		t.Fatalf("GET %d bytes, status %d, err %v; want %d bytes of the file", len(body), resp.StatusCode, err, len(files[media])-100)
	}
	stopStream()
	if err := <-streamErr; err != nil {
		t.Fatalf("stream: %v", err)
	}
	// A path that is not in the collection is said as such.
	gs2, _, _ := newGlobals()
	err = runCommand(ctx, gs2, "stream", []string{"--player", "none", "-o", t.TempDir(), "--file", "nope.mkv", link})
	if err == nil || !strings.Contains(err.Error(), `no file or folder "nope.mkv" in this collection`) {
		t.Errorf("stream of a missing file: %v", err)
	}
	// Without --file, stream says to name one.
	gs3, _, _ := newGlobals()
	err = runCommand(ctx, gs3, "stream", []string{"--player", "none", "-o", t.TempDir(), link})
	if err == nil || !strings.Contains(err.Error(), "hydre stream --file PATH LINK") {
		t.Errorf("stream of a collection without --file: %v", err)
	}

	gb.Stdout = &syncBuffer{}
	if err := runCommand(ctx, gb, "ls", nil); err != nil {
		t.Fatal(err)
	}
	if ls := gb.Stdout.(*syncBuffer).String(); !strings.Contains(ls, "holiday") || !strings.Contains(ls, one) || strings.Count(ls, "100%") < 101 {
		t.Errorf("ls printed %q", ls)
	}
	stopShare()
	if err := <-shareErr; err != nil {
		t.Fatalf("share: %v", err)
	}
	ga.Stdout = &syncBuffer{}
	if err := runCommand(ctx, ga, "ls", nil); err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(ga.Stdout.(*syncBuffer).String(), " share "); rows != 1 {
		t.Errorf("the sharer holds %d contents, want 1 (one onion service)", rows)
	}
}

// TestCheckSelection: a get of a collection this node already fetches with
// another choice of files is refused, saying how to start over; the same
// choice, or a part of it, goes on.
func TestCheckSelection(t *testing.T) {
	files := swarm.FileList{{Path: "a/x.mkv", Fetch: true}, {Path: "a/y.mkv", Fetch: true}, {Path: "b.txt"}}
	partial := swarm.Status{Files: &files}
	allFiles := swarm.FileList{{Path: "a/x.mkv", Fetch: true}, {Path: "b.txt", Fetch: true}}
	whole := swarm.Status{Files: &allFiles}
	for _, tc := range []struct {
		name string
		st   swarm.Status
		only []string
		ok   bool
	}{
		{"single file", swarm.Status{}, nil, true},
		{"manifest not known yet", swarm.Status{Collection: true}, []string{"a"}, true},
		{"same folder", partial, []string{"a"}, true},
		{"a file of it", partial, []string{"a/x.mkv"}, true},
		{"all after a choice", partial, nil, false},
		{"another file", partial, []string{"b.txt"}, false},
		{"a file of a whole download", whole, []string{"b.txt"}, true},
		{"whole again", whole, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkSelection(tc.st, tc.only)
			if (err == nil) != tc.ok || err != nil && !strings.Contains(err.Error(), "hydre rm") {
				t.Errorf("checkSelection: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
