package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hydre-p2p/hydre/swarm"
)

// engineOptions tune the engine a command opens.
type engineOptions struct {
	DownloadDir    string
	NoReshare      bool
	SingleIdentity bool
	Circuits       int
}

// engineDir is the engine's state directory, shared with the GUI.
func (g *globals) engineDir() string { return filepath.Join(g.DataDir, "swarm") }

// openEngine starts this node's tor (bootstrap progress on stderr) and the
// engine over it; stop closes both.
func (g *globals) openEngine(ctx context.Context) (*swarm.Engine, func(), error) {
	return g.openEngineWith(ctx, engineOptions{})
}

func (g *globals) openEngineWith(ctx context.Context, o engineOptions) (*swarm.Engine, func(), error) {
	if o.DownloadDir == "" {
		if wd, err := os.Getwd(); err == nil {
			o.DownloadDir = wd
		}
	}
	tor, err := g.startTor(ctx, true)
	if err != nil {
		return nil, nil, fmt.Errorf("start tor: %w", err)
	}
	e, err := swarm.Open(ctx, swarm.Config{
		DataDir:         g.engineDir(),
		Transport:       tor,
		Logger:          g.Logger,
		DownloadDir:     o.DownloadDir,
		Reshare:         !o.NoReshare,
		SingleIdentity:  o.SingleIdentity,
		CircuitsPerPeer: o.Circuits,
	})
	if err != nil {
		tor.Close()
		return nil, nil, fmt.Errorf("open the engine: %w", err)
	}
	stop := func() {
		if err := e.Close(); err != nil {
			g.Logger.Warn("close engine", "err", err)
		}
		if err := tor.Close(); err != nil {
			g.Logger.Warn("close tor", "err", err)
		}
	}
	return e, stop, nil
}
