package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/hydre-p2p/hydre/gui"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm"
)

func runGUI(ctx context.Context, g *globals, fs flags, args []string) error {
	var shares, gets stringsFlag
	fs.Var(&shares, "share", "share `FILE` (or a folder, as one link) once connected (repeatable)")
	fs.Var(&gets, "get", "download `LINK` once connected (repeatable)")
	screen := fs.String("screen", "", "open on `SCREEN`: share, download, bridge, history or settings")
	shots := fs.String("screenshots", "", "capture every screen as PNG into `DIR` once the shares and downloads have started, then quit")
	if err := fs.parse(args); err != nil {
		return err
	}
	for _, a := range fs.Args() {
		if !strings.HasPrefix(strings.ToLower(a), "hydre:") {
			return usageError{fmt.Sprintf("unexpected argument %q: want a hydre: link", a)}
		}
		gets = append(gets, a)
	}
	for _, l := range gets {
		if err := checkLinkArg("gui", l, false); err != nil {
			return err
		}
	}
	switch *screen {
	case "", gui.ScreenShare, gui.ScreenDownload, gui.ScreenBridge, gui.ScreenHistory, gui.ScreenSettings:
	default:
		return usageError{fmt.Sprintf("unknown screen %q (want share, download, bridge, history or settings)", *screen)}
	}
	for i, p := range shares {
		abs, _, err := checkShared(p)
		if err != nil {
			return err
		}
		shares[i] = abs
	}
	if g.noDisplay() {
		return errors.New("no graphical display (DISPLAY and WAYLAND_DISPLAY are unset): the desktop app needs one; " +
			"'hydre help' lists the command-line commands, 'hydre daemon' runs a node without a window")
	}
	if err := os.MkdirAll(g.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if taken, err := gui.HandOff(ctx, g.DataDir, gets); err != nil {
		return err
	} else if taken {
		if len(shares) > 0 {
			return errors.New("the app is already running on this data directory: drop the files onto its window")
		}
		fmt.Fprintf(g.Stderr, "hydre: the app is already running; %d link(s) handed to it\n", len(gets))
		return nil
	}
	br := newGUIBridge(ctx, g)
	defer br.Close()
	player := newGUIPlayer(ctx, g.Logger)
	defer player.Close()
	start := func(ctx context.Context, s gui.Settings, progress func(gui.Progress)) (*swarm.Engine, func(), error) {
		e, tor, stop, err := g.guiStart(ctx, s, progress)
		if err != nil {
			return nil, nil, err
		}
		br.setEngine(e, tor)
		return e, func() { br.setEngine(nil, nil); stop() }, nil
	}
	opt := gui.Options{
		DataDir:     g.DataDir,
		Logger:      g.Logger,
		Start:       start,
		Bridge:      br,
		CheckBridge: onion.CheckBridgeLine,
		Stream:      player.URL,
		Share:       shares,
		Get:         gets,
		Screen:      *screen,
		Screenshots: *shots,
	}
	if g.Testnet != "" {
		opt.Network = "private test network"
	}
	return gui.Run(ctx, opt)
}

// guiStart is the app's gui.StartFunc: startNode with the app's connection
// and engine settings (the --testnet option wins over its connection
// settings); it also returns tor, over which the Bridge screen asks hidden
// bridge nodes.
func (g *globals) guiStart(ctx context.Context, s gui.Settings, progress func(gui.Progress)) (*swarm.Engine, onion.Transport, func(), error) {
	cfg, err := g.torConfig(guiTorSource(g.Testnet, s))
	if err != nil {
		return nil, nil, nil, err
	}
	n, err := startNode(ctx, g.Logger, nodeSpec{
		Tor: cfg,
		Engine: &swarm.Config{
			DataDir:              g.engineDir(),
			DownloadDir:          s.DownloadDir,
			Reshare:              s.Reshare,
			SingleIdentity:       s.SingleIdentity,
			MaxPeersPerContent:   s.MaxPeersPerContent,
			MaxUploadsPerContent: s.MaxUploadsPerContent,
			Limits:               swarm.Limits{Up: s.UpRate, Down: s.DownRate},
		},
		Progress: func(ev onion.BootstrapEvent) {
			progress(gui.Progress{Percent: ev.Percent, Summary: ev.Summary, Warning: ev.Warning})
		},
		Stuck: func(ev onion.BootstrapEvent) {
			progress(gui.Progress{Percent: ev.Percent, Summary: ev.Summary, Warning: ev.Warning,
				Stuck: true, CannotReach: ev.Percent < relayReached})
		},
		StuckAfter: g.StuckAfter,
	})
	if errors.Is(err, onion.ErrNoTor) {
		return nil, nil, nil, fmt.Errorf("%w: %w", gui.ErrTorMissing, err)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return n.Engine, n.Tor, n.Close, nil
}

// guiTorSource is the tor of the app's connection settings, or of the
// private network in testnetDir when not "".
func guiTorSource(testnetDir string, s gui.Settings) torSource {
	src := torSource{Testnet: testnetDir, TorPath: s.Tor.TorPath}
	switch s.Tor.BridgeChoice {
	case gui.BridgesObfs4:
		src.BuiltinBridges = onion.BridgesObfs4
	case gui.BridgesSnowflake:
		src.BuiltinBridges = onion.BridgesSnowflake
	case gui.BridgesCustom:
		src.Bridges = s.Tor.Bridges
	}
	if src.Testnet == "" {
		src.Testnet = s.Tor.Testnet
	}
	if s.Tor.Mode == gui.TorControl {
		src.ControlAddr, src.ControlPassword = s.Tor.ControlAddr, s.Tor.ControlPassword
	}
	return src
}

// noDisplay reports a Unix session without X11 or Wayland, where opening a
// window would fail deep inside the graphics library.
func (g *globals) noDisplay() bool {
	switch runtime.GOOS {
	case "windows", "darwin", "android", "ios":
		return false
	}
	return !g.Env.Display
}
