package crypto

import (
	"encoding/base32"
	"fmt"
	"log/slog"
	"strings"
)

// ContentID names a sealed content: the hash of its descriptor, which
// commits to the format version, the chunk size, the plaintext size, the
// Merkle root over the ciphertext chunks and the sealed header. It is not
// secret: it lets a node host and relay ciphertext, not read it.
type ContentID [32]byte

// b32 is the text alphabet of hydre: RFC 4648 base32, lower case, without
// padding. It survives chat clients, URLs and case-insensitive media.
var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// idCheckLen is the number of check bytes appended to a content ID's text.
const idCheckLen = 3

// IDTextLen is the length of a content ID's text form.
const IDTextLen = 56

// String returns the text form of the ID: 56 lower-case base32 characters
// encoding the 32 ID bytes followed by 3 check bytes, so that a mistyped ID
// is detected by ParseContentID.
func (id ContentID) String() string {
	var buf [32 + idCheckLen]byte
	copy(buf[:], id[:])
	sum := hashDomain(domainIDText, id[:])
	copy(buf[32:], sum[:idCheckLen])
	return b32.EncodeToString(buf[:])
}

// LogValue logs the ID as its text form.
func (id ContentID) LogValue() slog.Value { return slog.StringValue(id.String()) }

// MarshalText returns the text form (String), so that IDs appear as text
// in JSON and other text encodings.
func (id ContentID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses the text form (ParseContentID).
func (id *ContentID) UnmarshalText(b []byte) error {
	got, err := ParseContentID(string(b))
	if err != nil {
		return err
	}
	*id = got
	return nil
}

// IsZero reports whether id is the zero ID (no content).
func (id ContentID) IsZero() bool { return id == ContentID{} }

// ParseContentID parses the text form returned by ContentID.String. Upper
// case and surrounding white space are accepted. Errors wrap ErrBadLink and
// say what is wrong (bad length, bad character, bad checksum).
func ParseContentID(s string) (ContentID, error) {
	s = strings.Map(asciiLower, strings.TrimSpace(s))
	if len(s) != IDTextLen {
		return ContentID{}, fmt.Errorf("parse content id: bad length %d, want %d characters: %w", len(s), IDTextLen, ErrBadLink)
	}
	if pos := badB32Char(s); pos >= 0 {
		return ContentID{}, fmt.Errorf("parse content id: bad character at position %d: %w", pos+1, ErrBadLink)
	}
	raw, err := b32.DecodeString(s)
	if err != nil || len(raw) != 32+idCheckLen {
		return ContentID{}, fmt.Errorf("parse content id: not canonical base32: %w", ErrBadLink)
	}
	var id ContentID
	copy(id[:], raw)
	sum := hashDomain(domainIDText, id[:])
	if string(sum[:idCheckLen]) != string(raw[32:]) {
		return ContentID{}, fmt.Errorf("parse content id: bad checksum (mistyped or altered): %w", ErrBadLink)
	}
	if id.String() != s {
		return ContentID{}, fmt.Errorf("parse content id: not canonical base32: %w", ErrBadLink)
	}
	return id, nil
}

// badB32Char returns the index of the first byte of s outside the
// lower-case base32 alphabet, or -1.
func badB32Char(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return i
		}
	}
	return -1
}

// asciiLower folds ASCII upper case only: other characters stay as they are
// (and are then rejected), so that no Unicode case folding (such as the
// Kelvin sign to "k") makes two texts parse alike.
func asciiLower(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + ('a' - 'A')
	}
	return r
}
