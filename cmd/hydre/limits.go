package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// rateFlag is a rate limit in bytes a second given as a size ("500K",
// "1M", "1.5M" is not taken: whole numbers), with an optional "/s"; 0 or
// "none" lifts it.
type rateFlag int64

func (f *rateFlag) String() string {
	if *f == 0 {
		return "0"
	}
	s := sizeFlag(*f)
	return s.String()
}

func (f *rateFlag) Set(v string) error {
	n, err := parseLimit(v)
	if err != nil {
		return err
	}
	*f = rateFlag(n)
	return nil
}

// parseLimit reads a rate limit: a size with an optional "/s", or "none".
func parseLimit(v string) (int64, error) {
	s := strings.TrimSpace(strings.ToLower(v))
	if s == "none" || s == "off" {
		return 0, nil
	}
	n, err := parseSize(strings.TrimSuffix(s, "/s"))
	if err != nil {
		return 0, fmt.Errorf("bad rate %q (want e.g. 500K or 2M, bytes a second; 0 for none)", v)
	}
	if n > 0 && n < swarm.MinRate {
		return 0, fmt.Errorf("rate %q is under the least limit, %dK (0 for none)", v, swarm.MinRate>>10)
	}
	return n, nil
}

// formatLimit writes a limit for people: "1.0 MiB/s", "none".
func formatLimit(n int64) string {
	if n == 0 {
		return "none"
	}
	return swarm.FormatSize(n) + "/s"
}

// rateFlags are --up-rate and --down-rate: the node's limits while a
// command runs.
type rateFlags struct{ up, down rateFlag }

func (r *rateFlags) register(fs *flag.FlagSet) {
	fs.Var(&r.up, "up-rate", "send at most `RATE` bytes a second to peers, all contents together (e.g. 500K, 2M; 0: no limit)")
	fs.Var(&r.down, "down-rate", "read at most `RATE` bytes a second from peers, all contents together (0: no limit)")
}

func (r *rateFlags) limits() swarm.Limits { return swarm.Limits{Up: int64(r.up), Down: int64(r.down)} }

func runLimit(ctx context.Context, g *globals, fs flags, args []string) error {
	var up, down rateFlag
	fs.Var(&up, "up", "send this content at most `RATE` bytes a second (e.g. 500K, 1M; 0: no limit)")
	fs.Var(&down, "down", "fetch this content at most `RATE` bytes a second (0: no limit)")
	if err := fs.parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	list, err := swarm.ReadState(g.engineDir())
	if errors.Is(err, swarm.ErrBusy) {
		return busyError(err)
	}
	if err != nil {
		return err
	}
	byID := map[hcrypto.ContentID]swarm.Status{}
	var ids []hcrypto.ContentID
	for _, s := range list {
		byID[s.ID] = s
	}
	for _, arg := range fs.Args() {
		id, err := findContent(list, arg)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		st := byID[id]
		if set["up"] || set["down"] {
			l := st.Limits
			if set["up"] {
				l.Up = int64(up)
			}
			if set["down"] {
				l.Down = int64(down)
			}
			if st, err = swarm.SetLimitsOffline(g.engineDir(), id, l); errors.Is(err, swarm.ErrBusy) {
				return busyError(err)
			} else if err != nil {
				return fmt.Errorf("limit %s: %w", short(id.String()), err)
			}
		}
		if g.JSON {
			fmt.Fprintf(g.Stdout, "%s\n", toJSON("limits", st, false))
			continue
		}
		label := st.Name
		if label == "" {
			label = "(name not known yet)"
		}
		fmt.Fprintf(g.Stdout, "%s %s: up %s, down %s\n", short(id.String()), label,
			formatLimit(st.Limits.Up), formatLimit(st.Limits.Down))
	}
	return nil
}
