package main

import (
	"context"
	"errors"
	"fmt"
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
	}, true)
}

// startCLINode starts the command line's tor and, unless engine is nil,
// the engine over it; with progress, tor's bootstrap is shown on stderr (a
// bar on a terminal, lines otherwise, JSON lines with --json).
func (g *globals) startCLINode(ctx context.Context, engine *swarm.Config, progress bool) (*node, error) {
	cfg, err := g.torConfig(g.cliTorSource())
	if err != nil {
		return nil, err
	}
	return g.startNodeShowing(ctx, nodeSpec{Tor: cfg, Engine: engine}, progress)
}

// startNodeShowing is startNode with tor's bootstrap shown on stderr when
// progress is true.
func (g *globals) startNodeShowing(ctx context.Context, spec nodeSpec, progress bool) (*node, error) {
	if !progress {
		return startNode(ctx, g.Logger, spec)
	}
	v := newBootstrapView(g.Stderr, g.JSON)
	spec.Progress = v.show
	n, err := startNode(ctx, g.Logger, spec)
	v.done()
	return n, err
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
