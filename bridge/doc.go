// Package bridge is hydre's discreet BitTorrent leecher: a client that
// fetches a torrent from the BitTorrent swarm while announcing itself nowhere,
// uploading nothing, answering no one and advertising nothing it holds.
//
// It drives github.com/anacrolix/torrent with every listener, tracker,
// webseed, PEX, UPnP and DHT feature of the library switched off, and adds
// what the library cannot be told to do:
//
//   - peers are dialed through an explicit dialer (no TCP or uTP listener
//     exists) whose connections pass through a wire filter (wire.go) that
//     drops Bitfield, Have, HaveAll, Piece, Suggest and Unchoke messages,
//     answers ut_metadata requests with rejects and rewrites the extended
//     handshake to the chosen client fingerprint (fingerprint.go);
//   - the DHT is a get_peers-only look-up run by this package (lookup.go)
//     over a UDP socket filter (dhtconn.go) that drops every inbound query
//     before the DHT code sees it and every outbound message that is not a
//     get_peers query;
//   - a spy finder (spy.go) walks decoy info-hashes first and keeps the
//     nodes and peers it catches in a refreshable blocklist (blocklist.go);
//   - a stall watchdog drops and redials a peer that stops sending;
//   - a torrent's metadata is checked before anything is leeched
//     (infocheck.go, storage.go, metadata.go: ErrBadTorrent), its names are
//     written as safe, bounded paths (names.go), its size must fit
//     (space.go), and a write error gives the torrent up instead of
//     reaching the library's panic;
//   - the request window stays one below each peer's reqq (window.go), so
//     a Transmission seeder never stalls.
//
// Everything is counted at the socket level (Counters), not from the
// library's own statistics; the discretion counters must stay at zero.
//
// The hidden bridge node, which answers hydre users with links to what this
// client leeches, is package bridge/node; it sits on this package through
// Config.Admit and the Torrent methods, and this package imports nothing of
// hydre's.
//
// Front ends and the engine read a Torrent's data through Torrent.NewReader
// as it arrives. docs/bridge.md explains the method, what each property
// rests on, and what still leaks.
package bridge
