package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
)

// torOptions choose the tor a command uses. The zero value is a managed tor
// under the data directory (or the --testnet network's configuration).
type torOptions struct {
	ControlAddr string   // attach to this ControlPort instead of starting tor
	Cookie      string   // cookie file for ControlAddr ("" asks tor)
	Bridges     []string // bridge lines for a managed tor
	Timeout     time.Duration
}

// torOptionsFromEnv reads the settings the commands share from the
// environment: HYDRE_TOR_CONTROL, HYDRE_TOR_COOKIE, HYDRE_TOR_PASSWORD (never
// a flag: command lines are visible to every user) and HYDRE_TOR_PATH.
func torOptionsFromEnv() torOptions {
	return torOptions{ControlAddr: os.Getenv("HYDRE_TOR_CONTROL"), Cookie: os.Getenv("HYDRE_TOR_COOKIE")}
}

// torConfig builds the onion.Config for g and o.
func (g *globals) torConfig(o torOptions) (onion.Config, error) {
	var cfg onion.Config
	switch {
	case g.Testnet != "":
		nw, err := testnet.Open(g.Testnet)
		if err != nil {
			return cfg, err
		}
		cfg = nw.TorConfig(filepath.Join(g.DataDir, "tor-testnet-"+nw.ID()))
	case o.ControlAddr != "":
		cfg = onion.Config{ControlAddr: o.ControlAddr, ControlCookie: o.Cookie,
			ControlPassword: os.Getenv("HYDRE_TOR_PASSWORD")}
	default:
		cfg = onion.Config{DataDir: filepath.Join(g.DataDir, "tor"), TorPath: os.Getenv("HYDRE_TOR_PATH"), Bridges: o.Bridges}
		lines, err := readBridgeFile(filepath.Join(g.DataDir, "bridges.txt"))
		if err != nil {
			return cfg, err
		}
		cfg.Bridges = append(cfg.Bridges, lines...)
	}
	if o.Timeout > 0 {
		cfg.BootstrapTimeout = o.Timeout
	}
	cfg.Logger = g.Logger
	return cfg, nil
}

// readBridgeFile returns the bridge lines of path (one a line, '#' comments),
// or none if it does not exist.
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

// startTor starts the tor of this node (managed under DataDir/tor, the
// --testnet network's, or the one named by HYDRE_TOR_CONTROL) and waits for
// its bootstrap. With progress, it shows the bootstrap on stderr: a bar on a
// terminal, plain lines otherwise, JSON lines with --json.
func (g *globals) startTor(ctx context.Context, progress bool) (*onion.Tor, error) {
	cfg, err := g.torConfig(torOptionsFromEnv())
	if err != nil {
		return nil, err
	}
	var w io.Writer
	if progress {
		w = g.Stderr
	}
	return g.startTorWith(ctx, cfg, w)
}

// startTorWith starts tor with cfg and bootstraps it, showing progress on w
// when w is not nil.
func (g *globals) startTorWith(ctx context.Context, cfg onion.Config, w io.Writer) (*onion.Tor, error) {
	tor, err := onion.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	events := make(chan onion.BootstrapEvent, 16)
	var wg sync.WaitGroup
	if w != nil {
		p := newProgress(w, g.JSON)
		wg.Go(func() {
			for ev := range events {
				p.show(ev)
			}
			p.done()
		})
	} else {
		wg.Go(func() {
			for range events {
			}
		})
	}
	err = tor.Bootstrap(ctx, events)
	close(events)
	wg.Wait()
	if err != nil {
		tor.Close()
		return nil, err
	}
	return tor, nil
}

// progress shows bootstrap events.
type progress struct {
	w       io.Writer
	json    bool
	bar     bool
	shown   bool
	lastLen int
}

func newProgress(w io.Writer, asJSON bool) *progress {
	p := &progress{w: w, json: asJSON}
	if f, ok := w.(*os.File); ok && !asJSON {
		p.bar = term.IsTerminal(int(f.Fd()))
	}
	return p
}

