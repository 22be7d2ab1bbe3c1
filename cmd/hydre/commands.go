package main

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
		{name: "testnet", args: "up|down|status DIR", summary: "run a private Tor network on 127.0.0.1", run: runTestnet},
	}
}
