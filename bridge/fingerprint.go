package bridge

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/anacrolix/torrent"
	pp "github.com/anacrolix/torrent/peer_protocol"
)

// Fingerprint is what a remote peer, tracker or DHT node can learn of the
// client software: the peer-ID prefix and the shape of the random rest, the
// extended handshake's client version and request queue length, and the HTTP
// user agent. The bridge copies a common client's so it does not stand out.
type Fingerprint struct {
	// Name is for logs and status only.
	Name string
	// PeerIDPrefix is the 8-byte Azureus-style prefix, e.g. "-TR3000-".
	PeerIDPrefix string
	// peerIDRest generates the 12 bytes after the prefix.
	peerIDRest func() ([12]byte, error)
	// Version is the extended handshake "v" value.
	Version string
	// UserAgent is the HTTP user agent (the bridge makes no HTTP request;
	// set for the library's sake).
	UserAgent string
	// Reqq is the extended handshake "reqq" value.
	Reqq int
	// SendYourIP keeps the "yourip" key, which some clients send and some
	// do not.
	SendYourIP bool
	// MetadataID is the number our extended handshake gives ut_metadata
	// (peers then send metadata messages with it); 0 keeps the library's.
	MetadataID int
	// Encryption, when not nil, is the "e" value sent: 0 says the client
	// prefers plain connections, which the bridge's are.
	Encryption *int
	// ListenPort, when not 0, is the "p" value sent: the client always says
	// one, though the bridge listens nowhere.
	ListenPort int
	// RandomPort draws the "p" value once per Client, between 1024 and
	// 65535, as qBittorrent draws its port at first start.
	RandomPort bool
	// UploadOnly sends "upload_only" 0 (we are a leecher) as the client
	// does.
	UploadOnly bool
	// CompleteAgo, when not nil, is the "complete_ago" value sent
	// (libtorrent's -1: never completed).
	CompleteAgo *int
	// Ignored are the other extensions the client offers in "m", by name
	// and number. Our extended handshake offers them too; what peers send
	// with these numbers reaches the library as a protocol it leaves
	// unhandled, so it is dropped unread.
	Ignored map[string]int
	// HaveNoneNeedsInfo keeps HaveNone (what the bridge says it has) off a
	// connection opened before the metadata is known, as libtorrent sends
	// nothing of what it has there.
	HaveNoneNeedsInfo bool
	// DHTBit sets the DHT bit of the handshake's reserved bytes, as
	// libtorrent does even with its DHT off. The bridge sends no PORT and
	// answers no DHT query either way.
	DHTBit bool
}

var (
	zero     = 0
	minusOne = -1
)

// Transmission300 mimics Transmission 3.00, the version Debian 12 ships,
// set to prefer plain connections with DHT and PEX off (a configuration
// its settings offer): its handshake field by field, as captured from the
// real daemon (TestFingerprintMatchesTransmission): reserved bits LTEP and
// fast, no DHT bit; extended handshake e 0, m {ut_metadata 3}, p 51413
// (its default port), reqq 512, upload_only 0, v "Transmission 3.00".
var Transmission300 = Fingerprint{
	Name:         "Transmission 3.00",
	PeerIDPrefix: "-TR3000-",
	peerIDRest:   transmissionPeerIDRest,
	Version:      "Transmission 3.00",
	UserAgent:    "Transmission/3.00",
	Reqq:         512,
	MetadataID:   3,
	Encryption:   &zero,
	ListenPort:   51413,
	UploadOnly:   true,
}

