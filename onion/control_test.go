package onion

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cretz/bine/control"
)

// fakeControl is a tor control port as far as authentication goes: it
// answers PROTOCOLINFO with methods, AUTHCHALLENGE as tor does when it knows
// cookie (or with a made-up hash when knowsCookie is false, as a program
// squatting the port would), and records every AUTHENTICATE it receives.
type fakeControl struct {
	methods     string
	cookieFile  string
	cookie      []byte
	knowsCookie bool

	authenticates []string // arguments of AUTHENTICATE, in order
	authOK        bool
}

func (f *fakeControl) serve(t *testing.T, nc net.Conn) {
	defer nc.Close()
	r := bufio.NewReader(nc)
	var clientNonce, serverNonce []byte
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch cmd {
		case "PROTOCOLINFO":
			fmt.Fprintf(nc, "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=%s COOKIEFILE=%q\r\n250-VERSION Tor=\"0.4.9.3\"\r\n250 OK\r\n",
				f.methods, f.cookieFile)
		case "AUTHCHALLENGE":
			fields := strings.Fields(arg)
			clientNonce, _ = hex.DecodeString(fields[1])
			serverNonce = make([]byte, 32)
			rand.Read(serverNonce)
			hash := make([]byte, 32)
			if f.knowsCookie {
				hash = hmacOf(safeCookieServerKey, f.cookie, clientNonce, serverNonce)
			} else {
				rand.Read(hash)
			}
			fmt.Fprintf(nc, "250 AUTHCHALLENGE SERVERHASH=%X SERVERNONCE=%X\r\n", hash, serverNonce)
		case "AUTHENTICATE":
			f.authenticates = append(f.authenticates, arg)
			want := hex.EncodeToString(hmacOf(safeCookieClientKey, f.cookie, clientNonce, serverNonce))
			if f.knowsCookie && strings.EqualFold(arg, want) {
				f.authOK = true
				fmt.Fprint(nc, "250 OK\r\n")
			} else {
				fmt.Fprint(nc, "515 Authentication failed: Safe cookie response did not match expected value.\r\n")
			}
		default:
			fmt.Fprint(nc, "510 Unrecognized command\r\n")
		}
	}
}

func hmacOf(key string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func TestAuthenticate(t *testing.T) {
	cookie := make([]byte, 32)
	rand.Read(cookie)
	cookieFile := filepath.Join(t.TempDir(), "control_auth_cookie")
	if err := os.WriteFile(cookieFile, cookie, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		methods     string
		knowsCookie bool
		cfg         Config
		wantErr     string // "" for success
		wantAuths   int    // AUTHENTICATE commands the fake may receive
	}{
		{name: "safecookie from protocolinfo", methods: "COOKIE,SAFECOOKIE", knowsCookie: true, wantAuths: 1},
		{name: "safecookie from configured file", methods: "COOKIE,SAFECOOKIE", knowsCookie: true,
			cfg: Config{ControlCookie: cookieFile}, wantAuths: 1},
		{name: "squatter that does not know the cookie", methods: "COOKIE,SAFECOOKIE",
			wantErr: "does not know the cookie", wantAuths: 0},
		{name: "plain cookie only", methods: "COOKIE", cfg: Config{ControlCookie: cookieFile},
			wantErr: "only plain COOKIE", wantAuths: 0},
		{name: "no authentication", methods: "NULL", wantErr: ErrControlNoAuth.Error(), wantAuths: 0},
		{name: "password needed", methods: "HASHEDPASSWORD", wantErr: "needs a password", wantAuths: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeControl{methods: tt.methods, cookieFile: cookieFile, cookie: cookie, knowsCookie: tt.knowsCookie}
			client, server := net.Pipe()
			done := make(chan struct{})
			go func() { defer close(done); f.serve(t, server) }()
			c := control.NewConn(textproto.NewConn(client))
			tor := &Tor{cfg: tt.cfg}
			err := tor.authenticate(c)
			c.Close()
			<-done
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("authenticate: %v", err)
			case tt.wantErr == "" && !f.authOK:
				t.Fatal("authenticate returned nil, but the fake tor never accepted it")
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("authenticate = %v, want an error saying %q", err, tt.wantErr)
			}
			if len(f.authenticates) != tt.wantAuths {
				t.Fatalf("AUTHENTICATE sent %d times (%q), want %d", len(f.authenticates), f.authenticates, tt.wantAuths)
			}
			for _, a := range f.authenticates {
				if strings.Contains(strings.ToLower(a), hex.EncodeToString(cookie)) {
					t.Fatal("the cookie itself was sent")
				}
			}
		})
	}
}

func TestCheckControlAddr(t *testing.T) {
	tests := []struct {
		addr string
		want error // nil: accepted; errAny (transport_test.go): refused for its form
	}{
		{"127.0.0.1:9051", nil},
		{"127.1.2.3:9051", nil},
		{"[::1]:9051", nil},
		{"localhost:9051", nil},
		{"LOCALHOST:9051", nil},
		{"[::ffff:127.0.0.1]:9051", nil},
		{"192.168.1.10:9051", ErrControlNotLoopback},
		{"10.0.0.1:9051", ErrControlNotLoopback},
		{"example.com:9051", ErrControlNotLoopback},
		{"0.0.0.0:9051", ErrControlNotLoopback},
		{"127.0.0.1", errAny},
		{"", errAny},
	}
	for _, tt := range tests {
		err := checkControlAddr(tt.addr)
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("checkControlAddr(%q) = %v, want nil", tt.addr, err)
		case tt.want != nil && err == nil:
			t.Errorf("checkControlAddr(%q) = nil, want an error", tt.addr)
		case tt.want != nil && tt.want != errAny && !errors.Is(err, tt.want):
			t.Errorf("checkControlAddr(%q) = %v, want %v", tt.addr, err, tt.want)
		}
	}
}

// TestStartRefusesRemoteControl checks the address is refused before any
// dial: nothing listens on 192.0.2.1 (TEST-NET-1), so a dial would time out.
func TestStartRefusesRemoteControl(t *testing.T) {
	_, err := Start(t.Context(), Config{ControlAddr: "192.0.2.1:9051"})
	if !errors.Is(err, ErrControlNotLoopback) {
		t.Fatalf("Start with a remote control address: %v, want ErrControlNotLoopback", err)
	}
}
