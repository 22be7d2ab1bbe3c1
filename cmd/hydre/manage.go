package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

func runPause(ctx context.Context, g *globals, fs flags, args []string) error {
	return manage(g, fs, args, func(dir string, id hcrypto.ContentID, _ bool) (swarm.Status, error) {
		return swarm.SetPausedOffline(dir, id, true)
	})
}

func runResume(ctx context.Context, g *globals, fs flags, args []string) error {
	return manage(g, fs, args, func(dir string, id hcrypto.ContentID, _ bool) (swarm.Status, error) {
		return swarm.SetPausedOffline(dir, id, false)
	})
}

func runRm(ctx context.Context, g *globals, fs flags, args []string) error {
	return manage(g, fs, args, swarm.RemoveOffline)
}

// manage is 'hydre pause', 'resume' and 'rm': it finds each content named
// by its arguments (an ID as 'hydre ls' shows it, a unique beginning of
// one, or a link) before changing any, then applies op to each.
func manage(g *globals, fs flags, args []string, op func(string, hcrypto.ContentID, bool) (swarm.Status, error)) error {
	name := fs.c.name
	del := false
	if name == "rm" {
		fs.BoolVar(&del, "delete", false, "delete the downloaded (or partial) files too")
	}
	if err := fs.parse(args); err != nil {
		return err
	}
	list, err := swarm.ReadState(g.engineDir())
	if errors.Is(err, swarm.ErrBusy) {
		return busyError(err)
	}
	if err != nil {
		return err
	}
	var ids []hcrypto.ContentID
	for _, arg := range fs.Args() {
		id, err := findContent(list, arg)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	done := map[string]string{"pause": "paused", "resume": "resumed", "rm": "removed"}[name]
	for _, id := range ids {
		st, err := op(g.engineDir(), id, del)
		if errors.Is(err, swarm.ErrBusy) {
			return busyError(err)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", name, short(id.String()), err)
		}
		if g.JSON {
			fmt.Fprintf(g.Stdout, "%s\n", toJSON(done, st, false))
			continue
		}
		what := done
		if name == "rm" && del && st.Kind != swarm.KindShare && st.Path != "" {
			what = "removed, file deleted:"
		}
		label := st.Name
		if label == "" {
			label = "(name not known yet)"
		}
		fmt.Fprintf(g.Stdout, "%s %s %s\n", short(id.String()), what, label)
	}
	return nil
}

// busyError says that a running hydre holds the data directory, and what to do.
func busyError(err error) error {
	return fmt.Errorf("%w: stop 'hydre daemon' (or use the app) first", err)
}

// findContent returns the ID of the content of list that arg names: its ID
// or a unique beginning of it (as 'hydre ls' prints it, "…" allowed), or a
// link to it.
func findContent(list []swarm.Status, arg string) (hcrypto.ContentID, error) {
	if strings.HasPrefix(strings.ToLower(arg), hcrypto.Scheme+":") {
		l, err := hcrypto.ParseLink(arg)
		if err != nil {
			return hcrypto.ContentID{}, usageError{linkMessage(arg, err)}
		}
		for _, s := range list {
			if s.ID == l.ID {
				return s.ID, nil
			}
		}
		return hcrypto.ContentID{}, fmt.Errorf("no content of this link on this node (see 'hydre ls')")
	}
	prefix := strings.TrimSuffix(arg, "…")
	var found []hcrypto.ContentID
	for _, s := range list {
		if prefix != "" && strings.HasPrefix(s.ID.String(), prefix) {
			found = append(found, s.ID)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return hcrypto.ContentID{}, fmt.Errorf("no content %q on this node (see 'hydre ls')", arg)
	default:
		return hcrypto.ContentID{}, usageError{fmt.Sprintf("%q names %d contents: give more of the ID", arg, len(found))}
	}
}
