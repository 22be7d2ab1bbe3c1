package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/hydre-p2p/hydre/swarm"
)

func runHistory(ctx context.Context, g *globals, fs flags, args []string) error {
	clear := fs.Bool("clear", false, "forget every past transfer")
	if err := fs.parse(args); err != nil {
		return err
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
