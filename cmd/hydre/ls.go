package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/hydre-p2p/hydre/swarm"
)

func runLs(ctx context.Context, g *globals, fs flags, args []string) error {
	links := fs.Bool("links", false, "print each content's link (a secret) too")
	if err := fs.parse(args); err != nil {
		return err
	}
	list, err := swarm.ReadState(g.engineDir())
	if errors.Is(err, swarm.ErrBusy) {
		return fmt.Errorf("%w (stop 'hydre daemon' or the app first)", err)
	}
	if err != nil {
		return err
	}
	if g.JSON {
		for _, s := range list {
			fmt.Fprintf(g.Stdout, "%s\n", toJSON("content", s, *links))
		}
		return nil
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATE\tDONE\tSIZE\tNAME")
	for _, s := range list {
		pct := 100.0
		if s.Size > 0 {
			pct = float64(s.Verified) * 100 / float64(s.Size)
		}
		name := s.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f%%\t%s\t%s\n", short(s.ID.String()), s.Kind, s.State, pct, swarm.FormatSize(s.Size), name)
		if *links {
			fmt.Fprintf(tw, "\t%s\n", s.Link)
		}
		for _, f := range s.FileList() {
			fmt.Fprintf(tw, "\t\t\t%s\t%s\t  %s\n", filePct(f), swarm.FormatSize(f.Size), f.Path)
		}
	}
	return tw.Flush()
}
