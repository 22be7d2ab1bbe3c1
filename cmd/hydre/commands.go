package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
)

// extraCommands lists the subcommands defined in the other files of this
// package, one line each.
func extraCommands() []command {
	return []command{
		{name: "share", args: "[--private] FILE...", summary: "share files: print their links and serve them", run: runShare},
		{name: "get", args: "[-o DIR] [--bridge ONION] LINK|MAGNET", summary: "fetch a file by link from its peers, verified", run: runGet},
		{name: "stream", args: "[--player auto|mpv|ffplay|none] [-o DIR] LINK", summary: "play a file while it downloads: local address and player", run: runStream},
		{name: "ls", args: "[--links]", summary: "list this node's shares and downloads", run: runLs},
		{name: "daemon", args: "", summary: "run a headless node serving and resuming everything", run: runDaemon},
		{name: "tor", args: "status [options]", summary: "start or attach to tor and show its bootstrap", run: runTor},
		{name: "gui", args: "[--share FILE]... [--get LINK]... [LINK]", summary: "open the desktop app (the default)", run: runGUI},
		{name: "bridge", args: "fetch|serve|request|status ...", summary: "discreet BitTorrent: leech, run or use a hidden bridge node", run: runBridge},
		{name: "testnet", args: "up|down|status|delays DIR", summary: "run a private Tor network on 127.0.0.1", run: runTestnet},
	}
}

// findCommand returns the command of list called name.
func findCommand(list []command, name string) (command, bool) {
	for _, c := range list {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// group is a command made of subcommands ("hydre bridge fetch").
type group struct {
	name     string // "bridge"
	synopsis string // after the name in the usage line: "fetch|serve [options]"
	intro    string // what the subcommands do, shown by -h
	subs     []command
}

// run is the one subcommand dispatcher: it runs the subcommand named by
// args[0] with the rest, and prints the group's usage for -h or no
// subcommand.
func (gr group) run(ctx context.Context, g *globals, args []string) error {
	var names []string
	for _, c := range gr.subs {
		names = append(names, c.name)
	}
	want := names[0]
	if n := len(names); n > 1 {
		want = strings.Join(names[:n-1], ", ") + " or " + names[n-1]
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprintf(g.Stderr, "Usage: hydre %s %s\n\n%s\nRun 'hydre %s <subcommand> -h' for its options.\n",
			gr.name, gr.synopsis, gr.intro, gr.name)
		if len(args) == 0 {
			return usageError{"missing subcommand (" + want + ")"}
		}
		return flag.ErrHelp
	}
	c, ok := findCommand(gr.subs, args[0])
	if !ok {
		return usageError{fmt.Sprintf("unknown subcommand %q (want %s)", args[0], want)}
	}
	return c.run(ctx, g, args[1:])
}
