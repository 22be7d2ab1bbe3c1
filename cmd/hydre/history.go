package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hydre-p2p/hydre/swarm"
)

// historyCommand is 'hydre history': the node's past transfers.
func historyCommand() command {
	return command{name: "history", args: "[--clear]", summary: "list past transfers (finished, failed, removed, stopped)", run: runHistory}
}

func runHistory(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet(g, "history", "[--clear]",
		"List this node's past transfers, oldest first: downloads finished or failed, contents\n"+
			"removed, shares stopped on their own. They are kept in the data directory (readable by\n"+
			"you only) after the contents are gone, without their links, until --clear.")
	clear := fs.Bool("clear", false, "forget every past transfer")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	if *clear {
		if err := swarm.ClearHistory(g.engineDir()); err != nil {
			return err
		}
		if !g.JSON {
			fmt.Fprintln(g.Stdout, "history cleared")
		}
		return nil
	}
	hist, err := swarm.ReadHistory(g.engineDir())
	if err != nil {
		return err
	}
	if g.JSON {
		for _, h := range hist {
			b, _ := json.Marshal(h)
			fmt.Fprintf(g.Stdout, "%s\n", b)
		}
		return nil
	}
	if len(hist) == 0 {
		fmt.Fprintln(g.Stdout, "no past transfers")
		return nil
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tKIND\tSIZE\tRESULT\tNAME")
	for _, h := range hist {
		name := h.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.At.Local().Format(time.DateTime), h.Kind, swarm.FormatSize(h.Size),
			h.Result, name) // names are sanitized (Status.Name), as ls prints them
	}
	return tw.Flush()
}
