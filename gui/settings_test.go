package gui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/hydre-p2p/hydre/onion/memnet"
)

func TestSettingsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := DefaultSettings()
	s.DownloadDir = "/srv/films"
	s.Tor = TorSettings{Mode: TorManaged, Bridges: []string{"  Bridge obfs4 192.0.2.3:443 AAAA cert=x iat-mode=0 ", "", "# comment", "snowflake 192.0.2.4:80 BBBB"}}
	if err := SaveSettings(dir, s); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, SettingsFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("settings file mode %v, want 0600 (it may hold a password)", fi.Mode().Perm())
	}
	got, err := LoadSettings(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"obfs4 192.0.2.3:443 AAAA cert=x iat-mode=0", "snowflake 192.0.2.4:80 BBBB"}
	if strings.Join(got.Tor.Bridges, "|") != strings.Join(want, "|") {
		t.Errorf("bridges = %q, want %q", got.Tor.Bridges, want)
	}
	if got.DownloadDir != "/srv/films" || !got.Reshare {
		t.Errorf("loaded %+v", got)
	}
}

func TestLoadSettingsMissingAndDamaged(t *testing.T) {
	dir := t.TempDir()
	s, err := LoadSettings(dir)
	if err != nil || s.Tor.Mode != TorManaged || !s.Reshare {
		t.Fatalf("first start: %+v, %v", s, err)
	}
	if err := os.WriteFile(filepath.Join(dir, SettingsFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = LoadSettings(dir)
	if err == nil {
		t.Fatalf("a damaged file loaded without error")
	}
	if s.Tor.Mode != TorManaged || s.DownloadDir == "" {
		t.Errorf("damaged file: settings %+v are not the defaults", s)
	}
}

func TestSettingsValidate(t *testing.T) {
	ok := DefaultSettings()
	ok.DownloadDir = "/home/ana/Downloads"
	tests := []struct {
		name   string
		mutate func(*Settings)
		want   string // "" = valid
	}{
		{"defaults", func(*Settings) {}, ""},
		{"no folder", func(s *Settings) { s.DownloadDir = "" }, "download folder"},
		{"relative folder", func(s *Settings) { s.DownloadDir = "Downloads" }, "full path"},
		{"negative peers", func(s *Settings) { s.MaxPeersPerContent = -1 }, "peers per content"},
		{"huge uploads", func(s *Settings) { s.MaxUploadsPerContent = 5000 }, "uploads per content"},
		{"bad theme", func(s *Settings) { s.Theme = "pink" }, "theme"},
		{"control without port", func(s *Settings) { s.Tor = TorSettings{Mode: TorControl, ControlAddr: "localhost"} }, "host:port"},
		{"control ok", func(s *Settings) { s.Tor = TorSettings{Mode: TorControl, ControlAddr: "127.0.0.1:9051"} }, ""},
		{"bad mode", func(s *Settings) { s.Tor.Mode = "carrier pigeon" }, "tor mode"},
		{"bridge with newline", func(s *Settings) { s.Tor.Bridges = []string{"obfs4 1.2.3.4:1\nControlPort 9"} }, "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			s.Tor.Bridges = nil
			tt.mutate(&s)
			err := s.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("valid settings refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestRestartNeeded(t *testing.T) {
	a := DefaultSettings()
	b := a
	b.Theme, b.Notify, b.DownloadDir = ThemeDark, false, "/elsewhere"
	if a.restartNeeded(b) {
		t.Errorf("theme, notifications or download folder should apply without reconnecting")
	}
	b = a
	b.Tor.Bridges = []string{"snowflake 192.0.2.4:80 BBBB"}
	if !a.restartNeeded(b) {
		t.Errorf("new bridges need a reconnection")
	}
}

// TestSettingsScreenWords: run with --testnet, the connection field names
// the private test network; a complaint about a bad value goes with Undo.
func TestSettingsScreenWords(t *testing.T) {
	app := test.NewTempApp(t)
	n := newNode(t, app, memnet.New(), "a", "", func(o *Options) { o.Network = "private test network" })
	waitConnected(t, n.ui)
	n.ui.onUI(func() {
		p := n.ui.prefs
		if ph := p.testnet.PlaceHolder; strings.Contains(ph, "real Tor") || !strings.Contains(ph, "private test network") {
			t.Errorf("with --testnet the test network field says %q", ph)
		}
		labels := map[string]bool{}
		for _, o := range renderedObjects(p.content) {
			if l, ok := o.(*widget.Label); ok && o.Visible() {
				labels[l.Text] = true
			}
			if tx, ok := o.(*canvas.Text); ok && o.Visible() {
				labels[tx.Text] = true
			}
		}
		if !labels["Tor bridges"] || labels["Bridges"] {
			t.Errorf("the Tor bridge lines are not labelled \"Tor bridges\"")
		}

		p.maxPeers.SetText("many")
		tapButton(p.saveButton)
		if !strings.Contains(p.status.Text, "Not saved") {
			t.Fatalf("a bad limit was not refused: %q", p.status.Text)
		}
		tapButton(p.revertButton)
		if p.status.Text != "" || p.maxPeers.Text != "" {
			t.Errorf("after Undo: status %q, peers per content %q", p.status.Text, p.maxPeers.Text)
		}
	})
}
