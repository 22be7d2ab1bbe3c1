// Package stream plays contents while they download: a small HTTP server on
// the loopback interface serves each content of a swarm.Engine, read through
// Engine.Open (reads wait for verified bytes and move the piece picker to
// where the player reads), with Range and If-Range, so that a media player
// can start at once and seek anywhere; and LaunchPlayer starts mpv or
// ffplay on such an address, confined to it.
//
// The server never binds a non-loopback address. Each content is served at
// an address holding a random token (128 bits), handed out by URL; any other
// path is 404, and a request whose Host header is not the server's own
// loopback address is refused, so that a web page cannot reach the server
// through DNS rebinding. Media types come from the sealed header but only
// audio, video and image types (and a few inert ones) are served as such;
// everything else is application/octet-stream, with nosniff and a sandbox
// policy, so a hostile sharer cannot make the server serve a web page.
//
// A player follows playlists and references to other addresses, outside
// Tor, so two layers keep a sharer from learning a viewer's address (see
// docs/security.md): the server sniffs each content's first bytes and
// refuses playlists and other reference formats (sniff.go, Check), and
// LaunchPlayer gives the player no route but the server (its proxy, which
// answers for its own addresses only), no protocol but HTTP and no
// references to follow (player.go). VLC and the desktop's default handler
// cannot be held to that and are not started.
//
// It is not a general web server and keeps no state on disk.
package stream
