package main

// extraCommands lists the subcommands defined in the other files of this
// package, one line each.
func extraCommands() []command {
	return []command{}
}
