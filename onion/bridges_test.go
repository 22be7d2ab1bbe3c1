package onion

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckBridgeLine(t *testing.T) {
	tests := []struct {
		line    string
		wantErr string // "" for a good line
	}{
		{"obfs4 192.0.2.1:443 " + fp + " cert=abc iat-mode=0", ""},
		{"Bridge obfs4 192.0.2.1:443 " + fp + " cert=abc iat-mode=0", ""},
		{"obfs4 [2001:db8::1]:443 " + fp + " cert=abc iat-mode=0", ""},
		{"snowflake 192.0.2.3:80 " + fp + " url=https://x/ front=y", ""},
		{"192.0.2.4:9001 " + fp, ""},
		{"192.0.2.4:9001", ""},
		{"", "empty"},
		{"Bridge ", "empty"},
		{"obfs4", "no address"},
		{"obfs4 bridge.example.com:443 " + fp + " cert=x", "not an IP address and port"},
		{"obfs4 192.0.2.1 " + fp + " cert=x", "not an IP address and port"},
		{"obfs4 192.0.2.1:0 " + fp + " cert=x", "not an IP address and port"},
		{"obfs4 192.0.2.1:443 ABCDEF cert=x", "not a fingerprint"},
		{"obfs4 192.0.2.1:443 " + fp + " iat-mode=0", "needs its cert="},
		{"obfs4 192.0.2.1:443 " + fp + " cert=x stray", "not a key=value"},
		{"webtunnel 192.0.2.5:443 " + fp + " url=x", "unknown pluggable transport \"webtunnel\""},
		{"192.0.2.4:9001 " + fp + " cert=x", "need a pluggable transport"},
		{"obfs4 192.0.2.1:443 " + fp + " cert=x\nSocksPort 0.0.0.0:9050", "several lines"},
		{"obfs4 192.0.2.1:443 " + fp + " cert=x#y", "comment"},
	}
	for _, tt := range tests {
		err := CheckBridgeLine(tt.line)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("CheckBridgeLine(%q) = %v, want nil", tt.line, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("CheckBridgeLine(%q) = %v, want an error containing %q", tt.line, err, tt.wantErr)
		case err != nil && !errors.Is(err, ErrBadBridge):
			t.Errorf("CheckBridgeLine(%q) = %v, does not wrap ErrBadBridge", tt.line, err)
		}
	}
}

// TestBuiltinBridges checks every built-in line and the torrc a managed
// tor gets for each built-in choice.
func TestBuiltinBridges(t *testing.T) {
	defer func(old func(string) (string, error)) { lookPath = old }(lookPath)
	lookPath = func(prog string) (string, error) { return "/usr/bin/" + prog, nil }
	tests := []struct {
		choice  string
		n       int
		plugin  string
		notWant string
	}{
		{BridgesObfs4, 7, "ClientTransportPlugin meek_lite,obfs3,obfs4,scramblesuit exec /usr/bin/obfs4proxy", "snowflake"},
		{BridgesSnowflake, 2, "ClientTransportPlugin snowflake exec /usr/bin/snowflake-client", "obfs4"},
	}
	for _, tt := range tests {
		t.Run(tt.choice, func(t *testing.T) {
			lines, err := BuiltinBridges(tt.choice)
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != tt.n {
				t.Fatalf("%d built-in %s lines, want %d", len(lines), tt.choice, tt.n)
			}
			for _, l := range lines {
				if err := CheckBridgeLine(l); err != nil {
					t.Errorf("built-in line: %v", err)
				}
				if bridgeTransport(l) != tt.choice {
					t.Errorf("built-in %s line of transport %q", tt.choice, bridgeTransport(l))
				}
			}
			lines[0] = "changed" // a copy: the next caller gets the real lines
			if again, _ := BuiltinBridges(tt.choice); again[0] == "changed" {
				t.Fatal("BuiltinBridges hands out its own slice")
			}
			torrc, err := buildTorrc(torrcParams{DataDirectory: "/d", ControlPortFile: "/d/p", CookieFile: "/d/c", Bridges: again(t, tt.choice)})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(torrc, "\n")
			for _, w := range append([]string{"UseBridges 1", tt.plugin}, prefixed(again(t, tt.choice))...) {
				if !containsLine(got, w) {
					t.Errorf("torrc lacks %q:\n%s", w, torrc)
				}
			}
			if strings.Contains(torrc, tt.notWant) {
				t.Errorf("torrc of %s bridges mentions %s:\n%s", tt.choice, tt.notWant, torrc)
			}
			if n := strings.Count(torrc, "\nBridge "); n != tt.n {
				t.Errorf("torrc has %d Bridge lines, want %d", n, tt.n)
			}
		})
	}
	if _, err := BuiltinBridges("meek"); err == nil || !strings.Contains(err.Error(), "obfs4 or snowflake") {
		t.Errorf("BuiltinBridges(meek) = %v, want an error naming the choices", err)
	}
}

func again(t *testing.T, choice string) []string {
	l, err := BuiltinBridges(choice)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func prefixed(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "Bridge " + l
	}
	return out
}

// FuzzCheckBridgeLine feeds pasted lines to the checker: it never panics,
// and a line it accepts never spans two torrc lines.
func FuzzCheckBridgeLine(f *testing.F) {
	for _, c := range BridgeChoices {
		for _, l := range builtinBridges[c] {
			f.Add(l)
		}
	}
	f.Add("192.0.2.4:9001 " + fp)
	f.Fuzz(func(t *testing.T, line string) {
		if CheckBridgeLine(line) == nil && strings.ContainsAny(line, "\r\n\x00") {
			t.Fatalf("accepted a line with a line break: %q", line)
		}
	})
}
