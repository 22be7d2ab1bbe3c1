package bridge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// BitTorrent peer wire message types the filter looks at (BEP 3, 6, 10).
const (
	msgChoke         = 0
	msgUnchoke       = 1
	msgInterested    = 2
	msgNotInterested = 3
	msgHave          = 4
	msgBitfield      = 5
	msgRequest       = 6
	msgPiece         = 7
	msgCancel        = 8
	msgPort          = 9
	msgSuggest       = 13
	msgHaveAll       = 14
	msgHaveNone      = 15
	msgReject        = 16
	msgAllowedFast   = 17
	msgExtended      = 20
)

const (
	handshakeLen = 68      // pstrlen, "BitTorrent protocol", reserved, info-hash, peer ID
	maxOutMsg    = 4 << 20 // larger than any bitfield of a sane torrent
	inPrefixMax  = 1 << 16 // longest inbound payload kept for parsing (extended handshake)
)

var errMsgTooLong = errors.New("peer message too long")

// wireConn wraps one outgoing peer connection. Outgoing bytes are parsed into
// messages and only those that reveal nothing of what we hold are written;
// incoming bytes are parsed (never changed) to count piece data and to watch
// for stalls. The library writes through Write and reads through Read, so
// nothing it sends can bypass the filter.
type wireConn struct {
	net.Conn
	w  *wireStats
	fp Fingerprint

	wmu     sync.Mutex // serialises Write (out state below)
	outHS   int        // handshake bytes still to pass through
	outBuf  []byte
	ourFast bool
	libInfo bool // the library's extended handshake said it holds the metadata

	in     inScanner // only touched by Read
	rawOut inScanner // what reached the socket, under wmu

	peerFast     atomic.Bool
	peerMetaID   atomic.Uint32 // peer's ut_metadata extension number, 0 if none
	libMetaID    atomic.Uint32 // the library's ut_metadata number (what peers' messages carry once read)
	infoHash     [20]byte      // from the peer's handshake, set before any message is read
	onMetadata   func(ih [20]byte, payload []byte)
	peerPexID    atomic.Uint32
	peerPunchID  atomic.Uint32
	interested   atomic.Bool
	peerChoking  atomic.Bool
	lastProgress atomic.Int64 // unix nanos of the last sign of life that counts
	closed       atomic.Bool
	onClose      func(*wireConn)
}

// wireStats are the counters one wire filter updates; shared by every
// connection of a Client.
type wireStats struct {
	bytesIn, bytesOut       atomic.Int64
	pieceBytesIn            atomic.Int64 // piece payload received
	pieceBytesOut           atomic.Int64 // piece payload written to a socket: must stay 0
	advertsOut              atomic.Int64 // Bitfield/Have/HaveAll/Suggest written to a socket: must stay 0
	suppressed              atomic.Int64 // messages dropped or rewritten
	rejectsIn               atomic.Int64
	trace                   func(remote string, dir byte, typ byte) // test hook: messages as they pass the filter
	metadataAnswersRejected atomic.Int64
}

func newWireConn(c net.Conn, w *wireStats, fp Fingerprint) *wireConn {
	wc := &wireConn{Conn: c, w: w, fp: fp, outHS: handshakeLen}
	wc.in.hsLeft = handshakeLen
	wc.rawOut.hsLeft = handshakeLen
	wc.peerChoking.Store(true)
	wc.lastProgress.Store(time.Now().UnixNano())
	return wc
}

