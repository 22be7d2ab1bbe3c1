package onion

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Real v3 addresses published by their operators.
const (
	torProjectV3 = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"
	duckDuckGoV3 = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		name     string
		addr     string
		wantHost string
		wantPort int
		wantErr  error // nil: success; errAny: some error
	}{
		{"torproject", torProjectV3 + ":443", torProjectV3, 443, nil},
		{"duckduckgo", duckDuckGoV3 + ":80", duckDuckGoV3, 80, nil},
		{"upper case", strings.ToUpper(torProjectV3) + ":1", torProjectV3, 1, nil},
		{"one char changed", "3gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:80", "", 0, ErrBadChecksum},
		{"version byte 2", withVersion(torProjectV3, 2) + ":80", "", 0, ErrBadChecksum},
		{"v2 name", "expyuzz4wqqyqhjn.onion:80", "", 0, ErrNotOnion},
		{"clearnet", "example.com:80", "", 0, ErrNotOnion},
		{"ip", "127.0.0.1:80", "", 0, ErrNotOnion},
		{"subdomain", "www." + torProjectV3 + ":80", "", 0, ErrNotOnion},
		{"no port", torProjectV3, "", 0, ErrNotOnion},
		{"not base32", strings.Repeat("1", 56) + ".onion:80", "", 0, ErrNotOnion},
		{"port zero", torProjectV3 + ":0", "", 0, errAny},
		{"port too big", torProjectV3 + ":65536", "", 0, errAny},
		{"port name", torProjectV3 + ":http", "", 0, errAny},
		{"port with sign", torProjectV3 + ":+80", "", 0, errAny},
		{"port with leading zero", torProjectV3 + ":080", "", 0, errAny},
		{"empty", "", "", 0, ErrNotOnion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, port, err := ParseAddress(tt.addr)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("ParseAddress(%q): %v", tt.addr, err)
				}
				if host != tt.wantHost || port != tt.wantPort {
					t.Fatalf("ParseAddress(%q) = %q, %d; want %q, %d", tt.addr, host, port, tt.wantHost, tt.wantPort)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseAddress(%q) succeeded, want error", tt.addr)
			}
			if tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseAddress(%q) = %v, want %v", tt.addr, err, tt.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

// withVersion re-encodes a v3 name with another version byte and a checksum
// computed for that version, so only the version is wrong.
func withVersion(host string, v byte) string {
	raw, err := b32.DecodeString(strings.ToUpper(strings.TrimSuffix(host, ".onion")))
	if err != nil {
		panic(err)
	}
	raw[34] = v
	return strings.ToLower(b32.EncodeToString(raw)) + ".onion"
}

func TestAddressForKeyRoundTrip(t *testing.T) {
	for i := range 20 {
		seed := make([]byte, ed25519.SeedSize)
		seed[0] = byte(i)
		pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
		for _, port := range []int{0, 1, 80, 65535} {
			addr := AddressForKey(pub, port)
			host, gotPort, err := ParseAddress(addr)
			if err != nil {
				t.Fatalf("ParseAddress(AddressForKey) = %v", err)
			}
			wantPort := port
			if port == 0 {
				wantPort = DefaultPort
			}
			if gotPort != wantPort || len(host) != 62 {
				t.Fatalf("AddressForKey(%x, %d) = %q", pub, port, addr)
			}
			got, err := parseHost(host)
			if err != nil || !got.Equal(pub) {
				t.Fatalf("parseHost(%q) = %x, %v; want %x", host, got, err, pub)
			}
		}
	}
}

func TestAddressForKnownKey(t *testing.T) {
	// The public key inside torproject.org's address gives the address back.
	raw, err := b32.DecodeString(strings.ToUpper(strings.TrimSuffix(torProjectV3, ".onion")))
	if err != nil {
		t.Fatal(err)
	}
	if got := AddressForKey(ed25519.PublicKey(raw[:32]), 443); got != torProjectV3+":443" {
		t.Fatalf("AddressForKey = %q, want %q", got, torProjectV3+":443")
	}
}

func TestClientKeyRFC7748(t *testing.T) {
	// RFC 7748 section 6.1, Alice.
	priv, _ := hex.DecodeString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
	want, _ := hex.DecodeString("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
	var k ClientPrivateKey
	copy(k[:], priv)
	pub := k.Public()
	if hex.EncodeToString(pub[:]) != hex.EncodeToString(want) {
		t.Fatalf("Public() = %x, want %x", pub, want)
	}
}

func TestClientKeyText(t *testing.T) {
	priv, pub, err := GenerateClientKey()
	if err != nil {
		t.Fatal(err)
	}
	if priv.Public() != pub {
		t.Fatal("GenerateClientKey: public key does not match private key")
	}
	ptext, _ := priv.MarshalText()
	qtext, _ := pub.MarshalText()
	if len(ptext) != 52 || len(qtext) != 52 || strings.ToUpper(string(qtext)) != string(qtext) {
		t.Fatalf("text forms %q %q: want 52 upper-case base32 characters", ptext, qtext)
	}
	gotPriv, err := ParseClientPrivateKey(strings.ToLower(string(ptext)))
	if err != nil || gotPriv != priv {
		t.Fatalf("ParseClientPrivateKey round trip: %v", err)
	}
	gotPub, err := ParseClientPublicKey(string(qtext))
	if err != nil || gotPub != pub {
		t.Fatalf("ParseClientPublicKey round trip: %v", err)
	}
	for _, s := range []string{fmt.Sprint(priv), fmt.Sprintf("%v %+v %#v %s", priv, priv, priv, priv)} {
		if strings.Contains(s, string(ptext)) || strings.Contains(strings.ToLower(s), strings.ToLower(string(ptext))) {
			t.Fatalf("formatting a private key leaked it: %q", s)
		}
	}
	// slog prints a TextMarshaler's text unless the value redacts itself.
	var logged bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logged, nil), slog.NewJSONHandler(&logged, nil)} {
		slog.New(h).Info("client key", "key", priv, "ptr", &priv, "group", slog.GroupValue(slog.Any("key", priv)))
	}
	if strings.Contains(strings.ToLower(logged.String()), strings.ToLower(string(ptext))) {
		t.Fatalf("logging a private key leaked it: %s", logged.String())
	}
	for _, bad := range []string{"", "AAAA", strings.Repeat("1", 52), string(qtext) + "A"} {
		if _, err := ParseClientPublicKey(bad); err == nil {
			t.Errorf("ParseClientPublicKey(%q) succeeded", bad)
		}
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{torProjectV3 + ":443", duckDuckGoV3 + ":80", "example.com:80", "[::1]:80", ":", torProjectV3 + ":99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, port, err := ParseAddress(s)
		if err != nil {
			return
		}
		pub, err := parseHost(host)
		if err != nil {
			t.Fatalf("accepted host %q fails parseHost: %v", host, err)
		}
		if got := AddressForKey(pub, port); got != host+":"+fmt.Sprint(port) {
			t.Fatalf("accepted %q but AddressForKey gives %q", s, got)
		}
	})
}

func FuzzParseClientPublicKey(f *testing.F) {
	_, pub, _ := GenerateClientKey()
	f.Add(pub.String())
	f.Add(strings.ToLower(pub.String()))
	f.Add("")
	f.Add(strings.Repeat("A", 52))
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseClientPublicKey(s)
		if err != nil {
			return
		}
		if back, err := ParseClientPublicKey(k.String()); err != nil || back != k {
			t.Fatalf("%q parsed to a key whose text %q does not parse back", s, k.String())
		}
	})
}