func (p *progress) show(ev onion.BootstrapEvent) {
	switch {
	case p.json:
		b, _ := json.Marshal(struct {
			Event   string `json:"event"`
			Percent int    `json:"percent"`
			Tag     string `json:"tag"`
			Summary string `json:"summary"`
			Warning string `json:"warning,omitempty"`
		}{"bootstrap", ev.Percent, ev.Tag, ev.Summary, ev.Warning})
		fmt.Fprintf(p.w, "%s\n", b)
	case p.bar:
		const width = 30
		n := ev.Percent * width / 100
		line := fmt.Sprintf("\r[%s%s] %3d%% %s", strings.Repeat("#", n), strings.Repeat("-", width-n), ev.Percent, ev.Summary)
		pad := ""
		if len(line) < p.lastLen {
			pad = strings.Repeat(" ", p.lastLen-len(line))
		}
		p.lastLen = len(line)
		fmt.Fprint(p.w, line+pad)
		p.shown = true
	default:
		fmt.Fprintf(p.w, "bootstrap %3d%% %s: %s\n", ev.Percent, ev.Tag, ev.Summary)
	}
}

func (p *progress) done() {
	if p.bar && p.shown {
		fmt.Fprintln(p.w)
	}
}

func runTor(ctx context.Context, g *globals, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprintf(g.Stderr, "Usage: hydre tor status [options]\n\nStart (or attach to) tor, show its bootstrap and exit once it has bootstrapped.\nRun 'hydre tor status -h' for its options.\n")
		if len(args) == 0 {
			return usageError{"missing subcommand (status)"}
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "status":
		return runTorStatus(ctx, g, args[1:])
	default:
		return usageError{fmt.Sprintf("unknown subcommand %q (want status)", args[0])}
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, "; ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runTorStatus(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet(g, "tor status", "[--control ADDR [--cookie FILE]] [--bridge LINE]... [--timeout D]",
		"Start the node's tor (managed, under the data directory; or the --testnet network's), or attach\n"+
			"to a running tor through its ControlPort, show its bootstrap and print \"bootstrapped\".\n"+
			"A control-port password is read from $HYDRE_TOR_PASSWORD; bridges also from DATA-DIR/bridges.txt.")
	o := torOptionsFromEnv()
	var bridges multiFlag
	fs.StringVar(&o.ControlAddr, "control", o.ControlAddr, "attach to tor's ControlPort at `ADDR` (host:port) ($HYDRE_TOR_CONTROL)")
	fs.StringVar(&o.Cookie, "cookie", o.Cookie, "control-port cookie `FILE` when attaching ($HYDRE_TOR_COOKIE)")
	fs.Var(&bridges, "bridge", "bridge `LINE` for a managed tor, e.g. \"obfs4 IP:PORT FP cert=... iat-mode=0\" (repeatable)")
	fs.DurationVar(&o.Timeout, "timeout", onion.DefaultBootstrapTimeout, "give up bootstrapping after `D`")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	o.Bridges = bridges
	cfg, err := g.torConfig(o)
	if err != nil {
		return err
	}
	start := time.Now()
	tor, err := g.startTorWith(ctx, cfg, g.Stdout)
	if err != nil {
		return err
	}
	defer tor.Close()
	version, _ := tor.GetInfo("version")
	mode := "managed"
	if !tor.Managed() {
		mode = "attached"
	}
	if g.JSON {
		b, _ := json.Marshal(struct {
			Event      string  `json:"event"`
			TorVersion string  `json:"torVersion"`
			Mode       string  `json:"mode"`
			Seconds    float64 `json:"seconds"`
		}{"bootstrapped", version, mode, time.Since(start).Seconds()})
		fmt.Fprintf(g.Stdout, "%s\n", b)
		return nil
	}
	fmt.Fprintf(g.Stdout, "bootstrapped (tor %s, %s, %.1fs)\n", version, mode, time.Since(start).Seconds())
	return nil
}
