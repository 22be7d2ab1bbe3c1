package crypto

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/zeebo/blake3"
)

// Rendezvous discovery (docs/protocol.md, Part III): every link of a
// content carries a random swarm secret; from it, every link holder derives
// the same few onion identities per time period (the slots). Any holder may
// host a slot; holders register their signed records with the slots and
// downloaders ask the slots for them. Only link holders can compute a slot:
// nothing here is derived from the content ID or the plaintext.

// SwarmSecret is the random secret of one content's swarm. It travels in
// every link of the content, host-only links included; whoever holds it can
// compute the content's rendezvous slots. Its String, Format, GoString and
// LogValue methods redact it.
type SwarmSecret [32]byte

// NewSwarmSecret returns a fresh random swarm secret.
func NewSwarmSecret() (SwarmSecret, error) {
	var s SwarmSecret
	if _, err := io.ReadFull(rand.Reader, s[:]); err != nil {
		return SwarmSecret{}, fmt.Errorf("new swarm secret: %w", err)
	}
	return s, nil
}

// IsZero reports whether s is all zero: no secret. Links never carry one
// and no slot is ever derived from it.
func (s SwarmSecret) IsZero() bool { return s == SwarmSecret{} }

// String returns a redacted placeholder, never the secret.
func (SwarmSecret) String() string { return "hcrypto.SwarmSecret" + redacted }

// GoString returns a redacted placeholder, never the secret.
func (s SwarmSecret) GoString() string { return s.String() }

