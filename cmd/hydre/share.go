package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

func runShare(ctx context.Context, g *globals, fs flags, args []string) error {
	private := fs.Bool("private", false, "reachable only with the link (onion client authorization)")
	single := fs.Bool("single-identity", false, "serve every content from one onion address (linkable)")
	each := fs.Bool("each", false, "one link per FILE (one onion service each) instead of one for all")
	var rates rateFlags
	rates.register(fs.FlagSet)
	var stop stopFlags
	stop.register(fs.FlagSet)
	if err := fs.parse(args); err != nil {
		return err
	}
	paths := make([]string, fs.NArg())
	anyDir := false
	for i, p := range fs.Args() {
		abs, dir, err := checkShared(p)
		if err != nil {
			return err
		}
		if dir && *each {
			return usageError{"--each shares files, not folders: " + p}
		}
		paths[i], anyDir = abs, anyDir || dir
	}
	asOne := !*each && (anyDir || len(paths) > 1)
	n, err := g.openEngine(ctx, engineOptions{SingleIdentity: *single, Limits: rates.limits()})
	if err != nil {
		return err
	}
	defer n.Close()
	e := n.Engine
	var ids []swarm.Status
	var shared []hcrypto.ContentID
	for i, path := range paths {
		if asOne && i > 0 {
			break
		}
		var st swarm.Status
		var err error
		if asOne {
			st, err = e.ShareFiles(ctx, paths, stop.options(swarm.ShareOptions{Private: *private}))
		} else {
			st, err = e.Share(ctx, path, stop.options(swarm.ShareOptions{Private: *private}))
		}
		if err != nil {
			return err
		}
		if st, err = shareAgain(e, st); err != nil {
			return err
		}
		ids = append(ids, st)
		shared = append(shared, st.ID)
		if g.JSON {
			fmt.Fprintf(g.Stdout, "%s\n", toJSON("shared", st, true))
		} else {
			fmt.Fprintf(g.Stdout, "%s\n%s\n", st.Name, st.Link)
		}
	}
	if !g.JSON {
		// The link works only once tor has published the onion service,
		// seconds later: say when, so that nobody waits on a link that
		// cannot answer yet. (--json gives "reachable" in each status.)
		fmt.Fprintf(g.Stderr, "Publishing on Tor; the link works once this is done…\n")
		start := time.Now()
		if err := waitReachable(ctx, e, ids, g.Stderr); err != nil || ctx.Err() != nil {
			return err
		}
		what := fmt.Sprintf("%d file(s)", len(ids))
		if asOne {
			what = fmt.Sprintf("%d files as one link", len(ids[0].FileList()))
		}
		fmt.Fprintf(g.Stderr, "Reachable after %.1f s. Serving %s; press Ctrl-C to stop.\n",
			time.Since(start).Seconds(), what)
	}
	return serveUntilDone(ctx, g, e, shared, stop.done(g, len(shared)))
}

// checkShared checks a file or folder to share before tor starts and
// returns its absolute path and whether it is a folder: it must be a
// regular file or a folder this user can read.
func checkShared(path string) (string, bool, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false, fmt.Errorf("share %s: %w", path, err)
	}
	f, err := os.Open(abs)
	if err != nil {
		return "", false, fmt.Errorf("share: %w", err)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return "", false, fmt.Errorf("share: %w", err)
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return "", false, fmt.Errorf("share %s: not a regular file or folder", path)
	}
	if fi.IsDir() && !holdsFile(abs) {
		return "", false, fmt.Errorf("share %s: no file in it to share (empty, or only symbolic links)", path)
	}
	return abs, fi.IsDir(), nil
}

// waitReachable waits until every content of shares is reachable
// (Status.Reachable), or ctx ends, and tells w why a publication failed.
func waitReachable(ctx context.Context, e *swarm.Engine, shares []swarm.Status, w io.Writer) error {
	events, cancel := e.Subscribe()
	defer cancel()
	waiting := map[hcrypto.ContentID]bool{}
	said := map[hcrypto.ContentID]string{} // the last reason printed
	for _, s := range shares {
		// Read after subscribing, so that a service published in between
		// is not missed.
		st, err := e.Status(s.ID)
		if err != nil {
			return err
		}
		if !st.Reachable {
			waiting[s.ID] = true
		}
	}
	for len(waiting) > 0 {
		select {
		case <-ctx.Done():
			return nil
		case <-e.TransportLost():
			return torLost(ctx, e)
		case ev, ok := <-events:
			if !ok {
				return swarm.ErrClosed
			}
			st := ev.Status
			switch {
			case st.Reachable:
				delete(waiting, st.ID)
			case waiting[st.ID] && st.Waiting != "" && st.Waiting != said[st.ID]:
				said[st.ID] = st.Waiting
				fmt.Fprintf(w, "%s: %s\n", st.Name, st.Waiting)
			}
		}
	}
	return nil
}

// torLost is the error of a command whose tor went away under it (see
// swarm.Engine.TransportLost): it exits non-zero, for a supervisor to start
// it again. A tor that ended with the command's own stop (the same SIGTERM
// sent to a whole service) is no failure: nil once ctx is done.
func torLost(ctx context.Context, e *swarm.Engine) error {
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("tor went away: %w", e.TransportErr())
}

// serveUntilDone shows the events of the contents ids until ctx ends (or
// until done returns true for a status of one), then returns nil on an
// interrupt.
func serveUntilDone(ctx context.Context, g *globals, e *swarm.Engine, ids []hcrypto.ContentID, done func(swarm.Status) (bool, error)) error {
	events, cancel := e.Subscribe()
	defer cancel()
	// The contents' states now, read after subscribing: a download that
	// ended before the subscription sends no more events, and one that ends
	// after it cannot be missed.
	if done != nil {
		for _, id := range ids {
			if s, err := e.Status(id); err == nil {
				if stop, err := done(s); stop || err != nil {
					return err
				}
			}
		}
	}
	v := newStatusView(g.Stderr, false)
	if g.JSON {
		v = newStatusView(g.Stdout, true)
	}
	defer v.done()
	return follow(ctx, e, events, v, func(s swarm.Status) (bool, error) {
		if !slices.Contains(ids, s.ID) {
			return false, nil // another content of the node, resumed by the engine
		}
		if done == nil {
			if g.JSON {
				v.show(s)
			}
			return false, nil
		}
		v.show(s)
		return done(s)
	})
}

// follow hands the statuses of events to show, and flushes v every second,
// until ctx ends or events closes (nil), tor goes away (torLost), or show
// says to stop.
func follow(ctx context.Context, e *swarm.Engine, events <-chan swarm.Event, v *statusView, show func(swarm.Status) (stop bool, err error)) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.TransportLost():
			return torLost(ctx, e)
		case <-tick.C:
			v.flush()
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if stop, err := show(ev.Status); stop || err != nil {
				return err
			}
		}
	}
}
