// Package swarm is hydre's engine: it shares files by content ID and fetches
// them from many onion peers at once, verifying every chunk against the
// content's Merkle root, persisting progress so that a crash loses nothing
// verified, and re-sharing what it fetched.
//
// The Engine is the one API of every front end (command line, GUI, streaming
// server). It publishes progress as Events on a channel and never calls back
// into its callers.
//
// Inside, each content has its own swarm (a goroutine that owns its picker and
// peer table), each connection its own peer object with a reader and a writer
// goroutine, and a store per content that writes plaintext (or, for a blind
// host, ciphertext) and commits verified chunks to a bbolt database only after
// they reach the disk. The wire protocol of docs/protocol.md (Part II) is
// package swarm/wire, one message family per file; this package decides
// what to say and when.
//
// The package does not know Tor: it dials and listens through an
// onion.Transport, which tests replace with onion/memnet.
package swarm
