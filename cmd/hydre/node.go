package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/swarm"
)

// torSource says which tor a node runs over; torConfig turns it into tor's
// configuration. The command line fills it from --testnet, the environment
// and the options of 'hydre tor status' (cliTorSource); the app from its
// connection settings (guiTorSource).
type torSource struct {
	Testnet string // a private Tor network's folder: wins over the rest
	// ControlAddr, ControlCookie and ControlPassword attach to a running
	// tor; with ControlAddr "", hydre starts a tor of its own.
	ControlAddr, ControlCookie, ControlPassword string
	TorPath                                     string   // a managed tor's program ("" looks in PATH)
	Bridges                                     []string // a managed tor's bridge lines
	// BuiltinBridges names Tor Browser's built-in bridges for a managed tor
	// (onion.BridgesObfs4 or onion.BridgesSnowflake; "" for none); the
	// --tor-bridges option wins over it.
	BuiltinBridges string
	// BridgeFile holds more bridge lines for a managed tor (one a line,
	// '#' comments); a missing file holds none.
	BridgeFile string
	Timeout    time.Duration // bootstrap limit (0: onion's default)
}

// cliTorSource is the command line's tor: the --testnet network, the tor at
// $HYDRE_TOR_CONTROL, or a managed tor under the data directory with the
// bridge lines of DATA-DIR/bridges.txt.
func (g *globals) cliTorSource() torSource {
	return torSource{Testnet: g.Testnet, ControlAddr: g.Env.TorControl, ControlCookie: g.Env.TorCookie,
		ControlPassword: g.Env.TorPassword, TorPath: g.Env.TorPath,
		BridgeFile: filepath.Join(g.DataDir, "bridges.txt")}
}

// torConfig builds the configuration of this node's tor from src. A
// private network's tor keeps its state in DATA-DIR/tor-testnet-<network
// ID>: the ID changes with each bring-up of a network, and a tor that kept
// another bring-up's consensus and guards would try those first (see
// testnet.Network.ID). A managed tor keeps it in DATA-DIR/tor.
func (g *globals) torConfig(src torSource) (onion.Config, error) {
	var cfg onion.Config
	switch {
	case src.Testnet != "":
		nw, err := testnet.Open(src.Testnet)
		if err != nil {
			return cfg, fmt.Errorf("open the private test network: %w", err)
		}
		cfg = nw.TorConfig(filepath.Join(g.DataDir, "tor-testnet-"+nw.ID()))
	case src.ControlAddr != "":
		cfg = onion.Config{ControlAddr: src.ControlAddr, ControlCookie: src.ControlCookie,
			ControlPassword: src.ControlPassword}
	default:
		cfg = onion.Config{DataDir: filepath.Join(g.DataDir, "tor"), TorPath: src.TorPath,
			Bridges: slices.Clone(src.Bridges)}
		builtin := src.BuiltinBridges
		if g.TorBridges != "" {
			builtin = string(g.TorBridges)
		}
		if builtin != "" && builtin != bridgesNone {
			lines, err := onion.BuiltinBridges(builtin)
			if err != nil {
				return cfg, err
			}
			cfg.Bridges = append(lines, cfg.Bridges...)
		}
		if src.BridgeFile != "" {
			lines, err := readBridgeFile(src.BridgeFile)
			if err != nil {
				return cfg, err
			}
			cfg.Bridges = append(cfg.Bridges, lines...)
		}
	}
	if src.Timeout > 0 {
		cfg.BootstrapTimeout = src.Timeout
	}
	cfg.Logger = g.Logger
	return cfg, nil
}

// bridgesNone turns the built-in bridges off ("--tor-bridges none").
const bridgesNone = "none"

// bridgeChoiceFlag is the --tor-bridges option: none, or the name of a set
// of built-in bridges (onion.BridgeChoices). A bad name is refused while
// the command line is parsed.
type bridgeChoiceFlag string

func (f *bridgeChoiceFlag) String() string { return string(*f) }

func (f *bridgeChoiceFlag) Set(v string) error {
	v = strings.ToLower(strings.TrimSpace(v))
	if v != bridgesNone && !slices.Contains(onion.BridgeChoices, v) {
		return fmt.Errorf("unknown bridges %q (want %s or %s)", v, strings.Join(onion.BridgeChoices, ", "), bridgesNone)
	}
	*f = bridgeChoiceFlag(v)
	return nil
}

