package onion

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"golang.org/x/net/proxy"
)

// Dial connects to a v3 onion service through tor's SOCKS port. addr must be
// "<56 chars>.onion:port": anything else is refused before any traffic, so
// this layer never resolves names or reaches the clear net. Dials with
// different opt.Isolation tags use different circuits (IsolateSOCKSAuth).
func (t *Tor) Dial(ctx context.Context, addr string, opt DialOptions) (net.Conn, error) {
	host, port, err := ParseAddress(addr)
	if err != nil {
		return nil, fmt.Errorf("dial onion: %w", err)
	}
	if opt.ClientKey != nil {
		id := strings.TrimSuffix(host, onionSuffix)
		if _, err := t.request("ONION_CLIENT_AUTH_ADD %s x25519:%s", id,
			base64.StdEncoding.EncodeToString(opt.ClientKey[:])); err != nil {
			return nil, fmt.Errorf("dial onion: add client key: %w", err)
		}
	}
	socks, err := t.socksAddr()
	if err != nil {
		return nil, fmt.Errorf("dial onion: %w", err)
	}
	user, pass := isolationAuth(opt.Isolation)
	d, err := proxy.SOCKS5("tcp", socks, &proxy.Auth{User: user, Password: pass}, loopbackOnly{})
	if err != nil {
		return nil, fmt.Errorf("dial onion: %w", err)
	}
	c, err := d.(proxy.ContextDialer).DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("dial onion: %w", explainSOCKS(err))
	}
	return c, nil
}

// ErrClientAuth is returned by Dial when the service requires a client key
// and none, or a wrong one, was given.
var ErrClientAuth = errors.New("onion service requires client authorization: missing or wrong client key")

// torSOCKSErrors are tor's extended SOCKS5 replies (SocksPort ExtendedErrors).
var torSOCKSErrors = map[int]error{
	0xF0: errors.New("onion service descriptor not found (service offline or not yet published)"),
	0xF1: errors.New("onion service descriptor is invalid"),
	0xF2: errors.New("onion service introduction failed"),
	0xF3: errors.New("onion service rendezvous failed"),
	0xF4: ErrClientAuth,
	0xF5: ErrClientAuth,
	0xF6: errors.New("invalid onion address"),
	0xF7: errors.New("onion service introduction timed out"),
}

// explainSOCKS replaces x/net's "unknown code: 244" by what tor meant.
func explainSOCKS(err error) error {
	s := err.Error()
	i := strings.Index(s, "unknown code: ")
	if i < 0 {
		return err
	}
	code, convErr := strconv.Atoi(strings.TrimSpace(s[i+len("unknown code: "):]))
	if convErr != nil {
		return err
	}
	if e, ok := torSOCKSErrors[code]; ok {
		return e
	}
	return err
}

// isolationAuth maps an isolation tag to SOCKS credentials. Tor puts streams
// with different credentials on different circuits; the mapping is one to
// one for tags up to 200 bytes, hashed beyond (SOCKS5 allows 255).
func isolationAuth(tag string) (user, pass string) {
	if len(tag) > 200 {
		sum := sha256.Sum256([]byte(tag))
		tag = "sha256:" + hex.EncodeToString(sum[:])
	}
	return "hydre:" + tag, "hydre"
}

// loopbackOnly is the forward dialer of the SOCKS client: it reaches only
// tor's SOCKS port on loopback.
type loopbackOnly struct{}

func (loopbackOnly) Dial(network, addr string) (net.Conn, error) {
	return loopbackOnly{}.DialContext(context.Background(), network, addr)
}

func (loopbackOnly) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("tor socks port %s is not on loopback", addr)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	limitSendBuffer(c)
	return c, nil
}

// sendBuffer is the kernel send buffer of every connection to tor (SOCKS
// streams and the connections tor makes to a service). Tor reads from a
// stream only as fast as its circuit sends, so whatever the kernel accepts
// beyond that waits in the socket: with Linux's default autotuning, 2-4 MB
// per stream were measured on the private network, seconds of data at a
// circuit's rate that no Cancel can recall and that a more urgent chunk
// (a player's seek) must queue behind. A small buffer keeps that data in
// the application, which decides what to send next. Tor's own receive
// buffer still holds a few hundred KB, enough to keep the circuit busy.
const sendBuffer = 64 << 10

// limitSendBuffer sets c's send buffer to sendBuffer (the kernel doubles it
// for its bookkeeping); a failure only costs latency, so it is ignored.
func limitSendBuffer(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(sendBuffer)
	}
}
