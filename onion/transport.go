package onion

import (
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha3"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// DefaultPort is the virtual port of hydre's onion services when a
// ServiceConfig leaves Port at zero.
const DefaultPort = 7446

// Transport is the seam between the engine and the network: services that
// accept connections and dials to services, both named by onion addresses.
// *Tor implements it on the Tor network; onion/memnet implements it in memory
// for tests.
type Transport interface {
	// Listen publishes a service and returns once it is reachable.
	Listen(ctx context.Context, cfg ServiceConfig) (Listener, error)
	// Dial connects to addr, which must be "<56 chars>.onion:port".
	Dial(ctx context.Context, addr string, opt DialOptions) (net.Conn, error)
}

// ServiceConfig describes an onion service to publish.
type ServiceConfig struct {
	// Key is the service identity; nil asks for a fresh ephemeral one.
	Key ed25519.PrivateKey
	// Port is the virtual port clients dial; 0 means DefaultPort.
	Port int
	// ClientAuth, when not empty, restricts the service to clients holding
	// the private half of one of these keys (v3 client authorization).
	ClientAuth []ClientPublicKey
	// MaxStreams bounds the streams one client circuit may have open at
	// once; a circuit that opens more is closed by tor. 0 means
	// DefaultMaxStreams. hydre opens one stream per circuit.
	MaxStreams int
	// PublishTimeout bounds the wait for the service's descriptor to be
	// uploaded; 0 means DefaultPublishTimeout. Listen fails after it and
	// removes the service, so that the caller may add it again.
	PublishTimeout time.Duration
}

// DefaultPublishTimeout is ServiceConfig.PublishTimeout when it is 0. Tor
// uploads a service's descriptor once and, when every directory refuses
// it or the upload circuits fail, tries again only 60 to 120 minutes
// later; a Listen without a deadline would wait that long. Measured with
// 50 services added at once over one tor under -race on a loaded 2-core
// machine: 47 published within 25 s, the last 3 (whose uploads were all
// UPLOAD_REJECTED) only after 9.5 min. Removing the service and adding it
// again makes tor build and upload a fresh descriptor.
const DefaultPublishTimeout = 2 * time.Minute

// DefaultMaxStreams is ServiceConfig.MaxStreams when it is 0: well above the
// one stream per circuit hydre's own dialers open, far below what a client
// flooding one circuit with streams would want.
const DefaultMaxStreams = 8

// DialOptions tunes one Dial.
type DialOptions struct {
	// Isolation is a stream-isolation tag: dials with different tags use
	// different circuits. The empty tag is a tag like any other.
	Isolation string
	// ClientKey is the client-authorization key for the target service,
	// or nil.
	ClientKey *ClientPrivateKey
}

// Listener is a net.Listener for an onion service.
type Listener interface {
	net.Listener
	// Address returns "<56 chars>.onion:port".
	Address() string
}

// ClientPrivateKey is the x25519 private key of a client authorized to reach
// a private onion service. Its text form is unpadded upper-case base32, as
// tor writes it; it is a secret and formats redacted.
type ClientPrivateKey [32]byte

// ClientPublicKey is the x25519 public key a service lists to authorize a
// client. Its text form is unpadded upper-case base32, as in tor's
// "descriptor:x25519:" lines.
type ClientPublicKey [32]byte

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// GenerateClientKey returns a fresh client-authorization key pair.
func GenerateClientKey() (ClientPrivateKey, ClientPublicKey, error) {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return ClientPrivateKey{}, ClientPublicKey{}, fmt.Errorf("generate client key: %w", err)
	}
	var priv ClientPrivateKey
	var pub ClientPublicKey
	copy(priv[:], k.Bytes())
	copy(pub[:], k.PublicKey().Bytes())
	return priv, pub, nil
}

// Public returns the public key matching k.
func (k ClientPrivateKey) Public() ClientPublicKey {
	var pub ClientPublicKey
	p, err := ecdh.X25519().NewPrivateKey(k[:])
	if err != nil { // cannot happen: every 32-byte string is an x25519 key
		panic("onion: x25519 private key: " + err.Error())
	}
	copy(pub[:], p.PublicKey().Bytes())
	return pub
}

// MarshalText returns the base32 form of the secret key.
func (k ClientPrivateKey) MarshalText() ([]byte, error) { return []byte(b32.EncodeToString(k[:])), nil }

// UnmarshalText parses the base32 form (either case).
func (k *ClientPrivateKey) UnmarshalText(b []byte) error {
	return decodeKey32(k[:], string(b), "client private key")
}