// readBridgeFile returns the bridge lines of path (one a line, '#'
// comments), or none if it does not exist.
func readBridgeFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read bridges: %w", err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, nil
}

// nodeSpec is what startNode starts.
type nodeSpec struct {
	Tor onion.Config
	// Engine configures the engine over tor; startNode fills in its
	// Transport and Logger. Nil starts tor alone (to ask a bridge node).
	Engine *swarm.Config
	// Progress receives tor's bootstrap events, from one goroutine; nil
	// drops them.
	Progress func(onion.BootstrapEvent)
	// Stuck is called, from Progress's goroutine, with the last bootstrap
	// event when the bootstrap has not moved for StuckAfter
	// (defaultStuckAfter when 0), and again after each later stall; nil
	// says nothing.
	Stuck      func(onion.BootstrapEvent)
	StuckAfter time.Duration
}

// defaultStuckAfter is how long a bootstrap may stand still before the
// user is told: tor on a working network moves within seconds, and a
// blocked one never reaches its first relay.
const defaultStuckAfter = 30 * time.Second

// relayReached is the bootstrap percentage at which tor has connected to
// a first relay ("conn_done"); stuck below it, tor cannot reach the Tor
// network at all.
const relayReached = 10

// node is a running tor and, unless started without one, the engine over
// it. Close stops both, the engine first.
type node struct {
	Tor    *onion.Tor
	Engine *swarm.Engine
	log    *slog.Logger
}

// startNode is the one way hydre starts a node, for every command and the
// app: the engine's database lock is checked, tor started and
// bootstrapped, then the engine opened over it. A command checks what its
// user typed (links, files, folders, options) before it calls startNode,
// and the tor configuration is built before too, so that a mistake is
// reported before tor starts and touches the network.
func startNode(ctx context.Context, log *slog.Logger, spec nodeSpec) (*node, error) {
	if spec.Engine != nil {
		if err := checkUnlocked(spec.Engine.DataDir); err != nil {
			return nil, err
		}
	}
	tor, err := onion.Start(ctx, spec.Tor)
	if err != nil {
		return nil, err
	}
	if err := bootstrap(ctx, tor, spec); err != nil {
		tor.Close()
		return nil, err
	}
	n := &node{Tor: tor, log: log}
	if spec.Engine == nil {
		return n, nil
	}
	cfg := *spec.Engine
	cfg.Transport, cfg.Logger = tor, log
	if n.Engine, err = swarm.Open(ctx, cfg); err != nil {
		tor.Close()
		return nil, fmt.Errorf("open the engine: %w", err)
	}
	return n, nil
}

// bootstrap waits for tor's bootstrap, handing each event to
// spec.Progress and each stall to spec.Stuck.
func bootstrap(ctx context.Context, tor *onion.Tor, spec nodeSpec) error {
	events := make(chan onion.BootstrapEvent, 16)
	stuckAfter := spec.StuckAfter
	if stuckAfter <= 0 {
		stuckAfter = defaultStuckAfter
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		var last onion.BootstrapEvent
		stall := time.NewTimer(stuckAfter)
		defer stall.Stop()
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					return
				}
				if ev.Percent != last.Percent {
					stall.Reset(stuckAfter)
				}
				last = ev
				if spec.Progress != nil {
					spec.Progress(ev)
				}
			case <-stall.C:
				if spec.Stuck != nil {
					spec.Stuck(last)
				}
			}
		}
	})
	err := tor.Bootstrap(ctx, events)
	close(events)
	wg.Wait()
	return err
}

// checkUnlocked fails when a running hydre (the daemon, the app) holds the
// engine's database in dir, which opening the engine would wait for.
func checkUnlocked(dir string) error {
	if _, err := swarm.ReadState(dir); errors.Is(err, swarm.ErrBusy) {
		return fmt.Errorf("%w (stop 'hydre daemon' or the app first)", err)
	}
	return nil
}

// Close stops the engine, then tor.
func (n *node) Close() {
	if n.Engine != nil {
		if err := n.Engine.Close(); err != nil {
			n.log.Warn("close engine", "err", err)
		}
	}
	if err := n.Tor.Close(); err != nil {
		n.log.Warn("close tor", "err", err)
	}
}
