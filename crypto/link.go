package crypto

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode"
)

// Link is what a person shares: the content ID, the swarm secret, and
// optionally the read key, peer hints and a client-authorization key.
// Without the key (a host-only link) it lets a node host and relay the
// ciphertext but not read it. The swarm secret lets every holder of the
// link find the content's holders through rendezvous onions
// (docs/protocol.md, Part III); a node puts it in every link of a content,
// host-only links included, and leaves it out only when it has none (a
// content known by its ID alone). Its String, Format, GoString and LogValue
// methods redact the secrets; only Encode returns the full text.
type Link struct {
	ID        ContentID
	Secret    *SwarmSecret // nil: no rendezvous discovery, only the hints
	Key       *Key         // nil: host-only link
	Peers     []string     // peer hints, "<56 characters>.onion:port"
	ClientKey *[32]byte    // x25519 private key of a private share's client authorization, or nil
}

// LinkVersion is the version byte of links this package writes and reads.
// Version 2 added the swarm secret; version 1 links are refused as an
// unknown version (hydre had no users yet).
const LinkVersion = 2

// Scheme is the URI scheme of hydre links.
const Scheme = "hydre"

// MaxPeers bounds the peer hints of a link.
const MaxPeers = 16

// Link body (binary, before base32):
//
//	version (1) = 2 || flags (1) || content ID (32) || [swarm secret (32)]
//	|| [key (32)] || [client key (32)]
//	|| peer count (1) || count * (onion public key (32) || port (2, big endian))
//	|| checksum (4) = BLAKE3(0x03 || everything before it)[:4]
//
// flags: bit 0 = key present, bit 1 = client key present, bit 2 = swarm
// secret present (never all zero); others zero.
// The text is "hydre:" followed by the body in lower-case base32 without
// padding. The place of the version byte and the checksum rule are the same
// in every version, so a reader tells a future version from a typo.
const (
	linkFlagKey       = 1 << 0
	linkFlagClientKey = 1 << 1
	linkFlagSecret    = 1 << 2
	linkChecksumLen   = 4
	linkPeerLen       = 32 + 2
	linkMinLen        = 1 + 1 + 32 + 1 + linkChecksumLen
	linkMaxLen        = linkMinLen + 32 + 32 + 32 + MaxPeers*linkPeerLen
	// maxLinkText bounds the text ParseLink looks at.
	maxLinkText = 2 * (len(Scheme) + 1 + (linkMaxLen*8+4)/5)
)

// Validate reports the first problem that would keep l from encoding
// exactly: an all-zero swarm secret, too many peers or a peer that is not a
// v3 onion address with a port. Errors wrap ErrBadLink.
func (l Link) Validate() error {
	if l.Secret != nil && l.Secret.IsZero() {
		return fmt.Errorf("link: swarm secret is all zero: %w", ErrBadLink)
	}
	if len(l.Peers) > MaxPeers {
		return fmt.Errorf("link: %d peers is more than %d: %w", len(l.Peers), MaxPeers, ErrBadLink)
	}
	for i, p := range l.Peers {
		if _, _, err := ParsePeer(p); err != nil {
			return fmt.Errorf("link: peer %d: %w", i+1, err)
		}
	}
	return nil
}

// Encode returns the full text of the link, secrets included: give it only
// to the person who shares. Peers that Validate rejects are left out (and
// peers past MaxPeers), and so is an all-zero swarm secret; everything else
// round-trips exactly through ParseLink.
func (l Link) Encode() string {
	b := make([]byte, 0, linkMaxLen)
	b = append(b, LinkVersion, 0)
	b = append(b, l.ID[:]...)
	if l.Secret != nil && !l.Secret.IsZero() {
		b[1] |= linkFlagSecret
		b = append(b, l.Secret[:]...)
	}
	if l.Key != nil {
		b[1] |= linkFlagKey
		b = append(b, l.Key[:]...)
	}
	if l.ClientKey != nil {
		b[1] |= linkFlagClientKey
		b = append(b, l.ClientKey[:]...)
	}
	countAt := len(b)
	b = append(b, 0)
	for _, p := range l.Peers {
		pub, port, err := ParsePeer(p)
		if err != nil || b[countAt] == MaxPeers {
			continue
		}
		b[countAt]++
		b = append(b, pub[:]...)
		b = binary.BigEndian.AppendUint16(b, uint16(port))
	}
	sum := hashDomain(domainLink, b)
	b = append(b, sum[:linkChecksumLen]...)
	return Scheme + ":" + b32.EncodeToString(b)
}

