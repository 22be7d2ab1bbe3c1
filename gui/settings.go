package gui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/hydre-p2p/hydre/swarm"
)

// SettingsFile is the name of the file, in the data directory, that keeps
// the app's settings across restarts.
const SettingsFile = "gui-settings.json"

// Tor connection modes, as in OnionShare's connection settings.
const (
	TorManaged = "managed" // hydre starts its own tor
	TorControl = "control" // attach to a running tor through its control port
)

// Tor bridge choices (TorSettings.BridgeChoice).
const (
	BridgesNone      = "none"      // reach Tor directly
	BridgesObfs4     = "obfs4"     // Tor Browser's built-in obfs4 bridges
	BridgesSnowflake = "snowflake" // Tor Browser's built-in snowflake bridges
	BridgesCustom    = "custom"    // the lines of TorSettings.Bridges
)

// Theme choices.
const (
	ThemeSystem = "system"
	ThemeDark   = "dark"
	ThemeLight  = "light"
)

// Settings are what a person chooses in the Settings screen. The command
// line reads them (LoadSettings) to configure Tor and the engine before
// handing both to Run.
type Settings struct {
	// DownloadDir is where downloads are saved.
	DownloadDir string `json:"download_dir"`
	// Reshare makes finished downloads serve what they fetched.
	Reshare bool `json:"reshare"`
	// SingleIdentity serves every content from one onion identity instead
	// of one per content.
	SingleIdentity bool `json:"single_identity"`
	// MaxPeersPerContent and MaxUploadsPerContent bound each content's
	// connections; 0 keeps the engine's defaults.
	MaxPeersPerContent   int `json:"max_peers_per_content"`
	MaxUploadsPerContent int `json:"max_uploads_per_content"`
	// UpRate and DownRate are the node's rate limits in bytes a second,
	// all contents together; 0 is none. They apply at once.
	UpRate   int64 `json:"up_rate,omitempty"`
	DownRate int64 `json:"down_rate,omitempty"`
	// Theme is ThemeSystem, ThemeDark or ThemeLight.
	Theme string `json:"theme"`
	// Notify shows a desktop notification when a download completes.
	Notify bool `json:"notify"`
	// Tor is how the app reaches the Tor network.
	Tor TorSettings `json:"tor"`
	// BridgeMode runs the discreet BitTorrent bridge (when built in).
	BridgeMode bool `json:"bridge_mode"`
	// BridgeNode is the hidden bridge node ("<56 chars>.onion:port") that
	// fetches magnet links for this app; "" fetches them here (bridge mode).
	BridgeNode string `json:"bridge_node,omitempty"`
	// ShareView and DownloadView are how the Share and Download lists
	// were last shown.
	ShareView    ListView `json:"share_view,omitzero"`
	DownloadView ListView `json:"download_view,omitzero"`
	// Window is the main window's size when the app last closed; zero
	// opens it at its default size.
	Window WindowSize `json:"window,omitzero"`
}

// WindowSize is a window's size in Fyne's device-independent units.
type WindowSize struct {
	Width  float32 `json:"width"`
	Height float32 `json:"height"`
}

// Bounds of a remembered window size: anything outside (a damaged file, a
// screen much smaller now) opens the window at its default size.
const (
	minWindowWidth, minWindowHeight = 480, 360
	maxWindowSide                   = 16384
)

// usable reports whether w is a size to open the window at.
func (w WindowSize) usable() bool {
	return w.Width >= minWindowWidth && w.Height >= minWindowHeight && w.Width <= maxWindowSide && w.Height <= maxWindowSide
}

// ListView is how a list of contents is shown: its order ("" or "Newest
// first", "Name", "Size", "State") and whether its rows are compact.
type ListView struct {
	Sort    string `json:"sort,omitempty"`
	Compact bool   `json:"compact,omitempty"`
}

// TorSettings are the connection settings.
type TorSettings struct {
	// Mode is TorManaged or TorControl.
	Mode string `json:"mode"`
	// TorPath is the tor binary for TorManaged; "" looks it up in PATH.
	TorPath string `json:"tor_path,omitempty"`
	// ControlAddr ("127.0.0.1:9051") and ControlPassword attach to a
	// running tor in TorControl mode; no password means cookie auth.
	ControlAddr     string `json:"control_addr,omitempty"`
	ControlPassword string `json:"control_password,omitempty"`
	// BridgeChoice is how a managed tor reaches the network: BridgesNone,
	// BridgesObfs4, BridgesSnowflake or BridgesCustom. A file without it
	// (from before the choice existed) reads as BridgesCustom when it
	// holds bridge lines, else BridgesNone.
	BridgeChoice string `json:"bridge_choice,omitempty"`
	// Bridges are custom Tor bridge lines (obfs4, snowflake, or plain),
	// one each, used with BridgesCustom; they are kept while another
	// choice is in force, so switching back loses nothing.
	Bridges []string `json:"bridges,omitempty"`
	// Testnet is the directory of a private Tor network to join instead
	// of the real one (see "hydre testnet up"); the --testnet option wins.
	Testnet string `json:"testnet,omitempty"`
}

