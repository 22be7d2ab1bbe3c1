// Command hydre shares files by hash over Tor onion services.
//
// With no arguments it opens the desktop app; each subcommand is a front end
// to the same engine (package swarm). Run "hydre help" for the list.
package main

import (
	_ "github.com/hydre-p2p/hydre/cmd/hydre/internal/clocale" // before fyne: see its doc

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// globals holds the options every subcommand shares, parsed once in main and
// passed down; nothing reads configuration from anywhere else.
type globals struct {
	DataDir string // node state: keys, store, managed tor
	Testnet string // directory of a private Tor network to join, or ""
	JSON    bool   // machine-readable output
	// TorBridges is --tor-bridges: Tor Browser's built-in bridges for a
	// managed tor ("obfs4", "snowflake"), "none", or "" for the default
	// (none on the command line, the Settings' choice in the app).
	TorBridges bridgeChoiceFlag
	// StuckAfter is how long tor's bootstrap may stand still before the
	// command or the app says that it cannot reach the network; 0 means
	// defaultStuckAfter ('tor status --stuck-after' sets its own).
	StuckAfter time.Duration
	Env        environment
	Logger     *slog.Logger
	Stdout     io.Writer
	Stderr     io.Writer
}

// flagError is a command line its flag set refused; the flag package has
// already printed why and the usage. It exits 2.
type flagError struct{ err error }

func (e flagError) Error() string { return e.err.Error() }
func (e flagError) Unwrap() error { return e.err }

// usageError marks errors caused by the command line itself; they exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hydre", flag.ContinueOnError)
	fs.SetOutput(stderr)
	g := &globals{Stdout: stdout, Stderr: stderr, Env: readEnvironment(os.Getenv)}
	fs.StringVar(&g.DataDir, "data-dir", g.Env.Home, "node state directory (default: $HYDRE_HOME or the user config dir)")
	fs.StringVar(&g.Testnet, "testnet", g.Env.Testnet, "join the private Tor network in `DIR` (see 'hydre testnet up')")
	fs.BoolVar(&g.JSON, "json", false, "print machine-readable JSON")
	fs.Var(&g.TorBridges, "tor-bridges", "reach Tor through Tor Browser's built-in `BRIDGES`: obfs4, snowflake or none")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn or error")
	fs.Usage = func() { printUsage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	// Global options are accepted after the command too ("hydre get LINK
	// --data-dir X"), as people type them.
	globalArgs, rest := splitGlobals(fs, fs.Args())
	if err := fs.Parse(globalArgs); err != nil {
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "hydre: bad --log-level %q\n", *logLevel)
		return 2
	}
	g.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if g.DataDir == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			fmt.Fprintf(stderr, "hydre: no data directory: %v (set --data-dir or HYDRE_HOME)\n", err)
			return 1
		}
		g.DataDir = filepath.Join(dir, "hydre")
	}
	if g.Testnet != "" {
		abs, err := filepath.Abs(g.Testnet)
		if err != nil {
			fmt.Fprintf(stderr, "hydre: --testnet: %v\n", err)
			return 2
		}
		g.Testnet = abs
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	name := ""
	if len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	}
	if name == "help" {
		if len(rest) == 0 {
			printUsage(stdout, fs)
			return 0
		}
		name, rest = rest[0], append(rest[1:], "-h") // "help bridge fetch" too
	}
	if name == "" {
		name = "gui"
	}
	c, ok := findCommand(commands(), name)
	if !ok {
		if g.JSON {
			fmt.Fprintf(stdout, "%s\n", jsonError(name, usageError{"unknown command"}, true))
			return 2
		}
		fmt.Fprintf(stderr, "hydre: unknown command %q\nRun 'hydre help' for the list.\n", name)
		return 2
	}
	err := c.exec(ctx, g, name, rest)
	if g.JSON && err != nil && !errors.Is(err, flag.ErrHelp) && !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
		usage := errors.As(err, new(flagError)) || errors.As(err, new(usageError))
		fmt.Fprintf(stdout, "%s\n", jsonError(name, err, usage))
		if usage {
			return 2
		}
		return 1
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(flagError)): // the flag package has said what is wrong
		return 2
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "hydre %s: %v\nRun 'hydre help %s' for usage.\n", name, err, name)
		return 2
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return 130
	default:
		fmt.Fprintf(stderr, "hydre %s: %v\n", name, err)
		return 1
	}
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "hydre shares files by hash over Tor onion services.\n\n")
	fmt.Fprintf(w, "Usage: hydre [global options] <command> [arguments]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nWith no command, hydre opens the desktop app.\n\nGlobal options:\n")
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// flagSet returns the flag set of c, called by path ("get", "bridge
// fetch"), its usage made of c's synopsis and help.
func (c command) flagSet(g *globals, path string) flags {
	fs := flag.NewFlagSet("hydre "+path, flag.ContinueOnError)
	fs.SetOutput(g.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(g.Stderr, "Usage: hydre %s %s\n\n%s\n", path, c.args, c.help)
		var has bool
		fs.VisitAll(func(*flag.Flag) { has = true })
		if has {
			fmt.Fprintf(g.Stderr, "\nOptions:\n")
			fs.PrintDefaults()
		}
	}
	return flags{FlagSet: fs, c: c}
}

func runVersion(ctx context.Context, g *globals, fs flags, args []string) error {
	if err := fs.parse(args); err != nil {
		return err
	}
	if g.JSON {
		fmt.Fprintf(g.Stdout, "{\"version\":%q}\n", version)
		return nil
	}
	fmt.Fprintf(g.Stdout, "hydre %s\n", version)
	return nil
}

// parseArgs parses args with fs, accepting options after the positional
// arguments too ("hydre get LINK -o DIR"), as people type them. A lone "--"
// ends the options: what follows is positional even if it starts with "-".
func parseArgs(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return flagError{err}
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Re-parse nothing but make fs.Args() return the positional arguments.
	return fs.Parse(append([]string{"--"}, positional...))
}

// splitGlobals takes the global options (those defined in global) out of
// args, which follow the command's name, up to a lone "--". It returns them
// and what is left, in order.
func splitGlobals(global *flag.FlagSet, args []string) (found, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return found, append(rest, args[i:]...)
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := global.Lookup(name)
		if !strings.HasPrefix(a, "-") || a == "-" || f == nil || strings.HasPrefix(a, "---") {
			rest = append(rest, a)
			continue
		}
		found = append(found, a)
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(ok && b.IsBoolFlag()) && i+1 < len(args) {
			i++
			found = append(found, args[i])
		}
	}
	return found, rest
}
