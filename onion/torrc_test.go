package onion

import (
	"errors"
	"strings"
	"testing"
)

// fp is a fingerprint of the right form.
const fp = "0123456789ABCDEF0123456789ABCDEF01234567"

func TestBuildTorrc(t *testing.T) {
	defer func(old func(string) (string, error)) { lookPath = old }(lookPath)
	lookPath = func(prog string) (string, error) {
		switch prog {
		case "obfs4proxy":
			return "/usr/bin/obfs4proxy", nil
		case "snowflake-client":
			return "/usr/bin/snowflake-client", nil
		}
		return "", errors.New("not found")
	}
	base := torrcParams{DataDirectory: "/d/data", ControlPortFile: "/d/control-port", CookieFile: "/d/data/cookie", OwnerPID: 42}
	tests := []struct {
		name    string
		bridges []string
		extra   []string
		want    []string // lines that must appear
		notWant []string
		wantErr string
	}{
		{name: "plain", want: []string{"SocksPort 127.0.0.1:auto IsolateSOCKSAuth ExtendedErrors", "ControlPort 127.0.0.1:auto", "CookieAuthentication 1",
			"__OwningControllerProcess 42", "DataDirectory /d/data"}, notWant: []string{"UseBridges", "ClientTransportPlugin"}},
		{name: "obfs4", bridges: []string{"obfs4 192.0.2.1:443 0123456789ABCDEF0123456789ABCDEF01234567 cert=abc iat-mode=0"},
			want: []string{"UseBridges 1", "ClientTransportPlugin meek_lite,obfs3,obfs4,scramblesuit exec /usr/bin/obfs4proxy",
				"Bridge obfs4 192.0.2.1:443 0123456789ABCDEF0123456789ABCDEF01234567 cert=abc iat-mode=0"}},
		{name: "bridge prefix kept once", bridges: []string{"Bridge obfs4 192.0.2.1:443 " + fp + " cert=x", "obfs4 192.0.2.2:443 " + fp + " cert=y"},
			want: []string{"Bridge obfs4 192.0.2.1:443 " + fp + " cert=x", "Bridge obfs4 192.0.2.2:443 " + fp + " cert=y"}, notWant: []string{"Bridge Bridge"}},
		{name: "snowflake", bridges: []string{"snowflake 192.0.2.3:80 2B280B23E1107BB62ABFC40DDCC8824814F80A72 url=https://x"},
			want: []string{"ClientTransportPlugin snowflake exec /usr/bin/snowflake-client", "UseBridges 1"}, notWant: []string{"obfs4proxy"}},
		{name: "vanilla bridge", bridges: []string{"192.0.2.4:9001 0123456789ABCDEF0123456789ABCDEF01234567"},
			want: []string{"UseBridges 1", "Bridge 192.0.2.4:9001 0123456789ABCDEF0123456789ABCDEF01234567"}, notWant: []string{"ClientTransportPlugin"}},
		{name: "unknown transport", bridges: []string{"webtunnel 192.0.2.5:443 " + fp + " url=x"}, wantErr: "unknown pluggable transport"},
		{name: "injection in bridge", bridges: []string{"192.0.2.4:9001 " + fp + "\nSocksPort 0.0.0.0:9050"}, wantErr: "several lines"},
		{name: "injection in extra", extra: []string{"TestingTorNetwork 1\nSocksPort 0.0.0.0:1"}, wantErr: "several lines"},
		{name: "extra lines", extra: []string{"TestingTorNetwork 1", "UseDefaultFallbackDirs 0"}, want: []string{"TestingTorNetwork 1", "UseDefaultFallbackDirs 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base
			p.Bridges, p.Extra = tt.bridges, tt.extra
			got, err := buildTorrc(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("buildTorrc: %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(got, "\n")
			for _, w := range tt.want {
				if !containsLine(lines, w) {
					t.Errorf("torrc lacks %q:\n%s", w, got)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(got, nw) {
					t.Errorf("torrc has %q:\n%s", nw, got)
				}
			}
		})
	}
}

func TestBuildTorrcMissingTransport(t *testing.T) {
	defer func(old func(string) (string, error)) { lookPath = old }(lookPath)
	lookPath = func(string) (string, error) { return "", errors.New("not found") }
	_, err := buildTorrc(torrcParams{Bridges: []string{"snowflake 192.0.2.3:80"}})
	if err == nil || !strings.Contains(err.Error(), "install the package snowflake-client") {
		t.Fatalf("buildTorrc without snowflake-client: %v, want an install hint", err)
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func TestIsolationAuth(t *testing.T) {
	tags := []string{"", "a", "b", "peer-1", strings.Repeat("x", 200), strings.Repeat("x", 201), strings.Repeat("x", 1000)}
	seen := map[string]string{}
	for _, tag := range tags {
		u, p := isolationAuth(tag)
		if len(u) < 1 || len(u) > 255 || len(p) < 1 || len(p) > 255 {
			t.Fatalf("isolationAuth(%d bytes) gives SOCKS5 credentials of %d/%d bytes", len(tag), len(u), len(p))
		}
		if prev, dup := seen[u+"\x00"+p]; dup {
			t.Fatalf("tags %q and %q share credentials", prev, tag)
		}
		seen[u+"\x00"+p] = tag
		if u2, p2 := isolationAuth(tag); u2 != u || p2 != p {
			t.Fatalf("isolationAuth is not deterministic")
		}
	}
}
