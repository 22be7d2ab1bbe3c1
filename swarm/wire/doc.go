// Package wire is hydre's wire protocol, version 1, as docs/protocol.md
// (Part II) specifies it: what two nodes say to each other over an onion
// stream about one content. Each message is one frame,
//
//	frame = length:uint32 type:uint8 body[length-1]
//
// (integers big endian), and the files mirror the specification: frame.go
// the framing and its limits (W2), hello.go the handshake (W3), pieces.go
// availability and transfer (W4, W5), pex.go peer exchange (W6) and
// control.go the closing and keep-alive frames (W7).
//
// Every decoder bounds what it reads before it allocates, and refuses what
// does not decode exactly: ReadFrame checks a frame's length against its
// type's limit before reading the body, and PEX addresses are checked to be
// v3 onion addresses where the bytes are read, so a peer can never steer a
// dial off Tor.
//
// The package holds no state and knows nothing of contents or peers;
// package swarm, the engine, is its one user.
package wire
