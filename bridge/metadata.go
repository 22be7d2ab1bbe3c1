package bridge

import (
	"bytes"
	"crypto/sha1"
	"sync"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// metadataPieceLen is BEP 9's piece size; maxMetadata bounds what is kept
// per torrent (the library's own limit).
const (
	metadataPieceLen = 16 << 10
	maxMetadata      = 10 << 20
)

// metadataWatch reassembles, beside the library, the info dictionary that
// peers send for a magnet (ut_metadata data messages, read by the wire
// filter), so that one which hashes to the info-hash but that the library
// refuses on its own (pieces not a multiple of 20, a piece count that does
// not match the length, piece length 0) gives the torrent up with
// ErrBadTorrent: the library drops that error and asks again forever.
type metadataWatch struct {
	mu  sync.Mutex
	asm map[metainfo.Hash]*metadataAsm
}

type metadataAsm struct {
	total  int
	pieces map[int][]byte
}

// piece records one ut_metadata data message for info-hash ih and returns
// the whole dictionary once every piece is there and it hashes to ih.
func (w *metadataWatch) piece(ih metainfo.Hash, payload []byte) []byte {
	var m struct {
		Type  int `bencode:"msg_type"`
		Piece int `bencode:"piece"`
		Total int `bencode:"total_size"`
	}
	d := bencode.NewDecoder(bytes.NewReader(payload))
	if err := d.Decode(&m); err != nil || m.Type != 1 {
		return nil
	}
	data := payload[d.Offset:]
	if m.Total <= 0 || m.Total > maxMetadata || m.Piece < 0 || m.Piece*metadataPieceLen >= m.Total {
		return nil
	}
	if want := min(metadataPieceLen, m.Total-m.Piece*metadataPieceLen); len(data) != want {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.asm == nil {
		w.asm = map[metainfo.Hash]*metadataAsm{}
	}
	a := w.asm[ih]
	if a == nil || a.total != m.Total {
		a = &metadataAsm{total: m.Total, pieces: map[int][]byte{}}
		w.asm[ih] = a
	}
	a.pieces[m.Piece] = bytes.Clone(data)
	n := (m.Total + metadataPieceLen - 1) / metadataPieceLen
	if len(a.pieces) < n {
		return nil
	}
	delete(w.asm, ih)
	info := make([]byte, 0, m.Total)
	for i := range n {
		info = append(info, a.pieces[i]...)
	}
	if sha1.Sum(info) != ih {
		return nil // a peer lied: the library sorts that out
	}
	return info
}

// forget drops what was gathered for ih.
func (w *metadataWatch) forget(ih metainfo.Hash) {
	w.mu.Lock()
	delete(w.asm, ih)
	w.mu.Unlock()
}

// onMetadataPiece is called by a peer connection's reader for each
// ut_metadata message it reads for info-hash ih.
func (c *Client) onMetadataPiece(ih metainfo.Hash, payload []byte) {
	var bt *Torrent
	c.mu.Lock()
	for t := range c.torrents {
		if t.ih == ih {
			bt = t
		}
	}
	c.mu.Unlock()
	if bt == nil || bt.t == nil || bt.HasInfo() {
		c.meta.forget(ih)
		return
	}
	info := c.meta.piece(ih, payload)
	if info == nil {
		return
	}
	if _, err := checkInfoBytes(info); err != nil {
		bt.fail(err)
	}
}

// rejectMetadataData turns a ut_metadata data message (msg_type 1) into a
// reject for the same piece, as a client that lacks the metadata sends.
// Other ut_metadata messages are returned unchanged.
func rejectMetadataData(payload []byte) ([]byte, bool) {
	var m struct {
		Type  int `bencode:"msg_type"`
		Piece int `bencode:"piece"`
	}
	d := bencode.NewDecoder(bytes.NewReader(payload))
	if err := d.Decode(&m); err != nil {
		// Not something we can vouch for: never let it out as it is.
		return bencode.MustMarshal(map[string]int{"msg_type": 2, "piece": 0}), true
	}
	if m.Type != 1 {
		return payload, false
	}
	return bencode.MustMarshal(map[string]int{"msg_type": 2, "piece": m.Piece}), true
}
