package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// manageCommands returns 'hydre pause', 'resume' or 'rm': each changes the
// node's contents through its data directory (no network), as 'ls' reads
// them.
func manageCommands() []command {
	return []command{
		{name: "pause", args: "ID|LINK...", summary: "pause downloads or shares (until 'hydre resume')", run: runPause},
		{name: "resume", args: "ID|LINK...", summary: "resume paused downloads or shares", run: runResume},
		{name: "rm", args: "[--delete] ID|LINK...", summary: "forget downloads or shares (--delete: their downloaded files too)", run: runRm},
		limitCommand(),
		historyCommand(),
	}
}

func runPause(ctx context.Context, g *globals, args []string) error {
	return manage(g, "pause", "Pause contents of this node: they are neither fetched nor served until\n'hydre resume'.",
		args, func(dir string, id hcrypto.ContentID, _ bool) (swarm.Status, error) {
			return swarm.SetPausedOffline(dir, id, true)
		})
}

func runResume(ctx context.Context, g *globals, args []string) error {
	return manage(g, "resume", "Resume paused contents of this node: the next 'hydre daemon', the app, or a\n'hydre get' of the link fetches or serves them again.",
		args, func(dir string, id hcrypto.ContentID, _ bool) (swarm.Status, error) {
			return swarm.SetPausedOffline(dir, id, false)
		})
}

func runRm(ctx context.Context, g *globals, args []string) error {
	return manage(g, "rm", "Forget contents of this node. With --delete, a download's file (partial or\ncomplete) is deleted too; a shared file never is.",
		args, swarm.RemoveOffline)
}

// manage is 'hydre pause', 'resume' and 'rm': it finds each content named
// by its arguments (an ID as 'hydre ls' shows it, a unique beginning of
// one, or a link) before changing any, then applies op to each.
func manage(g *globals, name, summary string, args []string, op func(string, hcrypto.ContentID, bool) (swarm.Status, error)) error {
	fs := newFlagSet(g, name, "ID|LINK...", summary+"\n"+
		"Contents are named by their ID (or its beginning) as 'hydre ls' shows it, or by their link.\n"+
		"This works on a stopped node: while 'hydre daemon' or the app runs on the data directory,\n"+
		"use the app, or stop the daemon first.")
	del := false
	if name == "rm" {
		fs.BoolVar(&del, "delete", false, "delete the downloaded (or partial) files too")
	}
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"want at least one ID or LINK"}
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
