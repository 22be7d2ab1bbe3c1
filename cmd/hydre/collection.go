package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/hydre-p2p/hydre/swarm"
	"github.com/hydre-p2p/hydre/swarm/stream"
)

// A collection (several files as one link, swarm/collection.go) in the
// commands: get shows each file as it completes, ls lists the files.

// collectionDone reports whether a collection download has every file it
// fetches (those of its --file selection) whole.
func collectionDone(s swarm.Status) bool {
	files := s.FileList()
	if files == nil {
		return false
	}
	for _, f := range files {
		if f.Fetch && f.Verified != f.Size {
			return false
		}
	}
	return true
}

// holdsFile reports whether a folder has a regular file somewhere under it
// (what a collection of it would share).
func holdsFile(dir string) bool {
	found := false
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}

// checkSelection refuses a get of a collection this node already fetches
// with another choice of files: the engine keeps the first (--file, or all).
func checkSelection(st swarm.Status, only []string) error {
	if !st.Fetches(only) {
		return fmt.Errorf("this link was first fetched with another --file choice: forget it first with 'hydre rm %s' (the files fetched stay), then get it again", st.ID)
	}
	return nil
}

// filePct is the DONE column of a file of a collection in ls: its percentage,
// or "-" for a file not fetched.
func filePct(f swarm.FileStatus) string {
	switch {
	case !f.Fetch:
		return "-"
	case f.Size == 0:
		return "100%"
	}
	return fmt.Sprintf("%.0f%%", float64(f.Verified)*100/float64(f.Size))
}

// savedPaths is what get prints of a finished download: the file, or a
// collection's folder, or the files of a --file selection.
func savedPaths(s swarm.Status) []string {
	var sel []string
	all := true
	for _, f := range s.FileList() {
		if f.Fetch {
			sel = append(sel, f.Local)
		} else {
			all = false
		}
	}
	if s.Files == nil || all {
		return []string{s.Path}
	}
	return sel
}

// fileProgress prints, on stderr, each file of a collection as it
// completes ("  12/100 photos/a.jpg 1.2 MiB"): the per-file progress of a
// get (--json has it in each status's "files"). On a terminal the line
// goes above the progress bar, which the next status redraws.
type fileProgress struct {
	w    io.Writer
	tty  bool
	json bool
	done map[string]int // files printed, by content ID
	seen map[string]bool
}

func newFileProgress(g *globals) *fileProgress {
	return &fileProgress{w: g.Stderr, tty: isTerminal(g.Stderr), json: g.JSON, done: map[string]int{}, seen: map[string]bool{}}
}

func (p *fileProgress) show(s swarm.Status) {
	files := s.FileList()
	if p.json || files == nil {
		return
	}
	want := 0
	for _, f := range files {
		if f.Fetch {
			want++
		}
	}
	id := s.ID.String()
	for _, f := range files {
		key := id + "/" + f.Path
		if !f.Fetch || f.Verified != f.Size || p.seen[key] {
			continue
		}
		p.seen[key] = true
		p.done[id]++
		clear := ""
		if p.tty {
			clear = "\r\033[K"
		}
		// Paths are sanitized names (docs/protocol.md §13): no control
		// character reaches the terminal.
		fmt.Fprintf(p.w, "%s  %d/%d %s %s\n", clear, p.done[id], want, f.Path, swarm.FormatSize(f.Size))
	}
}

// streamFile is 'hydre stream --file PATH': it fetches that file of a
// collection alone and serves it to a player while it arrives, until
// interrupted.
func streamFile(ctx context.Context, g *globals, e *swarm.Engine, link, out, path, player string) error {
	st, err := e.Fetch(ctx, link, out, swarm.FetchOptions{Files: []string{path}})
	if err != nil {
		return err
	}
	// OpenFile waits for the manifest, so that a missing file is said now
	// and the address carries the file's name.
	f, err := e.OpenFile(ctx, st.ID, path)
	if err != nil {
		if s, serr := e.Status(st.ID); serr == nil && s.Err != "" {
			return fmt.Errorf("stream %s: %s", path, s.Err)
		}
		return fmt.Errorf("stream %s: %w", path, err)
	}
	name := f.Name()
	f.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop, err := serveMedia(ctx, g, name, player, func(ctx context.Context) (stream.Media, error) {
		return e.OpenFile(ctx, st.ID, path)
	})
	if err != nil {
		return err
	}
	defer stop()
	if !g.JSON {
		fmt.Fprintf(g.Stderr, "Press Ctrl-C to stop serving.\n")
	}
	return serveUntilDone(ctx, g, e, nil, func(swarm.Status) (bool, error) { return false, nil })
}
