package main

import (
	"context"
	"fmt"

	"github.com/hydre-p2p/hydre/swarm"
)

func runDaemon(ctx context.Context, g *globals, fs flags, args []string) error {
	single := fs.Bool("single-identity", false, "serve every content from one onion address (linkable)")
	out := fs.String("o", "", "default download `DIR`")
	var rates rateFlags
	rates.register(fs.FlagSet)
	if err := fs.parse(args); err != nil {
		return err
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
	// Tor gone, follow returns an error (exit non-zero): a supervisor
	// starts the daemon again.
	return follow(ctx, e, events, v, func(s swarm.Status) (bool, error) {
		v.show(s)
		return false, nil
	})
}
