package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/hydre-p2p/hydre/gui"
)

// command is one command of hydre: its name, the synopsis of its
// arguments, its line in 'hydre help' and the text its -h prints under the
// usage line. run receives its flag set, made from them, and the
// arguments after its name; a command made of subcommands ("hydre bridge
// fetch") has subs instead.
type command struct {
	name    string
	args    string // usage synopsis after the name
	summary string // its line in 'hydre help' (top-level commands)
	help    string
	run     func(ctx context.Context, g *globals, fs flags, args []string) error
	subs    []command
	// operands is what it takes after its options, which flags.parse
	// checks; nil: run checks them itself.
	operands *operands
}

// operands is what a command takes after its options: from min to max of
// what (max < 0: no limit), the word its usage error says.
type operands struct {
	min, max int
	what     string
}

var noOperands = &operands{}

func exactlyOne(what string) *operands { return &operands{min: 1, max: 1, what: what} }
func atLeastOne(what string) *operands { return &operands{min: 1, max: -1, what: what} }

// check says what is wrong with the operands got, or nil.
func (o *operands) check(got []string) error {
	switch {
	case o == nil:
		return nil
	case o.max == 0 && len(got) > 0:
		return usageError{"unexpected arguments: " + strings.Join(got, " ")}
	case o.min == 1 && o.max == 1 && len(got) != 1:
		return usageError{"want exactly one " + o.what}
	case len(got) < o.min:
		return usageError{"want at least one " + o.what}
	}
	return nil
}

// flags is the flag set of a command (command.flagSet).
type flags struct {
	*flag.FlagSet
	c command
}

// parse parses args with parseArgs, then checks the operands left.
func (f flags) parse(args []string) error {
	if err := parseArgs(f.FlagSet, args); err != nil {
		return err
	}
	return f.c.operands.check(f.Args())
}

// manageHelp ends the help of pause, resume and rm.
const manageHelp = "\n" +
	"Contents are named by their ID (or its beginning) as 'hydre ls' shows it, or by their link.\n" +
	"This works on a stopped node: while 'hydre daemon' or the app runs on the data directory,\n" +
	"use the app, or stop the daemon first."

