package bridge

import (
	"crypto/rand"
	"fmt"
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
	// UploadOnly sends "upload_only" 0 (we are a leecher) as the client
	// does.
	UploadOnly bool
}

var zero = 0

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

// QBittorrent465 mimics qBittorrent 4.6.5 (libtorrent 2.0).
var QBittorrent465 = Fingerprint{
	Name:         "qBittorrent 4.6.5",
	PeerIDPrefix: "-qB4650-",
	peerIDRest:   libtorrentPeerIDRest,
	Version:      "qBittorrent/4.6.5",
	UserAgent:    "qBittorrent/4.6.5",
	Reqq:         500,
	SendYourIP:   true,
}

// Fingerprints lists the built-in fingerprints by the name the CLI takes.
var Fingerprints = map[string]Fingerprint{
	"transmission": Transmission300,
	"qbittorrent":  QBittorrent465,
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
