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

// ParsePeer parses a peer hint "<56 characters>.onion:port" (a v3 onion
// address with a port) and returns the service's public key and the port.
// It checks the length, alphabet, version byte and checksum of the name.
// Errors wrap ErrBadLink and say what is wrong ("bad onion address: ...").
func ParsePeer(addr string) (pub [32]byte, port int, err error) {
	host, portText, ok := strings.Cut(addr, ":")
	if !ok {
		return pub, 0, fmt.Errorf("bad onion address: missing port: %w", ErrBadLink)
	}
	port, err = strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 || strconv.Itoa(port) != portText {
		return pub, 0, fmt.Errorf("bad onion address: bad port: %w", ErrBadLink)
	}
	name, ok := strings.CutSuffix(strings.ToLower(host), ".onion")
	if !ok {
		return pub, 0, fmt.Errorf("bad onion address: host does not end in .onion: %w", ErrBadLink)
	}
	if len(name) != onionNameLen {
		return pub, 0, fmt.Errorf("bad onion address: name has %d characters, want %d (v3): %w", len(name), onionNameLen, ErrBadLink)
	}
	if pos := badB32Char(name); pos >= 0 {
		return pub, 0, fmt.Errorf("bad onion address: bad character at position %d: %w", pos+1, ErrBadLink)
	}
	raw, err := onionB32.DecodeString(name)
	if err != nil || len(raw) != 35 {
		return pub, 0, fmt.Errorf("bad onion address: not base32: %w", ErrBadLink)
	}
	if raw[34] != onionVersion {
		return pub, 0, fmt.Errorf("bad onion address: version %d, want %d: %w", raw[34], onionVersion, ErrBadLink)
	}
	if string(onionChecksum(raw[:32])) != string(raw[32:34]) {
		return pub, 0, fmt.Errorf("bad onion address: bad checksum: %w", ErrBadLink)
	}
	copy(pub[:], raw[:32])
	return pub, port, nil
}

// peerString returns "<name>.onion:port".
func peerString(pub [32]byte, port int) string {
	return onionName(pub) + ".onion:" + strconv.Itoa(port)
}
