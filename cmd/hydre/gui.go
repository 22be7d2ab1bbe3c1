package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/hydre-p2p/hydre/gui"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/swarm"
)

func runGUI(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet(g, "gui", "[--share FILE]... [--get LINK]... [LINK]",
		"Open the desktop app. A hydre: link given as argument (as the desktop does when one is\n"+
			"clicked) is downloaded once Tor is up. Settings are kept in DATA-DIR/"+gui.SettingsFile+".")
	var shares, gets multiFlag
	fs.Var(&shares, "share", "share `FILE` once connected (repeatable)")
	fs.Var(&gets, "get", "download `LINK` once connected (repeatable)")
	screen := fs.String("screen", "", "open on `SCREEN`: share, download, bridge or settings")
	shots := fs.String("screenshots", "", "capture every screen as PNG into `DIR` once the shares and downloads have started, then quit")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	for _, a := range fs.Args() {
		if !strings.HasPrefix(strings.ToLower(a), "hydre:") {
			return usageError{fmt.Sprintf("unexpected argument %q: want a hydre: link", a)}
		}
		gets = append(gets, a)
	}
	switch *screen {
	case "", gui.ScreenShare, gui.ScreenDownload, gui.ScreenBridge, gui.ScreenSettings:
	default:
		return usageError{fmt.Sprintf("unknown screen %q (want share, download, bridge or settings)", *screen)}
	}
	for i, p := range shares {
		abs, err := filepath.Abs(p)
		if err != nil {
			return fmt.Errorf("share %s: %w", p, err)
		}
		shares[i] = abs
	}
	if noDisplay() {
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

// guiStart is the app's gui.StartFunc: tor with the app's connection
// settings (the --testnet option wins), then the engine over it; it also
// returns tor, over which the Bridge screen asks hidden bridge nodes.
func (g *globals) guiStart(ctx context.Context, s gui.Settings, progress func(gui.Progress)) (*swarm.Engine, onion.Transport, func(), error) {
	cfg, err := g.guiTorConfig(s)
	if err != nil {
		return nil, nil, nil, err
	}
	tor, err := onion.Start(ctx, cfg)
	if err != nil {
		if errors.Is(err, onion.ErrNoTor) {
			return nil, nil, nil, fmt.Errorf("%w: %w", gui.ErrTorMissing, err)
		}
		return nil, nil, nil, err
	}
	events := make(chan onion.BootstrapEvent, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range events {
			progress(gui.Progress{Percent: ev.Percent, Summary: ev.Summary, Warning: ev.Warning})
		}
	}()
	err = tor.Bootstrap(ctx, events)
	close(events)
	<-done
	if err != nil {
		tor.Close()
		return nil, nil, nil, err
	}
	e, err := swarm.Open(ctx, swarm.Config{
		DataDir:              g.engineDir(),
		Transport:            tor,
		Logger:               g.Logger,
		DownloadDir:          s.DownloadDir,
		Reshare:              s.Reshare,
		SingleIdentity:       s.SingleIdentity,
		MaxPeersPerContent:   s.MaxPeersPerContent,
		MaxUploadsPerContent: s.MaxUploadsPerContent,
	})
	if err != nil {
		tor.Close()
		return nil, nil, nil, fmt.Errorf("open the engine: %w", err)
	}
	stop := func() {
		if err := e.Close(); err != nil {
			g.Logger.Warn("close engine", "err", err)
		}
		if err := tor.Close(); err != nil {
			g.Logger.Warn("close tor", "err", err)
		}
	}
	return e, tor, stop, nil
}

// guiTorConfig builds the tor configuration from the app's settings.
func (g *globals) guiTorConfig(s gui.Settings) (onion.Config, error) {
	dir := g.Testnet
	if dir == "" {
		dir = s.Tor.Testnet
	}
	var cfg onion.Config
	switch {
	case dir != "":
		nw, err := testnet.Open(dir)
		if err != nil {
			return cfg, fmt.Errorf("open the private test network: %w", err)
		}
		cfg = nw.TorConfig(filepath.Join(g.DataDir, "tor-testnet"))
	case s.Tor.Mode == gui.TorControl:
		cfg = onion.Config{ControlAddr: s.Tor.ControlAddr, ControlPassword: s.Tor.ControlPassword}
	default:
		cfg = onion.Config{DataDir: filepath.Join(g.DataDir, "tor"), TorPath: s.Tor.TorPath, Bridges: s.Tor.Bridges}
	}
	cfg.Logger = g.Logger
	return cfg, nil
}

// noDisplay reports a Unix session without X11 or Wayland, where opening a
// window would fail deep inside the graphics library.
func noDisplay() bool {
	switch runtime.GOOS {
	case "windows", "darwin", "android", "ios":
		return false
	}
	return os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == ""
}
