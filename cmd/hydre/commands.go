package main

// extraCommands lists the subcommands defined in the other files of this
// package, one line each.
func extraCommands() []command {
	return []command{
		{name: "tor", args: "status [options]", summary: "start or attach to tor and show its bootstrap", run: runTor},
		{name: "testnet", args: "up|down|status DIR", summary: "run a private Tor network on 127.0.0.1", run: runTestnet},
	}
}