// String redacts the key; use MarshalText for its text.
func (k ClientPrivateKey) String() string { return "ClientPrivateKey(redacted)" }

// LogValue redacts the key in log/slog output, which would otherwise print
// MarshalText's secret.
func (k ClientPrivateKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// GoString redacts the key.
func (k ClientPrivateKey) GoString() string { return k.String() }

// String returns the base32 form of the public key.
func (k ClientPublicKey) String() string { return b32.EncodeToString(k[:]) }

// MarshalText returns the base32 form of the public key.
func (k ClientPublicKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses the base32 form (either case).
func (k *ClientPublicKey) UnmarshalText(b []byte) error {
	return decodeKey32(k[:], string(b), "client public key")
}

// ParseClientPublicKey parses the base32 text of a client public key.
func ParseClientPublicKey(s string) (ClientPublicKey, error) {
	var k ClientPublicKey
	err := k.UnmarshalText([]byte(s))
	return k, err
}

// ParseClientPrivateKey parses the base32 text of a client private key.
func ParseClientPrivateKey(s string) (ClientPrivateKey, error) {
	var k ClientPrivateKey
	err := k.UnmarshalText([]byte(s))
	return k, err
}

func decodeKey32(dst []byte, s, what string) error {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 52 {
		return fmt.Errorf("parse %s: want 52 base32 characters, got %d", what, len(s))
	}
	b, err := b32.DecodeString(s)
	if err != nil || len(b) != 32 {
		return fmt.Errorf("parse %s: not base32", what)
	}
	copy(dst, b)
	return nil
}

// Errors returned by ParseAddress, wrapped with detail.
var (
	// ErrNotOnion is returned for anything that is not a v3 onion name:
	// clearnet names, IP addresses, v2 names.
	ErrNotOnion = errors.New("not a v3 onion address")
	// ErrBadChecksum is returned for a v3-shaped name whose checksum or
	// version byte is wrong (usually a typo).
	ErrBadChecksum = errors.New("bad onion address checksum")
)

const (
	onionSuffix  = ".onion"
	v3Version    = 3
	checksumSalt = ".onion checksum"
)

// ParseAddress validates "<56 chars>.onion:port" and returns the host
// (lower case, with ".onion") and the port. The name must be a v3 address
// with a correct version byte and checksum, and the port a plain decimal
// number; anything else is rejected, so a caller that dials only what
// ParseAddress accepts never leaves Tor. The check is crypto.ParseOnion's,
// hydre's one validator of onion addresses.
func ParseAddress(addr string) (host string, port int, err error) {
	pub, port, err := hcrypto.ParseOnion(addr)
	if err != nil {
		return "", 0, fmt.Errorf("parse onion address: %w", onionError(err))
	}
	return serviceID(pub[:]) + onionSuffix, port, nil
}

// parseHost validates a v3 onion host name and returns its ed25519 public key.
func parseHost(h string) (ed25519.PublicKey, error) {
	pub, err := hcrypto.ParseOnionHost(h)
	if err != nil {
		return nil, fmt.Errorf("parse onion address: %w", onionError(err))
	}
	return ed25519.PublicKey(pub[:]), nil
}

// onionError gives an error of crypto.ParseOnion this package's sentinel.
func onionError(err error) error {
	if errors.Is(err, hcrypto.ErrOnionChecksum) {
		return fmt.Errorf("%w: %w", ErrBadChecksum, err)
	}
	return fmt.Errorf("%w: %w", ErrNotOnion, err)
}

func checksum(pub []byte) [2]byte {
	h := sha3.New256()
	h.Write([]byte(checksumSalt))
	h.Write(pub)
	h.Write([]byte{v3Version})
	var out [2]byte
	copy(out[:], h.Sum(nil))
	return out
}

// serviceID returns the 56-character name of pub, without ".onion".
func serviceID(pub ed25519.PublicKey) string {
	raw := make([]byte, 0, 35)
	raw = append(raw, pub...)
	sum := checksum(pub)
	raw = append(raw, sum[0], sum[1], v3Version)
	return strings.ToLower(b32.EncodeToString(raw))
}

// AddressForKey returns "<56 chars>.onion:port" for the service identity pub.
// Port 0 means DefaultPort.
func AddressForKey(pub ed25519.PublicKey, port int) string {
	if port == 0 {
		port = DefaultPort
	}
	return net.JoinHostPort(serviceID(pub)+onionSuffix, strconv.Itoa(port))
}
