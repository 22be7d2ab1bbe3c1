package crypto

import "errors"

// Sentinel errors callers branch on. Errors of this package wrap them with
// context; none ever carries a key or a link.
var (
	// ErrBadChunk reports a chunk that does not match the content ID: wrong
	// length, a leaf that differs from the known one, or a chunk and proof
	// that do not hash to the root. Decryption failures wrap it too.
	ErrBadChunk = errors.New("bad chunk")
	// ErrBadProof reports a malformed proof, or one that contradicts nodes
	// the tree already knows.
	ErrBadProof = errors.New("bad proof")
	// ErrBadLink reports a hydre link or content ID text that does not parse.
	ErrBadLink = errors.New("bad link")
	// ErrBadOnion reports text that is not a v3 onion address with a port
	// ("<56 characters>.onion:port"); see ParseOnion.
	ErrBadOnion = errors.New("bad onion address")
	// ErrOnionChecksum reports a v3-shaped onion name whose checksum or
	// version byte is wrong, most often a typo; errors that wrap it wrap
	// ErrBadOnion too.
	ErrOnionChecksum = errors.New("checksum or version byte does not match (mistyped?)")
	// ErrBadDescriptor reports a descriptor that does not decode or does not
	// match its content ID.
	ErrBadDescriptor = errors.New("bad descriptor")
	// ErrBadHeader reports a sealed header that does not open (wrong key,
	// tampering) or does not decode.
	ErrBadHeader = errors.New("bad header")
	// ErrBadTree reports a persisted tree that does not decode or does not
	// match its descriptor.
	ErrBadTree = errors.New("bad tree")
	// ErrBadRendezvous reports a rendezvous message that does not decode, a
	// schedule or margin slots cannot be derived for, or a missing swarm
	// secret.
	ErrBadRendezvous = errors.New("bad rendezvous")
	// ErrBadRecord reports a holder record that does not verify: a bad
	// signature, another content or swarm, an expiry past or too far ahead.
	ErrBadRecord = errors.New("bad holder record")
	// ErrNoChunk reports a request for a chunk the tree does not hold.
	ErrNoChunk = errors.New("chunk not held")
)
