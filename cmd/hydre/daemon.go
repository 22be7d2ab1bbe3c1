package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

func runDaemon(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet(g, "daemon", "[--single-identity] [-o DIR]",
		"Run a headless node: serve every share and resume every download of the data directory,\n"+
			"until interrupted. Progress goes to stderr (JSON lines on stdout with --json).")
	single := fs.Bool("single-identity", false, "serve every content from one onion address (linkable)")
	out := fs.String("o", "", "default download `DIR`")
	var rates rateFlags
	rates.register(fs)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	if *out != "" {
		if err := checkDir("-o", *out); err != nil {
			return err
		}
	}
	n, err := g.openEngine(ctx, engineOptions{SingleIdentity: *single, DownloadDir: *out, Limits: rates.limits()})
	if err != nil {
		return err
	}
	defer n.Close()
	e := n.Engine
	list := e.List()
	if !g.JSON {
		fmt.Fprintf(g.Stderr, "hydre daemon: %d content(s); press Ctrl-C to stop.\n", len(list))
	}
	v := newStatusView(g.Stderr, false)
	v.line.tty = false // a daemon's stderr is a log: lines, not a bar
	if g.JSON {
		v = newStatusView(g.Stdout, true)
	}
	for _, s := range list {
		v.show(s)
	}
	events, cancel := e.Subscribe()
	defer cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			v.flush()
		case <-e.TransportLost(): // exit non-zero: a supervisor starts it again
			return torLost(ctx, e)
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			v.show(ev.Status)
		}
	}
}
