package crypto

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
)

// Key is the read key of one share: it decrypts the chunks and the sealed
// header. It is fresh for every share and travels only inside the link.
// Its String, Format, GoString and LogValue methods redact it, so printing or
// logging a Key (or a struct holding one) never reveals it.
type Key [32]byte

const redacted = "[redacted]"

// NewKey returns a fresh random key.
func NewKey() (Key, error) {
	var k Key
	if _, err := io.ReadFull(rand.Reader, k[:]); err != nil {
		return Key{}, fmt.Errorf("new key: %w", err)
	}
	return k, nil
}

// String returns a redacted placeholder, never the key.
func (Key) String() string { return "hcrypto.Key" + redacted }

// GoString returns a redacted placeholder, never the key.
func (k Key) GoString() string { return k.String() }

// Format redacts the key for every fmt verb (%v, %+v, %#v, %s, %x, ...).
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue redacts the key in structured logs.
func (Key) LogValue() slog.Value { return slog.StringValue(redacted) }
