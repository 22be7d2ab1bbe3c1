// Package node is hydre's hidden bridge node: an onion service where hydre
// users send a magnet link and get back a hydre link per file of the
// torrent, shared by the node's swarm engine while the node leeches it with
// the discreet client of package bridge, or the torrent's data itself as it
// is leeched, checked piece by piece against the torrent's hashes.
//
// Both ends of the node's line protocol live here: the server (Node,
// node.go, handle.go), the node's side of a fetch (fetch.go: one leech per
// info-hash however many ask; live.go: each file shared while it arrives;
// reachable.go: the links held until the contents' onion services are up),
// its cache and limits (cache.go, quota.go), and the requester's side
// (Request and RequestRetry in request.go, Stream in stream.go, the answer
// in answer.go). Section (section.go) reads one file of a torrent's data for
// a player.
//
// The protocol, spoken over an onion service connection (docs/bridge.md):
//
//	user -> node: "hydre-bridge 1 <magnet>\n"            (one line, at most 4 KiB)
//	node -> user: "wait <verified> <size>\n"              (every 2 s while leeching; size 0 until known)
//	              then the answer, or "error <reason>\n", and the node closes.
//
// The answer is "link <hydre link>\n" for a single-file torrent; for a
// torrent of several files it is one "link <hydre link> <quoted path>\n" per
// file (its path in the torrent, Go-quoted) and then "end <count>\n".
//
// or, to stream the data while the node leeches it:
//
//	user -> node: "hydre-bridge 1 stream <first piece> <magnet>\n"
//	node -> user: "info <n>\n" and the n bytes of the info dictionary, then the
//	              torrent's data from the first piece to the end, then the
//	              answer or the "error" line.
//
// Package node is not the leecher (package bridge) and knows nothing of the
// front ends; docs/bridge.md explains the method and what still leaks.
package node
