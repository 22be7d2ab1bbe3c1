// Package testnet runs a private Tor network on 127.0.0.1 from the system's
// tor and tor-gencert: three directory authorities (also relays) and a few
// plain relays, with TestingTorNetwork and short voting intervals so a client
// bootstraps in seconds, and nothing that knows of the public network (own
// DirAuthority lines, no fallback directories, exits closed).
//
// Start brings a network up in a directory and returns once a fresh onion
// service answers through it; Open reaches one started by another process
// ("hydre testnet up DIR"); TorConfig gives the onion.Config of a client or
// service that joins it. Package testkit gives tests one network per test
// binary and tors that close with the test. Options.Latency puts a delay
// proxy in front of every relay's ORPort, so that every link between tors
// has a real network's latency.
//
// It is test and demo tooling: the release binary uses it only when told to
// with --testnet.
package testnet
