package crypto

import (
	"crypto/sha3"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
)

// Tor v3 onion names: base32(pubkey (32) || checksum (2) || version (1)),
// 56 characters, with checksum = SHA3-256(".onion checksum" || pubkey ||
// version)[:2] and version 3 (tor's rend-spec-v3, section 6). hydre's crypto
// imports nothing of ours, so it carries this small validator of its own.
const (
	onionNameLen = 56
	onionVersion = 3
)

var onionB32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func onionChecksum(pub []byte) []byte {
	h := sha3.New256()
	h.Write([]byte(".onion checksum"))
	h.Write(pub)
	h.Write([]byte{onionVersion})
	return h.Sum(nil)[:2]
}

// onionName returns the 56-character v3 name (without ".onion") of pub.
func onionName(pub [32]byte) string {
	raw := make([]byte, 0, 35)
	raw = append(raw, pub[:]...)
	raw = append(raw, onionChecksum(pub[:])...)
	raw = append(raw, onionVersion)
	return onionB32.EncodeToString(raw)
}

// ParseOnion parses a v3 onion address with its port, "<56
// characters>.onion:port", and returns the service's public key and the
// port. It checks the name as ParseOnionHost does, and takes a port only
// in its plain decimal form (1 to 65535: no sign, no leading zero). Errors
// wrap ErrBadOnion and say what is wrong ("bad onion address: bad port").
func ParseOnion(addr string) (pub [32]byte, port int, err error) {
	host, portText, ok := strings.Cut(addr, ":")
	if !ok {
		return pub, 0, fmt.Errorf("%w: missing port", ErrBadOnion)
	}
	port, err = strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 || strconv.Itoa(port) != portText {
		return pub, 0, fmt.Errorf("%w: bad port", ErrBadOnion)
	}
	if pub, err = ParseOnionHost(host); err != nil {
		return pub, 0, err
	}
	return pub, port, nil
}

// ParseOnionHost parses a v3 onion host name, "<56 characters>.onion" in
// any case, and returns the service's public key. Errors wrap ErrBadOnion,
// and also ErrOnionChecksum for a wrong checksum or version byte.
func ParseOnionHost(host string) (pub [32]byte, err error) {
	name, ok := strings.CutSuffix(strings.ToLower(host), ".onion")
	if !ok {
		return pub, fmt.Errorf("%w: host does not end in .onion", ErrBadOnion)
	}
	if len(name) != onionNameLen {
		return pub, fmt.Errorf("%w: name has %d characters, want %d (v3)", ErrBadOnion, len(name), onionNameLen)
	}
	if pos := badB32Char(name); pos >= 0 {
		return pub, fmt.Errorf("%w: bad character at position %d", ErrBadOnion, pos+1)
	}
	raw, err := onionB32.DecodeString(name)
	if err != nil || len(raw) != 35 {
		return pub, fmt.Errorf("%w: not base32", ErrBadOnion)
	}
	if raw[34] != onionVersion || string(onionChecksum(raw[:32])) != string(raw[32:34]) {
		return pub, fmt.Errorf("%w: %w", ErrBadOnion, ErrOnionChecksum)
	}
	copy(pub[:], raw[:32])
	return pub, nil
}

// ParsePeer parses a peer hint of a link: ParseOnion, with errors that
// also wrap ErrBadLink.
func ParsePeer(addr string) (pub [32]byte, port int, err error) {
	pub, port, err = ParseOnion(addr)
	if err != nil {
		return pub, 0, fmt.Errorf("%w: %w", err, ErrBadLink)
	}
	return pub, port, nil
}

// peerString returns "<name>.onion:port".
func peerString(pub [32]byte, port int) string {
	return onionName(pub) + ".onion:" + strconv.Itoa(port)
}