// Format redacts the secret for every fmt verb.
func (s SwarmSecret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue redacts the secret in structured logs.
func (SwarmSecret) LogValue() slog.Value { return slog.StringValue(redacted) }

// BLAKE3 derive_key contexts of Part III. Each is used for one purpose only.
const (
	kdfSlot     = "hydre rendezvous slot v1"
	kdfSwarmTag = "hydre swarm tag v1"
)

// swarmTag returns the value that binds holder records to one swarm
// without revealing the secret: BLAKE3-derive_key(kdfSwarmTag, secret).
func swarmTag(s SwarmSecret) [32]byte {
	var out [32]byte
	blake3.DeriveKey(kdfSwarmTag, s[:], out[:])
	return out
}

// Tor's time periods (rend-spec-v3, [TIME-PERIODS]): 1440 minutes, the
// first one starting at 12:00 UTC on 1970-01-01.
const (
	TorPeriodLength = 24 * time.Hour
	TorPeriodOffset = 12 * time.Hour
)

// RendezvousSlots is the number of slots per period.
const RendezvousSlots = 3

// SlotPort is the port a slot's onion service listens on.
const SlotPort = 7446

// DefaultSlotMargin is how long before a period starts its slots are
// already served and asked, and how long after it ends they still are: it
// covers clocks that differ by up to that much.
const DefaultSlotMargin = time.Hour

// Schedule cuts time into the periods that slots live for. The zero value
// is Tor's schedule (TorPeriodLength, TorPeriodOffset); tests use shorter
// periods. Length and Offset are whole seconds, 0 <= Offset < Length, and
// Length is at least a minute.
type Schedule struct {
	Length time.Duration // 0: TorPeriodLength
	Offset time.Duration // start of period 0 after the Unix epoch; ignored when Length is 0
}

func (s Schedule) norm() Schedule {
	if s.Length == 0 {
		return Schedule{Length: TorPeriodLength, Offset: TorPeriodOffset}
	}
	return s
}

// Validate reports a schedule that slots cannot be derived for. Errors wrap
// ErrBadRendezvous.
func (s Schedule) Validate() error {
	n := s.norm()
	switch {
	case n.Length < time.Minute || n.Length%time.Second != 0:
		return fmt.Errorf("schedule: period length %v is not whole seconds of at least a minute: %w", n.Length, ErrBadRendezvous)
	case n.Offset < 0 || n.Offset >= n.Length || n.Offset%time.Second != 0:
		return fmt.Errorf("schedule: offset %v is not whole seconds in [0, %v): %w", n.Offset, n.Length, ErrBadRendezvous)
	}
	return nil
}

// Period returns the number of the period that holds at: floor((unix
// seconds - offset) / length). Instants before period 0 are in period 0.
func (s Schedule) Period(at time.Time) uint64 {
	n := s.norm()
	sec := at.Unix() - int64(n.Offset/time.Second)
	if sec < 0 {
		return 0
	}
	return uint64(sec / int64(n.Length/time.Second))
}

// Bounds returns the start and the end (exclusive) of period p.
func (s Schedule) Bounds(p uint64) (start, end time.Time) {
	n := s.norm()
	l := int64(n.Length / time.Second)
	st := int64(p)*l + int64(n.Offset/time.Second)
	return time.Unix(st, 0).UTC(), time.Unix(st+l, 0).UTC()
}

// Slot is one rendezvous onion identity: slot Index of period Period of a
// swarm. Its key is as secret as the link (every link holder can compute
// it); String, Format, GoString and LogValue show the period and index only.
type Slot struct {
	Period     uint64
	Index      int
	Start, End time.Time // the period's bounds (End exclusive)
	key        ed25519.PrivateKey
}

// SlotSeed returns the 32-byte Ed25519 seed of slot i of period p:
//
//	BLAKE3-derive_key("hydre rendezvous slot v1",
//	    secret (32) || length (8) || offset (8) || p (8) || i (1))
//
// length and offset in seconds, all big endian. Errors wrap
// ErrBadRendezvous.
func SlotSeed(secret SwarmSecret, s Schedule, p uint64, i int) ([32]byte, error) {
	if secret.IsZero() {
		return [32]byte{}, fmt.Errorf("slot seed: no swarm secret: %w", ErrBadRendezvous)
	}
	if err := s.Validate(); err != nil {
		return [32]byte{}, fmt.Errorf("slot seed: %w", err)
	}
	if i < 0 || i >= RendezvousSlots {
		return [32]byte{}, fmt.Errorf("slot seed: index %d not in [0, %d): %w", i, RendezvousSlots, ErrBadRendezvous)
	}
	n := s.norm()
	m := make([]byte, 0, 32+8+8+8+1)
	m = append(m, secret[:]...)
	m = binary.BigEndian.AppendUint64(m, uint64(n.Length/time.Second))
	m = binary.BigEndian.AppendUint64(m, uint64(n.Offset/time.Second))
	m = binary.BigEndian.AppendUint64(m, p)
	m = append(m, byte(i))
	var seed [32]byte
	blake3.DeriveKey(kdfSlot, m, seed[:])
	return seed, nil
}

// DeriveSlot returns slot i of period p of the swarm of secret.
func DeriveSlot(secret SwarmSecret, s Schedule, p uint64, i int) (Slot, error) {
	seed, err := SlotSeed(secret, s, p, i)
	if err != nil {
		return Slot{}, err
	}
	start, end := s.Bounds(p)
	return Slot{Period: p, Index: i, Start: start, End: end, key: ed25519.NewKeyFromSeed(seed[:])}, nil
}

// SlotsAt returns the slots to serve and to ask at instant at: those of
// every period that meets [at - margin, at + margin], in order of period
// then index. Near a boundary that is the current period's and the next's
// (or the previous one's); elsewhere RendezvousSlots slots. margin is at
// least 0 and less than half a period (DefaultSlotMargin for Tor's).
func SlotsAt(secret SwarmSecret, s Schedule, at time.Time, margin time.Duration) ([]Slot, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("slots: %w", err)
	}
	if margin < 0 || 2*margin >= s.norm().Length {
		return nil, fmt.Errorf("slots: margin %v is not in [0, half a period): %w", margin, ErrBadRendezvous)
	}
	first, last := s.Period(at.Add(-margin)), s.Period(at.Add(margin))
	var out []Slot
	for p := first; p <= last; p++ {
		for i := range RendezvousSlots {
			sl, err := DeriveSlot(secret, s, p, i)
			if err != nil {
				return nil, fmt.Errorf("slots: %w", err)
			}
			out = append(out, sl)
		}
	}
	return out, nil
}

// PrivateKey returns the slot's Ed25519 private key, the onion service key
// a host publishes the slot with (tor's ADD_ONION ED25519-V3).
func (s Slot) PrivateKey() ed25519.PrivateKey { return s.key }

// PublicKey returns the slot's Ed25519 public key, which names its onion.
func (s Slot) PublicKey() [32]byte { return [32]byte(s.key.Public().(ed25519.PublicKey)) }

// Address returns the slot's onion address with port:
// "<56 characters>.onion:port".
func (s Slot) Address(port int) string { return peerString(s.PublicKey(), port) }

// String shows the period and index, never the key or the address.
func (s Slot) String() string {
	return fmt.Sprintf("rendezvous slot %d of period %d", s.Index, s.Period)
}

// GoString is String.
func (s Slot) GoString() string { return s.String() }

// Format redacts the slot for every fmt verb.
func (s Slot) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue logs the period and index only.
func (s Slot) LogValue() slog.Value {
	return slog.GroupValue(slog.Uint64("period", s.Period), slog.Int("index", s.Index))
}
