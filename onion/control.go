package onion

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/textproto"
	"os"
	"strings"

	"github.com/cretz/bine/control"
)

// ErrControlNotLoopback is returned by Start when Config.ControlAddr is not
// a loopback address: the control protocol is plain text, and whoever holds
// a tor's control port can read every onion key hydre hands it.
var ErrControlNotLoopback = errors.New("tor control address must be on this machine (127.0.0.1, ::1 or localhost)")

// ErrControlNoAuth is returned by Start when the tor to attach to accepts
// controllers without authentication: every local program (and every web
// page that reaches 127.0.0.1) could then take its onion keys.
var ErrControlNoAuth = errors.New("tor control port accepts anyone without authentication: set CookieAuthentication 1 or HashedControlPassword in its torrc")

// checkControlAddr refuses a control address that is not loopback, before
// anything is dialled.
func checkControlAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("tor control address %q: want host:port", addr)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() {
		return fmt.Errorf("%w: got %q", ErrControlNotLoopback, host)
	}
	return nil
}

// dialControl connects to a control port and authenticates.
func (t *Tor) dialControl(ctx context.Context, addr string) (*control.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to tor control port: %w", err)
	}
	c := control.NewConn(textproto.NewConn(nc))
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	if err := t.authenticate(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// authenticate uses the configured password, else the cookie (the
// configured file, else the one PROTOCOLINFO names) through SAFECOOKIE only:
// plain COOKIE hands the secret to whatever answers on the port, while
// SAFECOOKIE makes the other end prove it knows the cookie first. A tor that
// asks for no authentication at all is refused (ErrControlNoAuth).
func (t *Tor) authenticate(c *control.Conn) error {
	pi, err := c.ProtocolInfo()
	if err != nil {
		return fmt.Errorf("tor control port: protocolinfo: %w", err)
	}
	offers := strings.Join(pi.AuthMethods, ", ")
	switch {
	case t.cfg.ControlPassword != "":
		if !pi.HasAuthMethod("HASHEDPASSWORD") {
			return fmt.Errorf("tor control port does not accept a password (it offers %s)", offers)
		}
		if _, err := c.SendRequest("AUTHENTICATE %s", quoteControl(t.cfg.ControlPassword)); err != nil {
			return fmt.Errorf("tor control port rejected the password: %w", err)
		}
	case pi.HasAuthMethod("SAFECOOKIE"):
		path := t.cfg.ControlCookie
		if path == "" {
			path = pi.CookieFile
		}
		if err := safeCookie(c, path); err != nil {
			return err
		}
	case t.cfg.ControlCookie != "" && pi.HasAuthMethod("COOKIE"):
		return fmt.Errorf("tor control port offers only plain COOKIE authentication, which hands the cookie to whatever listens on the port; use a tor that offers SAFECOOKIE (0.2.3 or later) or a password")
	case pi.HasAuthMethod("HASHEDPASSWORD"):
		return errors.New("tor control port needs a password")
	case pi.HasAuthMethod("NULL"):
		return ErrControlNoAuth
	default:
		return fmt.Errorf("tor control port offers no authentication hydre can use (it offers %s)", offers)
	}
	c.Authenticated = true
	return nil
}

// SAFECOOKIE's HMAC keys (control-spec §3.24).
const (
	safeCookieServerKey = "Tor safe cookie authentication server-to-controller hash"
	safeCookieClientKey = "Tor safe cookie authentication controller-to-server hash"
)

// safeCookie runs the SAFECOOKIE challenge with the cookie at path: the
// server's hash is checked before the client's is sent.
func safeCookie(c *control.Conn, path string) error {
	if path == "" {
		return errors.New("tor control port names no cookie file; give its path")
	}
	cookie, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read tor control cookie: %w", err)
	}
	if len(cookie) != 32 {
		return fmt.Errorf("tor control cookie %s has %d bytes, want 32", path, len(cookie))
	}
	var clientNonce [32]byte
	if _, err := rand.Read(clientNonce[:]); err != nil {
		return fmt.Errorf("safecookie nonce: %w", err)
	}
	resp, err := c.SendRequest("AUTHCHALLENGE SAFECOOKIE %s", hex.EncodeToString(clientNonce[:]))
	if err != nil {
		return fmt.Errorf("tor control port: authchallenge: %w", err)
	}
	serverHash, serverNonce, err := parseAuthChallenge(resp.Reply)
	if err != nil {
		return fmt.Errorf("tor control port: authchallenge: %w", err)
	}
	mac := func(key string) []byte {
		m := hmac.New(sha256.New, []byte(key))
		m.Write(cookie)
		m.Write(clientNonce[:])
		m.Write(serverNonce)
		return m.Sum(nil)
	}
	if !hmac.Equal(serverHash, mac(safeCookieServerKey)) {
		return errors.New("tor control port does not know the cookie: whatever answers on that port is not the tor that wrote it")
	}
	if _, err := c.SendRequest("AUTHENTICATE %s", hex.EncodeToString(mac(safeCookieClientKey))); err != nil {
		return fmt.Errorf("tor control port rejected the cookie: %w", err)
	}
	return nil
}

// parseAuthChallenge reads "AUTHCHALLENGE SERVERHASH=<64 hex>
// SERVERNONCE=<64 hex>".
func parseAuthChallenge(reply string) (hash, nonce []byte, err error) {
	f := strings.Fields(reply)
	if len(f) != 3 || f[0] != "AUTHCHALLENGE" {
		return nil, nil, fmt.Errorf("unexpected reply %q", reply)
	}
	for _, kv := range f[1:] {
		k, v, _ := strings.Cut(kv, "=")
		b, err := hex.DecodeString(v)
		if err != nil || len(b) != 32 {
			return nil, nil, fmt.Errorf("bad %s", k)
		}
		switch k {
		case "SERVERHASH":
			hash = b
		case "SERVERNONCE":
			nonce = b
		}
	}
	if hash == nil || nonce == nil {
		return nil, nil, fmt.Errorf("unexpected reply %q", reply)
	}
	return hash, nonce, nil
}

// quoteControl quotes s as a control-protocol QuotedString.
func quoteControl(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", `\r`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
