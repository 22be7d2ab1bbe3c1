package gui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

const goodObfs4 = "obfs4 192.0.2.1:443 0123456789ABCDEF0123456789ABCDEF01234567 cert=abc iat-mode=0"

// TestBridgeChoiceFile: files written before the choice existed read as
// custom lines when they hold some, else none; a choice and the custom
// lines kept beside it survive a save.
func TestBridgeChoiceFile(t *testing.T) {
	tests := []struct {
		name, file string
		want       string
	}{
		{"old file with lines", `{"download_dir":"/d","tor":{"mode":"managed","bridges":["` + goodObfs4 + `"]}}`, BridgesCustom},
		{"old file without lines", `{"download_dir":"/d","tor":{"mode":"managed"}}`, BridgesNone},
		{"no tor at all", `{"download_dir":"/d"}`, BridgesNone},
		{"chosen with lines kept", `{"download_dir":"/d","tor":{"mode":"managed","bridge_choice":"snowflake","bridges":["` + goodObfs4 + `"]}}`, BridgesSnowflake},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, SettingsFile), []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := LoadSettings(dir)
			if err != nil {
				t.Fatal(err)
			}
			if s.Tor.BridgeChoice != tt.want {
				t.Fatalf("choice %q, want %q", s.Tor.BridgeChoice, tt.want)
			}
			if err := SaveSettings(dir, s); err != nil {
				t.Fatal(err)
			}
			again, err := LoadSettings(dir)
			if err != nil || again.Tor.BridgeChoice != tt.want || strings.Join(again.Tor.Bridges, "|") != strings.Join(s.Tor.Bridges, "|") {
				t.Errorf("after a save: %+v, %v", again.Tor, err)
			}
		})
	}
	s := DefaultSettings()
	s.Tor.BridgeChoice = BridgesCustom
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "paste at least one bridge line") {
		t.Errorf("custom bridges without a line: %v", err)
	}
	s.Tor.BridgeChoice = "meek"
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "unknown bridge choice") {
		t.Errorf("unknown choice: %v", err)
	}
}

// TestSettingsScreenBridges chooses each kind of bridge on the Settings
// screen and saves: the lines box is open only for custom lines, a bad
// line is refused with its number and what is wrong, and nothing is
// written then.
func TestSettingsScreenBridges(t *testing.T) {
	app := test.NewTempApp(t)
	n := newNode(t, app, memnet.New(), "a", "", func(o *Options) { o.CheckBridge = onion.CheckBridgeLine })
	waitConnected(t, n.ui)
	n.ui.onUI(func() {
		p := n.ui.prefs
		if p.bridgeKind.Selected != bridgeChoices[0] || !p.bridges.Disabled() {
			t.Fatalf("first start: choice %q, lines box enabled %v", p.bridgeKind.Selected, !p.bridges.Disabled())
		}
		for i, want := range bridgeValues[:3] {
			p.bridgeKind.SetSelected(bridgeChoices[i])
			tapButton(p.saveButton)
			if got := n.ui.currentSettings().Tor.BridgeChoice; got != want || !strings.HasPrefix(p.status.Text, "Saved") {
				t.Errorf("chose %q: saved %q, status %q", bridgeChoices[i], got, p.status.Text)
			}
		}
		p.bridgeKind.SetSelected(bridgeChoices[3])
		if p.bridges.Disabled() {
			t.Fatalf("the lines box stays closed for custom lines")
		}
		p.bridges.SetText(goodObfs4 + "\nobfs4 bridge.example.com:443 0123456789ABCDEF0123456789ABCDEF01234567 cert=x")
		tapButton(p.saveButton)
		if !strings.Contains(p.status.Text, "Not saved") || !strings.Contains(p.status.Text, "ridge line 2") ||
			!strings.Contains(p.status.Text, "not an IP address and port") {
			t.Errorf("a bad line: status %q", p.status.Text)
		}
		if got := n.ui.currentSettings().Tor.BridgeChoice; got != BridgesSnowflake {
			t.Errorf("a refused save changed the choice to %q", got)
		}
		p.bridges.SetText(goodObfs4)
		tapButton(p.saveButton)
		if s := n.ui.currentSettings(); s.Tor.BridgeChoice != BridgesCustom || len(s.Tor.Bridges) != 1 {
			t.Errorf("custom line: saved %+v, status %q", s.Tor, p.status.Text)
		}
	})
	saved, err := LoadSettings(n.dataDir)
	if err != nil || saved.Tor.BridgeChoice != BridgesCustom || saved.Tor.Bridges[0] != goodObfs4 {
		t.Errorf("file holds %+v, %v", saved.Tor, err)
	}
}
