package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hydre-p2p/hydre/swarm"
)

// engineOptions tune the engine a command opens.
type engineOptions struct {
	DownloadDir    string // "": the working directory
	NoReshare      bool
	SingleIdentity bool
	Circuits       int
	Limits         swarm.Limits // the node's rate limits (--up-rate, --down-rate)
}

// engineDir is the engine's state directory, shared with the GUI.
func (g *globals) engineDir() string { return filepath.Join(g.DataDir, "swarm") }

// openEngine starts this node's tor (its bootstrap shown on stderr) and the
// engine over it, through startNode.
func (g *globals) openEngine(ctx context.Context, o engineOptions) (*node, error) {
	if o.DownloadDir == "" {
		if wd, err := os.Getwd(); err == nil {
			o.DownloadDir = wd
		}
	}
	return g.startCLINode(ctx, &swarm.Config{
		DataDir:         g.engineDir(),
		DownloadDir:     o.DownloadDir,
		Reshare:         !o.NoReshare,
		SingleIdentity:  o.SingleIdentity,
		CircuitsPerPeer: o.Circuits,
		Limits:          o.Limits,
	}, true)
}

// startCLINode starts the command line's tor and, unless engine is nil,
// the engine over it; with progress, tor's bootstrap is shown on stderr (a
// bar on a terminal, lines otherwise, JSON lines with --json). A bootstrap
// that stands still is said on stderr in any case.
func (g *globals) startCLINode(ctx context.Context, engine *swarm.Config, progress bool) (*node, error) {
	src := g.cliTorSource()
	cfg, err := g.torConfig(src)
	if err != nil {
		return nil, err
	}
	v := g.newBootstrapView(g.Stderr, src)
	v.quiet = !progress
	return startNodeViewed(ctx, g, nodeSpec{Tor: cfg, Engine: engine}, v)
}

// newBootstrapView is the view of the bootstrap of the tor of src on w,
// with what to do if it cannot reach the network.
func (g *globals) newBootstrapView(w io.Writer, src torSource) *bootstrapView {
	v := newBootstrapView(w, g.JSON)
	v.hint = g.torHint(src)
	if g.StuckAfter > 0 {
		v.after = g.StuckAfter
	}
	return v
}

// startNodeViewed is startNode with its bootstrap shown in v.
func startNodeViewed(ctx context.Context, g *globals, spec nodeSpec, v *bootstrapView) (*node, error) {
	spec.Progress, spec.Stuck, spec.StuckAfter = v.show, v.stuck, v.after
	n, err := startNode(ctx, g.Logger, spec)
	v.done()
	return n, v.failed(err)
}

// torHint says what a user can do when the tor of src cannot reach the
// network.
func (g *globals) torHint(src torSource) string {
	switch {
	case src.Testnet != "":
		return fmt.Sprintf("Is the private network up? ('hydre testnet status %s')", src.Testnet)
	case src.ControlAddr != "":
		return fmt.Sprintf("Check the connection of the tor at %s; if its network blocks Tor, give that tor bridges (its torrc).", src.ControlAddr)
	}
	return fmt.Sprintf("Check this computer's connection. If this network blocks Tor, use bridges: Tor Browser's\n"+
		"built-in ones with '--tor-bridges obfs4' (or snowflake) before the command, or lines of your own: try one with\n"+
		"'hydre tor status --bridge LINE', keep them for every command in %s (one a line);\n"+
		"in the app, Settings, Tor bridges.", src.BridgeFile)
}

// checkDir checks a folder given on the command line before tor starts:
// it is created if missing and must be a folder this user can write in (a
// download that cannot be saved would otherwise wait for peers forever).
func checkDir(what, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("%s: %s is not a folder", what, dir)
	}
	f, err := os.CreateTemp(dir, ".hydre-write-check-*")
	if err != nil {
		return fmt.Errorf("%s: cannot save into %s: %w", what, dir, errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}