// ParseLink parses a link's text. It accepts the scheme in any case, the
// body in upper or lower case, and ignores white space (links wrapped by a
// chat client). Errors wrap ErrBadLink, say what is wrong (not a hydre link,
// bad character, bad length, bad checksum, unknown version, bad onion
// address) and never quote the link.
func ParseLink(s string) (Link, error) {
	if len(s) > maxLinkText {
		return Link{}, fmt.Errorf("parse link: bad length: longer than any hydre link: %w", ErrBadLink)
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return asciiLower(r)
	}, s)
	body, ok := strings.CutPrefix(s, Scheme+":")
	if !ok {
		return Link{}, fmt.Errorf("parse link: not a hydre link (want %q): %w", Scheme+":", ErrBadLink)
	}
	if pos := badB32Char(body); pos >= 0 {
		return Link{}, fmt.Errorf("parse link: bad character at position %d: %w", len(Scheme)+2+pos, ErrBadLink)
	}
	b, err := b32.DecodeString(body)
	if err != nil {
		return Link{}, fmt.Errorf("parse link: bad length: %d characters is not whole base32: %w", len(body), ErrBadLink)
	}
	if b32.EncodeToString(b) != body {
		return Link{}, fmt.Errorf("parse link: bad character at position %d: not canonical base32: %w", len(Scheme)+1+len(body), ErrBadLink)
	}
	if len(b) < linkMinLen {
		return Link{}, fmt.Errorf("parse link: bad length: %d bytes is too short (truncated?): %w", len(b), ErrBadLink)
	}
	payload, sum := b[:len(b)-linkChecksumLen], b[len(b)-linkChecksumLen:]
	if want := hashDomain(domainLink, payload); string(want[:linkChecksumLen]) != string(sum) {
		return Link{}, fmt.Errorf("parse link: bad checksum: the link is mistyped, truncated or altered: %w", ErrBadLink)
	}
	if payload[0] != LinkVersion {
		return Link{}, fmt.Errorf("parse link: unknown version %d (this hydre reads version %d): %w", payload[0], LinkVersion, ErrBadLink)
	}
	flags := payload[1]
	if flags&^(linkFlagKey|linkFlagClientKey|linkFlagSecret) != 0 {
		return Link{}, fmt.Errorf("parse link: unknown flags %#x: %w", flags, ErrBadLink)
	}
	var l Link
	copy(l.ID[:], payload[2:34])
	rest := payload[34:]
	if flags&linkFlagSecret != 0 {
		if len(rest) < 32 {
			return Link{}, fmt.Errorf("parse link: bad length: swarm secret cut short: %w", ErrBadLink)
		}
		l.Secret = new(SwarmSecret)
		copy(l.Secret[:], rest)
		if l.Secret.IsZero() {
			return Link{}, fmt.Errorf("parse link: swarm secret is all zero: %w", ErrBadLink)
		}
		rest = rest[32:]
	}
	if flags&linkFlagKey != 0 {
		if len(rest) < 32 {
			return Link{}, fmt.Errorf("parse link: bad length: key cut short: %w", ErrBadLink)
		}
		l.Key = new(Key)
		copy(l.Key[:], rest)
		rest = rest[32:]
	}
	if flags&linkFlagClientKey != 0 {
		if len(rest) < 32 {
			return Link{}, fmt.Errorf("parse link: bad length: client key cut short: %w", ErrBadLink)
		}
		l.ClientKey = new([32]byte)
		copy(l.ClientKey[:], rest)
		rest = rest[32:]
	}
	if len(rest) < 1 {
		return Link{}, fmt.Errorf("parse link: bad length: peer count missing: %w", ErrBadLink)
	}
	count := int(rest[0])
	rest = rest[1:]
	if count > MaxPeers {
		return Link{}, fmt.Errorf("parse link: %d peers is more than %d: %w", count, MaxPeers, ErrBadLink)
	}
	if len(rest) != count*linkPeerLen {
		return Link{}, fmt.Errorf("parse link: bad length: %d bytes for %d peers: %w", len(rest), count, ErrBadLink)
	}
	for i := range count {
		var pub [32]byte
		copy(pub[:], rest[i*linkPeerLen:])
		port := int(binary.BigEndian.Uint16(rest[i*linkPeerLen+32:]))
		if port == 0 {
			return Link{}, fmt.Errorf("parse link: bad onion address: peer %d has port 0: %w", i+1, ErrBadLink)
		}
		l.Peers = append(l.Peers, peerString(pub, port))
	}
	return l, nil
}

// HostOnly returns the host-only link of l: the same content ID, swarm
// secret and peer hints, without the read key and the client key. Whoever
// holds it can host the ciphertext and take part in rendezvous discovery,
// but cannot read.
func (l Link) HostOnly() Link {
	return Link{ID: l.ID, Secret: l.Secret, Peers: l.Peers}
}

// String returns a redacted description: the content ID, whether a secret
// and a key are present, the number of peers. Never a secret.
func (l Link) String() string {
	var b strings.Builder
	b.WriteString("hydre link ")
	b.WriteString(l.ID.String())
	if l.Secret != nil {
		b.WriteString(" secret=" + redacted)
	}
	if l.Key != nil {
		b.WriteString(" key=" + redacted)
	} else {
		b.WriteString(" host-only")
	}
	if l.ClientKey != nil {
		b.WriteString(" client-key=" + redacted)
	}
	fmt.Fprintf(&b, " peers=%d", len(l.Peers))
	return b.String()
}

// GoString is String: %#v never shows the secrets either.
func (l Link) GoString() string { return l.String() }

// Format redacts the link for every fmt verb.
func (l Link) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, l.String()) }

// LogValue logs the content ID and what the link holds, never the secrets.
func (l Link) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", l.ID.String()),
		slog.Bool("secret", l.Secret != nil),
		slog.Bool("key", l.Key != nil),
		slog.Bool("client_key", l.ClientKey != nil),
		slog.Int("peers", len(l.Peers)),
	)
}