// DefaultSettings returns the settings of a first start.
func DefaultSettings() Settings {
	dl := "Downloads"
	if home, err := os.UserHomeDir(); err == nil {
		dl = filepath.Join(home, "Downloads")
	}
	return Settings{
		DownloadDir: filepath.Join(dl, "hydre"),
		Reshare:     true,
		Theme:       ThemeSystem,
		Notify:      true,
		Tor:         TorSettings{Mode: TorManaged, BridgeChoice: BridgesNone},
	}
}

// LoadSettings reads the settings kept in dir. A missing file gives the
// defaults; a damaged one is an error (the app then starts with defaults and
// says so).
func LoadSettings(dir string) (Settings, error) {
	s := DefaultSettings()
	b, err := os.ReadFile(filepath.Join(dir, SettingsFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read settings: %w", err)
	}
	s.Tor.BridgeChoice = "" // absent from an older file: normalize infers it
	if err := json.Unmarshal(b, &s); err != nil {
		return DefaultSettings(), fmt.Errorf("read settings %s: %w", SettingsFile, err)
	}
	s.normalize()
	if err := s.Validate(); err != nil {
		return DefaultSettings(), fmt.Errorf("read settings %s: %w", SettingsFile, err)
	}
	return s, nil
}

// SaveSettings writes s into dir atomically, readable by its owner only
// (it may hold a control-port password).
func SaveSettings(dir string, s Settings) error {
	s.normalize()
	if err := s.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	tmp, err := os.CreateTemp(dir, SettingsFile+".*")
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save settings: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, SettingsFile)); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}

// normalize trims what a person typed and fills empty choices.
func (s *Settings) normalize() {
	s.DownloadDir = strings.TrimSpace(s.DownloadDir)
	if s.Theme == "" {
		s.Theme = ThemeSystem
	}
	if s.Tor.Mode == "" {
		s.Tor.Mode = TorManaged
	}
	s.Tor.ControlAddr = strings.TrimSpace(s.Tor.ControlAddr)
	s.Tor.TorPath = strings.TrimSpace(s.Tor.TorPath)
	s.Tor.Testnet = strings.TrimSpace(s.Tor.Testnet)
	var lines []string
	for _, l := range s.Tor.Bridges {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, strings.TrimSpace(strings.TrimPrefix(l, "Bridge ")))
		}
	}
	s.Tor.Bridges = lines
	if s.Window != (WindowSize{}) && !s.Window.usable() {
		s.Window = WindowSize{}
	}
	if s.Tor.BridgeChoice == "" {
		s.Tor.BridgeChoice = BridgesNone
		if len(lines) > 0 {
			s.Tor.BridgeChoice = BridgesCustom
		}
	}
}

// Validate reports, in plain words, the first setting that cannot work.
func (s Settings) Validate() error {
	switch {
	case s.DownloadDir == "":
		return errors.New("choose a download folder")
	case !filepath.IsAbs(s.DownloadDir):
		return errors.New("the download folder must be a full path")
	case s.MaxPeersPerContent < 0 || s.MaxPeersPerContent > 1000:
		return errors.New("peers per content must be between 0 (automatic) and 1000")
	case s.MaxUploadsPerContent < 0 || s.MaxUploadsPerContent > 1000:
		return errors.New("uploads per content must be between 0 (automatic) and 1000")
	case (swarm.Limits{Up: s.UpRate, Down: s.DownRate}).Check() != nil:
		return errRate
	}
	switch s.Theme {
	case ThemeSystem, ThemeDark, ThemeLight:
	default:
		return fmt.Errorf("unknown theme %q", s.Theme)
	}
	switch s.Tor.Mode {
	case TorManaged:
	case TorControl:
		if _, _, err := net.SplitHostPort(s.Tor.ControlAddr); err != nil {
			return errors.New("the control port must be written host:port, for example 127.0.0.1:9051")
		}
	default:
		return fmt.Errorf("unknown tor mode %q", s.Tor.Mode)
	}
	switch s.Tor.BridgeChoice {
	case "", BridgesNone, BridgesObfs4, BridgesSnowflake:
	case BridgesCustom:
		if len(s.Tor.Bridges) == 0 && s.Tor.Mode == TorManaged {
			return errors.New("paste at least one bridge line, or choose another kind of bridge")
		}
	default:
		return fmt.Errorf("unknown bridge choice %q", s.Tor.BridgeChoice)
	}
	for _, l := range s.Tor.Bridges {
		if strings.ContainsAny(l, "\r\n\x00") {
			return errors.New("a bridge line holds a control character")
		}
		if len(strings.Fields(l)) < 1 {
			return errors.New("a bridge line is empty")
		}
	}
	return nil
}

// restartNeeded reports whether going from s to t changes how Tor or the
// engine is set up, which takes a reconnection.
func (s Settings) restartNeeded(t Settings) bool {
	return s.Tor.Mode != t.Tor.Mode || s.Tor.TorPath != t.Tor.TorPath ||
		s.Tor.ControlAddr != t.Tor.ControlAddr || s.Tor.ControlPassword != t.Tor.ControlPassword ||
		s.Tor.BridgeChoice != t.Tor.BridgeChoice ||
		strings.Join(s.Tor.Bridges, "\n") != strings.Join(t.Tor.Bridges, "\n") || s.Tor.Testnet != t.Tor.Testnet ||
		s.SingleIdentity != t.SingleIdentity || s.MaxPeersPerContent != t.MaxPeersPerContent ||
		s.MaxUploadsPerContent != t.MaxUploadsPerContent
}
