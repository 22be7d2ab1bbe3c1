// Package testkit is hydre's kit for tests: the private Tor network of
// package testnet (one per test binary, tors that join it and close with the
// test, a skip when the tor program is missing), a logger that writes
// through the test's log, TestMain, a guard against the global logger,
// polling with a deadline, random files, and the conformance suite every
// onion.Transport passes.
//
// Only tests import it. It lives apart from testnet so that the hydre
// binary, which imports testnet for --testnet, does not link package
// testing. testnet's own tests cannot import it (it imports testnet).
package testkit