// commands lists every command of hydre and its subcommands, in the order
// 'hydre help' shows them, each with its synopsis and help: the one place
// they are written (its flag set and the dispatcher take them from here).
func commands() []command {
	return []command{
		{name: "bridge", args: "fetch|serve|request|status [options]", summary: "discreet BitTorrent: leech, run or use a hidden bridge node",
			help: "fetch leeches a magnet link or .torrent file with the discreet BitTorrent client:\n" +
				"it announces nowhere, uploads nothing, answers no one and avoids spy peers.\n" +
				"serve runs a hidden bridge node: an onion service that leeches magnets for hydre\n" +
				"users and answers with a hydre link. request asks such a node for a magnet.\n" +
				"status shows the counters of the fetch or node running on this data directory.\n" +
				"fetch exposes this computer's IP address to BitTorrent DHT nodes and peers; through a\n" +
				"bridge node ('hydre get MAGNET --bridge ONION') only the node's address is seen.",
			subs: []command{
				{name: "fetch", args: "[-o DIR] [options] [--stream [--player P]] MAGNET|FILE.torrent", run: runBridgeFetch, operands: exactlyOne("magnet link or .torrent file"),
					help: "Leech a torrent discreetly into DIR and print where it is.\n" +
						"With --stream, its (largest) file plays while it arrives: a local address is printed, a\n" +
						"player started on it, and both are served until interrupted.\n" +
						"This computer talks to BitTorrent itself: the DHT nodes asked for peers and the peers it\n" +
						"downloads from see its IP address (and that it wants this torrent). To stay hidden, ask a\n" +
						"hidden bridge node instead: 'hydre get MAGNET --bridge ONION'."},
				{name: "serve", args: "[options]", run: runBridgeServe, operands: noOperands,
					help: "Run a hidden bridge node: an onion service (its address is printed) that leeches the\n" +
						"magnet links hydre users send it with the discreet client, and answers each with a\n" +
						"hydre link per file of the torrent, shared by this node. Users ask with\n" +
						"'hydre get MAGNET --bridge ADDRESS' or 'hydre bridge request ADDRESS MAGNET'."},
				{name: "request", args: "[--stream [--player P | -o FILE]] ADDRESS MAGNET", run: runBridgeRequest,
					help: "Ask the hidden bridge node at ADDRESS (\"<56 chars>.onion:port\") to fetch MAGNET, and print\n" +
						"the hydre link it answers with ('hydre get LINK' then downloads it over hydre); for a\n" +
						"torrent of several files, one line per file: its link, a tab, its path in the torrent.\n" +
						"With --stream the data comes back while the node leeches it, each piece checked\n" +
						"against the torrent's hashes, written to -o FILE or to stdout (not to a player: one\n" +
						"reading stdin follows a playlist outside Tor; --player starts one kept to hydre);\n" +
						"the link is then printed on stderr at the end. With --stream --player P it is served\n" +
						"instead on a local address (printed) that a player, started on it, can seek in."},
				{name: "status", args: "", run: runBridgeStatus, operands: noOperands,
					help: "Show the counters of the 'hydre bridge fetch' running on this data directory."},
			}},
		{name: "daemon", args: "[--single-identity] [-o DIR]", summary: "run a headless node serving and resuming everything", run: runDaemon, operands: noOperands,
			help: "Run a headless node: serve every share and resume every download of the data directory,\n" +
				"until interrupted. Progress goes to stderr (JSON lines on stdout with --json)."},
		{name: "get", args: "[-o DIR] [--file PATH]... [--seed] [--no-reshare] [--circuits N] [--bridge ONION] [--stream] LINK|MAGNET", summary: "fetch a file by link from its peers, verified", run: runGet, operands: exactlyOne("LINK"),
			help: "Fetch the file of a hydre link from every peer that has it, verifying every chunk, into DIR.\n" +
				"A link to several files (a shared folder) is saved as a folder of its name under DIR, its\n" +
				"files listed as each completes; with --file, only the files (or folders) named are fetched.\n" +
				"With --bridge, a magnet link is fetched by that hidden bridge node, which never shows\n" +
				"your address to BitTorrent, and handed over as a hydre link: a torrent of several files\n" +
				"comes as one link to all of them, saved as its folder under DIR.\n" +
				"With --stream, a local address (http://127.0.0.1:PORT/TOKEN/NAME) is printed beside the\n" +
				"progress bar: any media player can play and seek in it while the file arrives, and it\n" +
				"is served, with the file, until interrupted.\n" +
				"Exits 0 only once the whole file is verified. An interrupted download resumes where it\n" +
				"stopped on the next 'hydre get' of the same link (or under 'hydre daemon')."},
		{name: "gui", args: "[--share FILE]... [--get LINK]... [LINK]", summary: "open the desktop app (the default)", run: runGUI,
			help: "Open the desktop app. A hydre: link given as argument (as the desktop does when one is\n" +
				"clicked) is downloaded once Tor is up. Settings are kept in DATA-DIR/" + gui.SettingsFile + "."},
		{name: "history", args: "[--clear]", summary: "list past transfers (finished, failed, removed, stopped)", run: runHistory, operands: noOperands,
			help: "List this node's past transfers, oldest first: downloads finished or failed, contents\n" +
				"removed, shares stopped on their own. They are kept in the data directory (readable by\n" +
				"you only) after the contents are gone, without their links, until --clear."},
		{name: "limit", args: "[--up RATE] [--down RATE] ID|LINK...", summary: "set or show the rate limits of downloads or shares", run: runLimit, operands: atLeastOne("ID or LINK"),
			help: "Set the rate limits of contents of this node, kept until changed (0 lifts one); without\n" +
				"--up or --down, show them. The node's own limits hold beside them: --up-rate and\n" +
				"--down-rate of share, get and daemon, or the app's Settings.\n" +
				"Contents are named by their ID (or its beginning) as 'hydre ls' shows it, or by their link.\n" +
				"This works on a stopped node: while 'hydre daemon' or the app runs on the data directory,\n" +
				"use the app, or stop the daemon first."},
		{name: "ls", args: "[--links]", summary: "list this node's shares and downloads", run: runLs, operands: noOperands,
			help: "List the node's shares and downloads (read from its state; no network), and under a\n" +
				"collection (several files as one link) each of its files: the PATH that 'get --file'\n" +
				"and 'stream --file' take."},
		{name: "pause", args: "ID|LINK...", summary: "pause downloads or shares (until 'hydre resume')", run: runPause, operands: atLeastOne("ID or LINK"),
			help: "Pause contents of this node: they are neither fetched nor served until\n'hydre resume'." + manageHelp},
		{name: "resume", args: "ID|LINK...", summary: "resume paused downloads or shares", run: runResume, operands: atLeastOne("ID or LINK"),
			help: "Resume paused contents of this node: the next 'hydre daemon', the app, or a\n'hydre get' of the link fetches or serves them again." + manageHelp},
		{name: "rm", args: "[--delete] ID|LINK...", summary: "forget downloads or shares (--delete: their downloaded files too)", run: runRm, operands: atLeastOne("ID or LINK"),
			help: "Forget contents of this node. With --delete, a download's file (partial or\ncomplete) is deleted too; a shared file never is." + manageHelp},
		{name: "share", args: "[--private] [--once] [--stop-after D] [--single-identity] [--each] FILE|DIR...", summary: "share files and folders: print one link and serve them", run: runShare, operands: atLeastOne("FILE"),
			help: "Share files and folders: print one link for all of them (give it to whoever should get them)\n" +
				"and serve them until interrupted. A folder is shared with everything under it, its\n" +
				"folders kept (symbolic links are skipped); one FILE alone is shared as a file. With\n" +
				"--each, every FILE gets its own link. Shares are remembered: 'hydre daemon' serves\n" +
				"them again later. With --once or --stop-after, sharing stops on its own (the command\n" +
				"then exits 0): after the first complete download of each link, or after the time\n" +
				"given; 'hydre resume' or the same 'hydre share' shares it again."},
		{name: "stream", args: "[--player auto|mpv|ffplay|none] [--addr HOST:PORT] [-o DIR] [--file PATH] LINK", summary: "play a file while it downloads: local address and player", run: runStream, operands: exactlyOne("LINK"),
			help: "Fetch the file of a hydre link and play it while it arrives: print a local address\n" +
				"(http://127.0.0.1:PORT/TOKEN/NAME) that any media player can open and seek in, start\n" +
				"a player on it, and serve it until interrupted. The file is saved into DIR as with\n" +
				"'hydre get'. The address holds a random token: whoever has it can watch while it runs.\n" +
				"The player is kept to that address: it can reach nothing else, and a playlist (which\n" +
				"would send it to other addresses, outside Tor) is refused. For a link of several files,\n" +
				"--file names the one to play: only it is fetched."},
		{name: "testnet", args: "up|down|status|delays [options] DIR", summary: "run a private Tor network on 127.0.0.1",
			help: "Run a private Tor network on 127.0.0.1 (3 directory authorities and a few relays,\n" +
				"made from the system's tor) in DIR; 'hydre --testnet DIR <command>' then uses it.",
			subs: []command{
				{name: "up", args: "[--relays N] [--bandwidth RATE [--limit-middles-only [--vanguards N]]] [--latency D [--jitter J]] DIR", run: runTestnetUp, operands: exactlyOne("directory"),
					help: "Start a private Tor network in DIR, in the background, and return once a fresh onion\n" +
						"service is reachable through it. Stop it with 'hydre testnet down DIR'."},
				{name: "down", args: "DIR", run: runTestnetDown, operands: exactlyOne("directory"),
					help: "Stop every tor process of the private network in DIR."},
				{name: "status", args: "DIR", run: runTestnetStatus, operands: exactlyOne("directory"),
					help: "Say whether the private network in DIR is running."},
				{name: "delays", args: "DIR", run: runTestnetDelays, operands: exactlyOne("directory"),
					help: "Serve the delay proxies of the private network in DIR (started by 'hydre testnet up --latency')."},
			}},
		{name: "tor", args: "status [options]", summary: "start or attach to tor and show its bootstrap",
			help: "Start (or attach to) tor, show its bootstrap and exit once it has bootstrapped.",
			subs: []command{
				{name: "status", args: "[--control ADDR [--cookie FILE]] [--bridge LINE]... [--timeout D] [--stuck-after D]", run: runTorStatus, operands: noOperands,
					help: "Start the node's tor (managed, under the data directory; or the --testnet network's), or attach\n" +
						"to a running tor through its ControlPort, show its bootstrap and print \"bootstrapped\".\n" +
						"A control-port password is read from $HYDRE_TOR_PASSWORD; bridges also from DATA-DIR/bridges.txt."},
			}},
		{name: "version", args: "", summary: "print the version", run: runVersion, operands: noOperands,
			help: "Print the version of hydre."},
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

// findPath returns the command at path: names separated by spaces, a
// subcommand after its command ("bridge fetch").
func findPath(path string) (command, bool) {
	var c command
	list, ok := commands(), false
	for _, name := range strings.Fields(path) {
		if c, ok = findCommand(list, name); !ok {
			return command{}, false
		}
		list = c.subs
	}
	return c, ok
}

// runCommand runs the command at path with args.
func runCommand(ctx context.Context, g *globals, path string, args []string) error {
	c, ok := findPath(path)
	if !ok {
		return usageError{fmt.Sprintf("unknown command %q", path)}
	}
	return c.exec(ctx, g, path, args)
}

// exec runs the command, called by path, with args. For a command made of
// subcommands it is the one dispatcher: it runs the subcommand named by
// args[0] with the rest, and prints the command's usage for -h or no
// subcommand.
func (c command) exec(ctx context.Context, g *globals, path string, args []string) error {
	if len(c.subs) == 0 {
		return c.run(ctx, g, c.flagSet(g, path), args)
	}
	var names []string
	for _, s := range c.subs {
		names = append(names, s.name)
	}
	want := names[0]
	if n := len(names); n > 1 {
		want = strings.Join(names[:n-1], ", ") + " or " + names[n-1]
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprintf(g.Stderr, "Usage: hydre %s %s\n\n%s\nRun 'hydre %s <subcommand> -h' for its options.\n",
			path, c.args, c.help, path)
		if len(args) == 0 {
			return usageError{"missing subcommand (" + want + ")"}
		}
		return flag.ErrHelp
	}
	sub, ok := findCommand(c.subs, args[0])
	if !ok {
		return usageError{fmt.Sprintf("unknown subcommand %q (want %s)", args[0], want)}
	}
	return sub.exec(ctx, g, path+" "+sub.name, args[1:])
}
