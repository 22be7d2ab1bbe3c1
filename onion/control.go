package onion

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"strings"

	"github.com/cretz/bine/control"
)

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

// authenticate uses, in order: the configured password, the configured
// cookie file, then whatever PROTOCOLINFO offers (NULL or the cookie).
func (t *Tor) authenticate(c *control.Conn) error {
	pi, err := c.ProtocolInfo()
	if err != nil {
		return fmt.Errorf("tor control port: protocolinfo: %w", err)
	}
	var authErr error
	switch {
	case t.cfg.ControlPassword != "":
		if !pi.HasAuthMethod("HASHEDPASSWORD") {
			return fmt.Errorf("tor control port does not accept a password (it offers %s)", strings.Join(pi.AuthMethods, ", "))
		}
		_, authErr = c.SendRequest("AUTHENTICATE %s", quoteControl(t.cfg.ControlPassword))
		if authErr != nil {
			return fmt.Errorf("tor control port rejected the password: %w", authErr)
		}
	case t.cfg.ControlCookie != "":
		if !pi.HasAuthMethod("COOKIE") && !pi.HasAuthMethod("SAFECOOKIE") {
			return fmt.Errorf("tor control port does not accept a cookie (it offers %s)", strings.Join(pi.AuthMethods, ", "))
		}
		cookie, err := os.ReadFile(t.cfg.ControlCookie)
		if err != nil {
			return fmt.Errorf("read tor control cookie: %w", err)
		}
		if len(cookie) != 32 {
			return fmt.Errorf("tor control cookie %s has %d bytes, want 32", t.cfg.ControlCookie, len(cookie))
		}
		if !pi.HasAuthMethod("COOKIE") {
			// SAFECOOKIE only: let bine do the challenge with this file.
			return fmt.Errorf("tor control port offers only SAFECOOKIE; leave the cookie path empty to use %s", pi.CookieFile)
		}
		_, authErr = c.SendRequest("AUTHENTICATE %x", cookie)
		if authErr != nil {
			return fmt.Errorf("tor control port rejected the cookie: %w", authErr)
		}
	default:
		if pi.HasAuthMethod("HASHEDPASSWORD") && !pi.HasAuthMethod("NULL") && !pi.HasAuthMethod("SAFECOOKIE") {
			return errors.New("tor control port needs a password")
		}
		if err := c.Authenticate(""); err != nil {
			return fmt.Errorf("authenticate to tor control port: %w", err)
		}
	}
	c.Authenticated = true
	return nil
}

// quoteControl quotes s as a control-protocol QuotedString.
func quoteControl(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", `\r`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
