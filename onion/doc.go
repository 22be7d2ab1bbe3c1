// Package onion is hydre's network layer: Tor onion services as listeners
// and isolated dials to them, through the bine controller library.
//
// Transport is the small interface the engine uses. *Tor implements it with
// a managed tor process (or one reached through its ControlPort); the
// in-memory onion/memnet implements it for tests. Dial accepts only v3
// ".onion:port" addresses, validated by ParseAddress, so nothing in this
// layer resolves names or reaches the clear net.
//
// The package is not an anonymity toolkit: it adds to bine only what hydre
// needs (keys on disk, isolation tags, client authorization, the onion-only
// rule) and leaves tor's configuration to tor.
package onion
