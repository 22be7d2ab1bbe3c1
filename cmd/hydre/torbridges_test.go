package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hydre-p2p/hydre/gui"
	"github.com/hydre-p2p/hydre/onion"
)

// TestTorBridgeChoices checks the bridge lines a managed tor is given for
// each choice of the app's Settings and of --tor-bridges, with and
// without DATA-DIR/bridges.txt.
func TestTorBridgeChoices(t *testing.T) {
	obfs4, _ := onion.BuiltinBridges(onion.BridgesObfs4)
	snowflake, _ := onion.BuiltinBridges(onion.BridgesSnowflake)
	custom := []string{"obfs4 192.0.2.1:443 0123456789ABCDEF0123456789ABCDEF01234567 cert=abc iat-mode=0"}
	settings := func(choice string) gui.Settings {
		s := gui.DefaultSettings()
		s.Tor.BridgeChoice, s.Tor.Bridges = choice, custom
		return s
	}
	tests := []struct {
		name string
		flag string
		src  func(g *globals) torSource
		want []string
	}{
		{"app: none", "", func(*globals) torSource { return guiTorSource("", settings(gui.BridgesNone)) }, nil},
		{"app: obfs4", "", func(*globals) torSource { return guiTorSource("", settings(gui.BridgesObfs4)) }, obfs4},
		{"app: snowflake", "", func(*globals) torSource { return guiTorSource("", settings(gui.BridgesSnowflake)) }, snowflake},
		{"app: custom", "", func(*globals) torSource { return guiTorSource("", settings(gui.BridgesCustom)) }, custom},
		{"app: --tor-bridges wins", "snowflake", func(*globals) torSource { return guiTorSource("", settings(gui.BridgesObfs4)) }, snowflake},
		{"app: --tor-bridges none", "none", func(*globals) torSource { return guiTorSource("", settings(gui.BridgesObfs4)) }, nil},
		{"cli: none", "", (*globals).cliTorSource, nil},
		{"cli: obfs4", "obfs4", (*globals).cliTorSource, obfs4},
		{"cli: snowflake and bridges.txt", "snowflake", func(g *globals) torSource {
			if err := os.WriteFile(filepath.Join(g.DataDir, "bridges.txt"), []byte("# mine\n"+custom[0]+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return g.cliTorSource()
		}, append(slices.Clone(snowflake), custom...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &globals{DataDir: t.TempDir()}
			if tt.flag != "" {
				if err := g.TorBridges.Set(tt.flag); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := g.torConfig(tt.src(g))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.Bridges, tt.want) {
				t.Errorf("bridges %q, want %q", cfg.Bridges, tt.want)
			}
		})
	}
}

// TestTorBridgesCommandLine runs hydre with --tor-bridges: a bad name is a
// usage error, and a transport program that is not installed is named
// with its package before tor starts (PATH holds tor only).
func TestTorBridgesCommandLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--data-dir", t.TempDir(), "--tor-bridges", "meek", "tor", "status"}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), `unknown bridges "meek" (want obfs4, snowflake or none)`) {
		t.Errorf("--tor-bridges meek: exit %d, %q", code, stderr.String())
	}
	torPath, err := exec.LookPath("tor")
	if err != nil {
		t.Skip("tor is not installed")
	}
	bin := t.TempDir()
	if err := os.Symlink(torPath, filepath.Join(bin, "tor")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	for choice, pkg := range map[string]string{"obfs4": "obfs4proxy", "snowflake": "snowflake-client"} {
		stdout.Reset()
		stderr.Reset()
		code := run([]string{"--data-dir", t.TempDir(), "--tor-bridges", choice, "tor", "status"}, &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "install the package "+pkg) {
			t.Errorf("--tor-bridges %s without %s: exit %d, %q", choice, pkg, code, stderr.String())
		}
	}
}
