// Package crypto implements hydre's sealed-content format and the hydre link.
//
// A shared file is cut into fixed-size chunks, each encrypted under a fresh
// per-share key, and a Merkle tree over the ciphertext chunks gives the
// content ID. Peers that hold only ciphertext (blind hosts, relays, bridge
// caches) can prove and verify every chunk against the content ID, but
// cannot read the data, its name or its type: those live in a sealed header
// that only the key opens. The key travels only inside the link.
//
// The package name shadows the standard library's crypto package, so callers
// import it under another name:
//
//	import hcrypto "github.com/hydre-p2p/hydre/crypto"
//
// It is pure code: it does no network or file-system access of its own and
// imports nothing else from hydre. The format is specified in
// docs/protocol.md (Part I); the files of this package follow that document:
// chunk.go (chunk encryption), hash.go, tree.go and proof.go (Merkle tree and
// proofs), header.go and name.go (sealed header, name rules), descriptor.go
// and contentid.go (descriptor and content ID), seal.go (sealing and serving),
// reader.go (random access), collection.go (a folder tree as one
// content, §13), link.go and onion.go (the link), treecodec.go
// (local tree storage), key.go and errors.go. Part III, rendezvous
// discovery, is rendezvous.go (the swarm secret, periods and slots),
// record.go (signed holder records) and rendezvous_msg.go (the Register, Ask
// and Answer messages a slot's host reads and writes).
//
// What it is not: it does no networking, storage or scheduling; it never
// logs, and no error it returns contains a key or a link.
package crypto
