package bridge

import (
	"github.com/anacrolix/torrent"
	pp "github.com/anacrolix/torrent/peer_protocol"
)

// maxRequestWindow bounds the requests outstanding at one peer whatever
// its reqq says: 511 blocks of 16 KiB (8 MiB in flight), all that
// Transmission 3.00 takes (it refuses the 512th). The window, not the
// link, is what limits a leech from Transmission 3.00: it sends piece
// data only at its bandwidth pulse, every 500 ms, and then all that is
// requested, while anacrolix asks for its next window only once the whole
// last one has arrived; so one window arrives per 500 ms, 16 MiB/s at 511
// (8 MiB/s at the 250 this was before). Measured in docs/bridge.md,
// "Finishes downloads".
const maxRequestWindow = 511

// requestWindow is the number of outstanding requests the library may
// keep at a peer whose extended handshake said reqq (0: none said).
//
// A peer's reqq is not a number it accepts but one it refuses at:
// Transmission 3.00 sends reqq 512 and rejects a request that would make
// 512 pending (peer-msgs.c: pendingReqsToClient + 1 >= REQQ), so a client
// that fills the window to reqq always has one request refused. anacrolix
// v1.61.0 does fill it (its window doubles each update up to reqq: 1023
// requests sent in all, 1,022 blocks answered, 16,744,448 bytes), then
// collapses the window to 1 on an update that adds nothing, and adds no
// request on a reject; Transmission never chokes us, so nothing moves
// again (docs/bridge.md, "Finishes downloads"). Keeping one below the
// peer's reqq, and at most maxRequestWindow, keeps every request one the
// peer answers.
func requestWindow(reqq int) int {
	if reqq <= 0 {
		return 0 // the library keeps its default (250)
	}
	return max(1, min(reqq-1, maxRequestWindow))
}

// limitPeerRequests is the library's extended-handshake callback: it runs
// before the library reads reqq, so the library's window is ours.
func limitPeerRequests(_ *torrent.PeerConn, hs *pp.ExtendedHandshakeMessage) {
	hs.Reqq = requestWindow(hs.Reqq)
}
