package crypto

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"time"
)

// HolderRecord says that a holder of a content serves it at an onion
// address until an expiry. It is signed by the holder's own per-content
// onion identity key, the key that names the address, over the content ID
// and the swarm tag, so that a slot host can leave records out but cannot
// forge one, extend one, or replay one into another content or swarm.
//
// Encoding (RecordLen bytes):
//
//	holder (32) || port (2) || expires (8, Unix seconds) || signature (64)
//	signature = Ed25519-Sign(holder key, "hydre holder record" || content ID (32)
//	            || swarm tag (32) || holder (32) || port (2) || expires (8))
type HolderRecord struct {
	Holder  [32]byte // Ed25519 public key of the holder's onion identity for this content
	Port    uint16   // never 0
	Expires int64    // Unix seconds
	Sig     [64]byte
}

// RecordLen is the length of an encoded HolderRecord.
const RecordLen = 32 + 2 + 8 + ed25519.SignatureSize

// RecordLifetime is how far ahead a holder's records expire: it registers
// every hour, so one missed registration keeps it listed.
// MaxRecordLifetime bounds how far ahead of now a record may expire;
// RecordClockSkew is the clock difference tolerated on top of it.
const (
	RecordLifetime    = 2 * time.Hour
	MaxRecordLifetime = 3 * time.Hour
	RecordClockSkew   = 10 * time.Minute
)

const recordContext = "hydre holder record"

func recordMessage(id ContentID, secret SwarmSecret, holder [32]byte, port uint16, expires int64) []byte {
	tag := swarmTag(secret)
	m := make([]byte, 0, len(recordContext)+32+32+32+2+8)
	m = append(m, recordContext...)
	m = append(m, id[:]...)
	m = append(m, tag[:]...)
	m = append(m, holder[:]...)
	m = binary.BigEndian.AppendUint16(m, port)
	return binary.BigEndian.AppendUint64(m, uint64(expires))
}

// NewHolderRecord signs a record for the holder whose per-content onion
// identity is key, serving content id of the swarm of secret on port until
// expires (whole seconds; at most MaxRecordLifetime ahead of the verifier's
// clock). Errors wrap ErrBadRecord.
func NewHolderRecord(key ed25519.PrivateKey, port int, expires time.Time, id ContentID, secret SwarmSecret) (HolderRecord, error) {
	if len(key) != ed25519.PrivateKeySize {
		return HolderRecord{}, fmt.Errorf("holder record: key has %d bytes, want %d: %w", len(key), ed25519.PrivateKeySize, ErrBadRecord)
	}
	if port < 1 || port > 65535 {
		return HolderRecord{}, fmt.Errorf("holder record: port %d not in 1-65535: %w", port, ErrBadRecord)
	}
	if secret.IsZero() {
		return HolderRecord{}, fmt.Errorf("holder record: no swarm secret: %w", ErrBadRecord)
	}
	if expires.Unix() <= 0 {
		return HolderRecord{}, fmt.Errorf("holder record: expiry before 1970: %w", ErrBadRecord)
	}
	r := HolderRecord{Holder: [32]byte(key.Public().(ed25519.PublicKey)), Port: uint16(port), Expires: expires.Unix()}
	copy(r.Sig[:], ed25519.Sign(key, recordMessage(id, secret, r.Holder, r.Port, r.Expires)))
	return r, nil
}

// Verify checks r for content id of the swarm of secret at instant now:
// the port, the expiry (after now, at most MaxRecordLifetime +
// RecordClockSkew ahead) and the signature. Errors wrap ErrBadRecord.
func (r HolderRecord) Verify(id ContentID, secret SwarmSecret, now time.Time) error {
	switch {
	case r.Port == 0:
		return fmt.Errorf("holder record: port 0: %w", ErrBadRecord)
	case r.Expires <= now.Unix():
		return fmt.Errorf("holder record: expired: %w", ErrBadRecord)
	case r.Expires > now.Add(MaxRecordLifetime+RecordClockSkew).Unix():
		return fmt.Errorf("holder record: expires too far ahead: %w", ErrBadRecord)
	case secret.IsZero():
		return fmt.Errorf("holder record: no swarm secret: %w", ErrBadRecord)
	}
	if !ed25519.Verify(r.Holder[:], recordMessage(id, secret, r.Holder, r.Port, r.Expires), r.Sig[:]) {
		return fmt.Errorf("holder record: bad signature (another content or swarm, or forged): %w", ErrBadRecord)
	}
	return nil
}

// Address returns the holder's onion address with port,
// "<56 characters>.onion:port", as PEX and link hints write it.
func (r HolderRecord) Address() string { return peerString(r.Holder, int(r.Port)) }

// ExpiresAt returns the expiry as a time.
func (r HolderRecord) ExpiresAt() time.Time { return time.Unix(r.Expires, 0).UTC() }

// AppendBinary appends the record's encoding to b.
func (r HolderRecord) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, r.Holder[:]...)
	b = binary.BigEndian.AppendUint16(b, r.Port)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Expires))
	return append(b, r.Sig[:]...), nil
}

// MarshalBinary returns the record's RecordLen-byte encoding.
func (r HolderRecord) MarshalBinary() ([]byte, error) {
	return r.AppendBinary(make([]byte, 0, RecordLen))
}

// UnmarshalHolderRecord decodes exactly one record. It checks the length,
// the port and that the expiry fits a signed 64-bit number; the signature
// and the expiry against a clock are Verify's. Errors wrap ErrBadRendezvous.
func UnmarshalHolderRecord(b []byte) (HolderRecord, error) {
	if len(b) != RecordLen {
		return HolderRecord{}, fmt.Errorf("holder record: %d bytes, want %d: %w", len(b), RecordLen, ErrBadRendezvous)
	}
	var r HolderRecord
	copy(r.Holder[:], b)
	r.Port = binary.BigEndian.Uint16(b[32:])
	exp := binary.BigEndian.Uint64(b[34:])
	copy(r.Sig[:], b[42:])
	if r.Port == 0 {
		return HolderRecord{}, fmt.Errorf("holder record: port 0: %w", ErrBadRendezvous)
	}
	if exp > 1<<63-1 {
		return HolderRecord{}, fmt.Errorf("holder record: expiry out of range: %w", ErrBadRendezvous)
	}
	r.Expires = int64(exp)
	return r, nil
}
