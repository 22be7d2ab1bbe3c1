// Package swarm is hydre's engine: it shares files by content ID and fetches
// them from many onion peers at once, verifying every chunk against the
// content's Merkle root, persisting progress so that a crash loses nothing
// verified, and re-sharing what it fetched.
//
// The Engine is the one API of every front end (command line, GUI, streaming
// server). It publishes progress as Events on a channel and never calls back
// into its callers.
//
// Inside, each content (content.go) has its own swarm (swarm.go: a goroutine
// that owns its picker, peer table and address book), each connection its
// own peer object with a reader and a writer goroutine (peer.go), and a
// store that writes plaintext (or, for a blind host, ciphertext) and
// commits verified chunks to a bbolt database only after they reach the
// disk (store.go, db.go). The swarm goroutine keeps its own figures and
// hands its content an immutable snapshot of them when they change; what a
// content shares with readers and uploaders is otherwise its record and
// data, replaced whole, and its set of verified chunks (chunks.go).
//
// The engine's files follow its concerns: engine.go and contents.go the
// API, addrbook.go the addresses a swarm knows and when to dial them again,
// dial.go and handshake.go connecting, peers.go the peer table, pex.go peer
// exchange, publish.go the onion service, schedule.go and picker.go what to
// ask of whom, playback.go the readers' steering, health.go rates and
// stalls, replace.go slow circuits, upload.go serving. The wire protocol of
// docs/protocol.md (Part II) is package swarm/wire, one message family per
// file; this package decides what to say and when.
//
// The package does not know Tor: it dials and listens through an
// onion.Transport, which tests replace with onion/memnet.
package swarm
