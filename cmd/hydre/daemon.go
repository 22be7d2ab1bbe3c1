package main

import (
	"context"
	"fmt"
	"time"
)

func runDaemon(ctx context.Context, g *globals, fs flags, args []string) error {
	single := fs.Bool("single-identity", false, "serve every content from one onion address (linkable)")
	out := fs.String("o", "", "default download `DIR`")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *out != "" {
		if err := checkDir("-o", *out); err != nil {
			return err
		}
	}
	n, err := g.openEngine(ctx, engineOptions{SingleIdentity: *single, DownloadDir: *out})
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
