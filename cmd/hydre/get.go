package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

func runGet(ctx context.Context, g *globals, fs flags, args []string) error {
	out := fs.String("o", ".", "save into `DIR`")
	seed := fs.Bool("seed", false, "keep serving the file after it is complete, until interrupted")
	noReshare := fs.Bool("no-reshare", false, "do not serve what is fetched to other peers")
	circuits := fs.Int("circuits", 0, "isolated circuits to a peer that is the only source (0: default)")
	bridgeAddr := fs.String("bridge", "", "LINK is a magnet: fetch it through the hidden bridge node at `ONION`")
	streamIt := fs.Bool("stream", false, "serve the file to a media player on a local address while it arrives")
	var only []string
	fs.Func("file", "fetch only the file (or folder) at `PATH` of a collection (repeatable; 'hydre ls' lists them)",
		func(p string) error { only = append(only, p); return nil })
	var rates rateFlags
	rates.register(fs.FlagSet)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := checkLinkArg("get", fs.Arg(0), *bridgeAddr != ""); err != nil {
		return err
	}
	if len(only) > 0 && (*bridgeAddr != "" || *streamIt) {
		return usageError{"--file is for a hydre link of several files, without --bridge or --stream (use 'hydre stream --file')"}
	}
	if *circuits < 0 {
		return usageError{"--circuits must not be negative"}
	}
	if err := checkDir("-o", *out); err != nil {
		return err
	}
	explicitOut := false
	fs.Visit(func(f *flag.Flag) { explicitOut = explicitOut || f.Name == "o" })
	if *bridgeAddr == "" {
		if err := checkSavedElsewhere(g, fs.Arg(0), *out, explicitOut); err != nil {
			return err
		}
	}
	files, err := bridgeLinksFor(ctx, g, fs.Arg(0), *bridgeAddr)
	if err != nil {
		return err
	}
	n, err := g.openEngine(ctx, engineOptions{DownloadDir: *out, NoReshare: *noReshare, Circuits: *circuits, Limits: rates.limits()})
	if err != nil {
		return err
	}
	defer n.Close()
	e := n.Engine
	// A multi-file torrent from a bridge node comes as one link per file,
	// each saved in its folder of the torrent under DIR.
	var ids []hcrypto.ContentID
	for _, f := range files {
		dest := filepath.Join(*out, f.LocalDir())
		st, err := e.Fetch(ctx, f.Link, dest, swarm.FetchOptions{Files: only, Here: explicitOut})
		if err != nil {
			if f.Path != "" { // a file of a bridge node's torrent
				return fmt.Errorf("%s: %w", f.Path, err)
			}
			return err
		}
		if err := checkSelection(st, only); err != nil {
			return err
		}
		ids = append(ids, st.ID)
	}
	if *streamIt {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		for _, id := range ids {
			_, wait, err := startStreamServer(ctx, g, e, id, "127.0.0.1:0")
			if err != nil {
				return err
			}
			defer wait()
		}
		*seed = true // the player may still be playing when the download ends
	}
	finals := map[hcrypto.ContentID]swarm.Status{}
	filesDone := newFileProgress(g)
	check := func(s swarm.Status) (bool, error) {
		if !slices.Contains(ids, s.ID) {
			return false, nil
		}
		filesDone.show(s)
		switch s.State {
		case swarm.StateFailed:
			return true, fmt.Errorf("download failed: %s", s.Err)
		case swarm.StateSeeding, swarm.StateDone:
			if s.Size == s.Verified || collectionDone(s) {
				finals[s.ID] = s
			}
		case swarm.StateStopped:
			return true, errors.New("download stopped")
		}
		return len(finals) == len(ids), nil
	}
	err = serveUntilDone(ctx, g, e, ids, check)
	if err == nil && len(finals) != len(ids) {
		return ctx.Err()
	}
	return report(ctx, g, ids, finals, err, *seed)
}

// checkSavedElsewhere checks, before tor starts, a get of a link this node
// already has in another folder than out: with -o given (explicit), it
// fails and says where the file is; without, it says that the download
// resumes there. A node whose state cannot be read (a running daemon's) is
// checked by startNode.
func checkSavedElsewhere(g *globals, link, out string, explicit bool) error {
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		return nil // checked before
	}
	list, err := swarm.ReadState(g.engineDir())
	if err != nil {
		return nil
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	for _, s := range list {
		if s.ID != l.ID || s.Kind != swarm.KindDownload || s.Path == "" || filepath.Dir(s.Path) == absOut {
			continue
		}
		where := filepath.Dir(s.Path)
		if explicit {
			return fmt.Errorf("this link is already saved into %s, not into -o %s: move the file from there, or forget it first with 'hydre rm %s' (and --delete to delete it)",
				where, absOut, s.ID)
		}
		if !g.JSON {
			fmt.Fprintf(g.Stderr, "This link was first saved into %s: it resumes there.\n", where)
		}
	}
	return nil
}

// report prints the outcome of a get (the path of each file, in order)
// and, with seed, serves until interrupted.
func report(ctx context.Context, g *globals, ids []hcrypto.ContentID, finals map[hcrypto.ContentID]swarm.Status, err error, seed bool) error {
	if err != nil {
		return err
	}
	for _, id := range ids {
		if g.JSON {
			fmt.Fprintf(g.Stdout, "%s\n", toJSON("done", finals[id], false))
		} else {
			for _, p := range savedPaths(finals[id]) {
				fmt.Fprintf(g.Stdout, "%s\n", p)
			}
		}
	}
	if seed {
		if !g.JSON {
			fmt.Fprintf(g.Stderr, "Complete; serving it until interrupted.\n")
		}
		<-ctx.Done()
		return nil
	}
	// Let the last Have frames reach the peers before closing.
	select {
	case <-ctx.Done():
	case <-time.After(200 * time.Millisecond):
	}
	return nil
}