// Write filters p and writes what is left. It reports len(p) on success: a
// dropped message is, to the library, a sent one.
func (c *wireConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	out, err := c.filterOut(p)
	if err != nil {
		return 0, fmt.Errorf("filter outgoing peer messages: %w", err)
	}
	if len(out) > 0 {
		n, err := c.Conn.Write(out)
		c.w.bytesOut.Add(int64(n))
		c.rawOut.feed(out[:n], c.w.countOut)
		if err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// filterOut appends p to the pending bytes and returns the bytes to send.
func (c *wireConn) filterOut(p []byte) ([]byte, error) {
	var out []byte
	if c.outHS > 0 {
		n := min(c.outHS, len(p))
		hs := p[:n]
		if off := handshakeLen - c.outHS; off <= 27 && off+n > 27 {
			c.ourFast = hs[27-off]&0x04 != 0
		}
		out = append(out, hs...)
		c.outHS -= n
		p = p[n:]
	}
	c.outBuf = append(c.outBuf, p...)
	buf := c.outBuf
	for len(buf) >= 4 {
		l := binary.BigEndian.Uint32(buf)
		if l > maxOutMsg {
			return nil, errMsgTooLong
		}
		if len(buf) < 4+int(l) {
			break
		}
		out = c.filterMsg(out, buf[4:4+l])
		buf = buf[4+l:]
	}
	c.outBuf = append(c.outBuf[:0], buf...)
	return out, nil
}

// filterMsg appends to out the framed form of msg as it should reach the
// peer: unchanged, rewritten, or not at all.
func (c *wireConn) filterMsg(out, msg []byte) []byte {
	if len(msg) == 0 { // keep-alive
		return append(out, 0, 0, 0, 0)
	}
	typ := msg[0]
	switch typ {
	case msgHaveNone:
		if c.fp.HaveNoneNeedsInfo && !c.libInfo {
			c.suppress()
			return out
		}
	case msgBitfield, msgHaveAll:
		c.suppress()
		if c.ourFast && c.peerFast.Load() && (c.libInfo || !c.fp.HaveNoneNeedsInfo) {
			// Fast extension peers expect one of Bitfield/HaveAll/HaveNone.
			return c.emit(out, []byte{msgHaveNone})
		}
		return out
	case msgHave, msgPiece, msgSuggest, msgAllowedFast, msgUnchoke, msgPort:
		// Unchoke is dropped too: a peer we never unchoke never asks us for
		// data, so there is nothing to reject in the first place.
		c.suppress()
		return out
	case msgInterested:
		if !c.interested.Swap(true) {
			c.lastProgress.Store(time.Now().UnixNano())
		}
	case msgNotInterested:
		c.interested.Store(false)
	case msgExtended:
		if len(msg) < 2 {
			break
		}
		return c.filterExtended(out, msg)
	}
	return c.emit(out, msg)
}

func (c *wireConn) filterExtended(out, msg []byte) []byte {
	id := uint32(msg[1])
	switch {
	case id == 0:
		hs, libMeta, err := rewriteExtendedHandshake(msg[2:], c.fp)
		if err != nil {
			c.suppress()
			return out
		}
		var lib struct {
			Size int `bencode:"metadata_size"`
		}
		c.libInfo = bencode.Unmarshal(msg[2:], &lib) == nil && lib.Size > 0
		c.libMetaID.Store(uint32(libMeta))
		if m := c.fp.MetadataID; libMeta != 0 && m > 0 && m < 256 && m != libMeta {
			// Peers now send metadata messages numbered m: the reader
			// gives them back the library's number, and the other way
			// round, so neither is taken for the other.
			c.in.swapExt.Store(uint32(libMeta)<<8 | uint32(m))
		}
		return c.emit(out, append([]byte{msgExtended, 0}, hs...))
	case id == c.peerPexID.Load() || id == c.peerPunchID.Load():
		c.suppress()
		return out
	case id == c.peerMetaID.Load():
		rewritten, changed := rejectMetadataData(msg[2:])
		if changed {
			c.suppress()
			c.w.metadataAnswersRejected.Add(1)
			return c.emit(out, append([]byte{msgExtended, byte(id)}, rewritten...))
		}
	}
	return c.emit(out, msg)
}

func (c *wireConn) emit(out, msg []byte) []byte {
	if t := c.w.trace; t != nil {
		t(c.RemoteAddr().String(), '>', msg[0])
	}
	out = binary.BigEndian.AppendUint32(out, uint32(len(msg)))
	return append(out, msg...)
}

// countOut counts, from the bytes written to the socket, what must never
// be there.
func (w *wireStats) countOut(ev inEvent) {
	if ev.kind != evMessage {
		return
	}
	switch ev.typ {
	case msgPiece:
		if ev.length > 9 {
			w.pieceBytesOut.Add(int64(ev.length - 9))
		}
	case msgBitfield, msgHave, msgHaveAll, msgSuggest:
		w.advertsOut.Add(1)
	}
}

func (c *wireConn) suppress() {
	c.w.suppressed.Add(1)
}

// Read reads from the peer and parses what arrives.
func (c *wireConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.w.bytesIn.Add(int64(n))
		c.in.feed(p[:n], c.onIncoming)
	}
	return n, err
}

// Close closes the connection once.
func (c *wireConn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.onClose != nil {
		c.onClose(c)
	}
	return c.Conn.Close()
}

func (c *wireConn) onIncoming(ev inEvent) {
	switch ev.kind {
	case evHandshake:
		c.peerFast.Store(len(ev.payload) >= 28 && ev.payload[27]&0x04 != 0)
		if len(ev.payload) >= 48 {
			c.infoHash = [20]byte(ev.payload[28:48])
		}
		return
	}
	if t := c.w.trace; t != nil {
		t(c.RemoteAddr().String(), '<', ev.typ)
	}
	switch ev.typ {
	case msgPiece:
		if ev.length > 9 {
			c.w.pieceBytesIn.Add(int64(ev.length - 9))
		}
		c.lastProgress.Store(time.Now().UnixNano())
	case msgReject:
		c.w.rejectsIn.Add(1)
	case msgChoke:
		c.peerChoking.Store(true)
	case msgUnchoke:
		if c.peerChoking.Swap(false) {
			c.lastProgress.Store(time.Now().UnixNano())
		}
	case msgExtended:
		if len(ev.payload) >= 2 && ev.payload[1] == 0 {
			c.learnPeerExtensions(ev.payload[2:])
		}
		if id := c.libMetaID.Load(); id != 0 && len(ev.payload) >= 2 && uint32(ev.payload[1]) == id &&
			len(ev.payload) == ev.length && c.onMetadata != nil {
			c.onMetadata(c.infoHash, ev.payload[2:])
		}
	}
}

func (c *wireConn) learnPeerExtensions(b []byte) {
	var hs struct {
		M map[string]int `bencode:"m"`
	}
	if err := bencode.Unmarshal(b, &hs); err != nil {
		return
	}
	set := func(a *atomic.Uint32, name string) {
		if v, ok := hs.M[name]; ok && v > 0 && v < 256 {
			a.Store(uint32(v))
		}
	}
	set(&c.peerMetaID, "ut_metadata")
	set(&c.peerPexID, "ut_pex")
	set(&c.peerPunchID, "ut_holepunch")
}

// stalled reports whether the peer has let us wait, interested and
// unchoked, for longer than d without sending piece data.
func (c *wireConn) stalled(now time.Time, d time.Duration) bool {
	if c.closed.Load() || !c.interested.Load() || c.peerChoking.Load() {
		return false
	}
	return now.Sub(time.Unix(0, c.lastProgress.Load())) > d
}

// extendedHandshake is the dictionary we send instead of the library's: no
// metadata_size (it would say we hold the metadata), no addresses of ours,
// and the fingerprint's fields for the rest (its keys are written sorted,
// as bencoding requires and both imitated clients do).
type extendedHandshake struct {
	CompleteAgo *int           `bencode:"complete_ago,omitempty"`
	E           *int           `bencode:"e,omitempty"`
	M           map[string]int `bencode:"m"`
	P           int            `bencode:"p,omitempty"`
	Reqq        int            `bencode:"reqq,omitempty"`
	UploadOnly  *int           `bencode:"upload_only,omitempty"`
	V           string         `bencode:"v,omitempty"`
	YourIP      string         `bencode:"yourip,omitempty"`
}

// rewriteExtendedHandshake returns the handshake to send and the
// library's own ut_metadata number (0 if it offers none).
func rewriteExtendedHandshake(b []byte, fp Fingerprint) ([]byte, int, error) {
	var lib struct {
		M      map[string]int `bencode:"m"`
		Reqq   int            `bencode:"reqq"`
		YourIP string         `bencode:"yourip"`
	}
	if err := bencode.Unmarshal(b, &lib); err != nil {
		return nil, 0, fmt.Errorf("decode extended handshake: %w", err)
	}
	hs := extendedHandshake{M: map[string]int{}, V: fp.Version, Reqq: fp.Reqq, E: fp.Encryption, P: fp.ListenPort, CompleteAgo: fp.CompleteAgo}
	for name, id := range fp.Ignored {
		hs.M[name] = id
	}
	if fp.UploadOnly {
		hs.UploadOnly = &zero
	}
	libMeta := lib.M["ut_metadata"]
	if libMeta > 0 && libMeta < 256 {
		hs.M["ut_metadata"] = libMeta
		if fp.MetadataID > 0 && fp.MetadataID < 256 {
			hs.M["ut_metadata"] = fp.MetadataID
		}
	} else {
		libMeta = 0
	}
	if hs.Reqq == 0 {
		hs.Reqq = lib.Reqq
	}
	if fp.SendYourIP {
		hs.YourIP = lib.YourIP
	}
	out, err := bencode.Marshal(hs)
	return out, libMeta, err
}

// inEvent is one parsed incoming item.
type inEvent struct {
	kind    int // evHandshake or evMessage
	typ     byte
	length  int    // payload length including the type byte
	payload []byte // whole payload if short, else a prefix
}

const (
	evHandshake = iota
	evMessage
)

// inScanner parses the incoming byte stream without holding on to piece
// data: only a bounded prefix of each message is kept.
type inScanner struct {
	// swapExt, when not 0, holds two extended message numbers (a<<8 | b)
	// swapped in place in what is read: ours as peers use it, and the
	// library's.
	swapExt atomic.Uint32
	hsLeft  int
	hs      []byte
	hdr     [4]byte
	hdrN    int
	left    int // payload bytes still to come for the current message
	length  int
	keep    []byte
	bad     bool
}

func (s *inScanner) feed(p []byte, f func(inEvent)) {
	for len(p) > 0 && !s.bad {
		if s.hsLeft > 0 {
			n := min(s.hsLeft, len(p))
			s.hs = append(s.hs, p[:n]...)
			s.hsLeft -= n
			p = p[n:]
			if s.hsLeft == 0 {
				f(inEvent{kind: evHandshake, payload: s.hs})
			}
			continue
		}
		if s.left == 0 && s.hdrN < 4 {
			n := copy(s.hdr[s.hdrN:], p)
			s.hdrN += n
			p = p[n:]
			if s.hdrN < 4 {
				return
			}
			s.length = int(binary.BigEndian.Uint32(s.hdr[:]))
			s.left = s.length
			s.keep = s.keep[:0]
			if s.length == 0 { // keep-alive
				s.hdrN = 0
				continue
			}
			if s.length > 1<<26 {
				s.bad = true // not BitTorrent as we know it: stop parsing, never guess
				return
			}
			continue
		}
		n := min(s.left, len(p))
		if off := s.length - s.left; off <= 1 && off+n > 1 {
			if sw := s.swapExt.Load(); sw != 0 {
				typ := s.keep
				if off == 0 {
					typ = p[:1]
				}
				if typ[0] == msgExtended {
					a, b := byte(sw>>8), byte(sw)
					switch p[1-off] {
					case a:
						p[1-off] = b
					case b:
						p[1-off] = a
					}
				}
			}
		}
		limit := inPrefixMax
		if len(s.keep) > 0 && s.keep[0] == msgPiece {
			limit = 9 // type, index, begin: the block itself is not needed
		}
		if room := limit - len(s.keep); room > 0 {
			s.keep = append(s.keep, p[:min(n, room)]...)
		}
		s.left -= n
		p = p[n:]
		if s.left == 0 {
			s.hdrN = 0
			f(inEvent{kind: evMessage, typ: s.keep[0], length: s.length, payload: s.keep})
		}
	}
}