// QBittorrent452 mimics qBittorrent 4.5.2 (libtorrent 2.0.8), the version
// Debian 12 ships, set to disable encryption with DHT, PeX and local peer
// discovery off (settings its users have): its handshake field by field,
// as captured from a real qbittorrent-nox leecher
// (TestFingerprintMatchesQBittorrent): reserved bits LTEP, fast and DHT
// (libtorrent sets it with its DHT off); extended handshake complete_ago
// -1, m {lt_donthave 7, share_mode 8, upload_only 3, ut_holepunch 4,
// ut_metadata 2}, p (its port, drawn at first start), reqq 2000, v
// "qBittorrent/4.5.2", yourip; no e, no upload_only.
var QBittorrent452 = Fingerprint{
	Name:         "qBittorrent 4.5.2",
	PeerIDPrefix: "-qB4520-",
	peerIDRest:   libtorrentPeerIDRest,
	Version:      "qBittorrent/4.5.2",
	UserAgent:    "qBittorrent/4.5.2",
	Reqq:         2000,
	SendYourIP:   true,
	MetadataID:   2,
	RandomPort:   true,
	CompleteAgo:  &minusOne,
	Ignored:      map[string]int{"lt_donthave": 7, "share_mode": 8, "upload_only": 3, "ut_holepunch": 4},
	DHTBit:       true,
	// On a connection opened before the metadata, qBittorrent sends the
	// extended handshake and metadata requests, no HaveNone.
	HaveNoneNeedsInfo: true,
}

// Fingerprints lists the built-in fingerprints by the name the CLI takes.
var Fingerprints = map[string]Fingerprint{
	"transmission": Transmission300,
	"qbittorrent":  QBittorrent452,
}

// forClient returns the fingerprint one Client uses: its random port
// drawn.
func (f Fingerprint) forClient() (Fingerprint, error) {
	if f.RandomPort {
		var b [2]byte
		if _, err := rand.Read(b[:]); err != nil {
			return f, fmt.Errorf("draw listen port: %w", err)
		}
		f.ListenPort = 1024 + int(binary.BigEndian.Uint16(b[:]))%(65536-1024)
	}
	return f, nil
}

// ltepMap is the library's own numbering of extended messages under this
// fingerprint: ut_metadata 1, the only one it handles (the wire filter
// swaps 1 and MetadataID in what peers send), then up to the highest
// number the fingerprint offers, the Ignored names at their numbers and
// unused names elsewhere, all left unhandled. ut_holepunch and ut_pex are
// not the library's: a peer's holepunch message makes it dial nothing.
func (f Fingerprint) ltepMap() *torrent.LocalLtepProtocolMap {
	n := max(1, f.MetadataID)
	for _, id := range f.Ignored {
		n = max(n, id)
	}
	index := make([]pp.ExtensionName, n)
	for i := range index {
		index[i] = pp.ExtensionName(fmt.Sprintf("hydre_unused_%d", i+1))
	}
	for name, id := range f.Ignored {
		if id > 0 && id <= n {
			index[id-1] = pp.ExtensionName(name)
		}
	}
	index[0] = pp.ExtensionNameMetadata
	return &torrent.LocalLtepProtocolMap{Index: index, NumBuiltin: 1}
}

// PeerID returns a fresh peer ID in the fingerprint's style.
func (f Fingerprint) PeerID() (string, error) {
	if len(f.PeerIDPrefix) != 8 {
		return "", fmt.Errorf("peer id prefix %q: want 8 bytes", f.PeerIDPrefix)
	}
	gen := f.peerIDRest
	if gen == nil {
		gen = libtorrentPeerIDRest
	}
	rest, err := gen()
	if err != nil {
		return "", fmt.Errorf("generate peer id: %w", err)
	}
	return f.PeerIDPrefix + string(rest[:]), nil
}

// transmissionPeerIDRest follows libtransmission's tr_peerIdInit: 11 base-36
// characters and a check character that makes their sum a multiple of 36.
func transmissionPeerIDRest() (out [12]byte, err error) {
	const pool = "0123456789abcdefghijklmnopqrstuvwxyz"
	var r [11]byte
	if _, err = rand.Read(r[:]); err != nil {
		return out, err
	}
	total := 0
	for i, b := range r {
		v := int(b) % 36
		total += v
		out[i] = pool[v]
	}
	chk := 0
	if total%36 != 0 {
		chk = 36 - total%36
	}
	out[11] = pool[chk]
	return out, nil
}

// libtorrentPeerIDRest follows libtorrent's url_random: printable URL-safe
// characters.
func libtorrentPeerIDRest() (out [12]byte, err error) {
	const pool = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_.!~*()"
	var r [12]byte
	if _, err = rand.Read(r[:]); err != nil {
		return out, err
	}
	for i, b := range r {
		out[i] = pool[int(b)%len(pool)]
	}
	return out, nil
}
