package gui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

var (
	identityChoices = []string{"One identity per content (unlinkable)", "One identity for the whole node"}
	torModeChoices  = []string{"hydre starts its own Tor", "Use a Tor already running (control port)"}
	themeChoices    = []string{"Follow the desktop", "Dark", "Light"}
	themeValues     = []string{ThemeSystem, ThemeDark, ThemeLight}
	bridgeChoices   = []string{"None: reach Tor directly", "obfs4, built in (Tor Browser's bridges)",
		"snowflake, built in (Tor Browser's bridges)", "My own bridge lines:"}
	bridgeValues = []string{BridgesNone, BridgesObfs4, BridgesSnowflake, BridgesCustom}
)

// settingsScreen edits Settings; Save writes them and, when the
// connection or engine settings changed, offers to reconnect.
type settingsScreen struct {
	u            *UI
	content      fyne.CanvasObject
	downloadDir  *widget.Entry
	reshare      *widget.Check
	notify       *widget.Check
	identity     *widget.RadioGroup
	maxPeers     *widget.Entry
	maxUploads   *widget.Entry
	upRate       *widget.Entry
	downRate     *widget.Entry
	themeSel     *widget.Select
	torMode      *widget.RadioGroup
	torPath      *widget.Entry
	controlAddr  *widget.Entry
	controlPass  *widget.Entry
	bridgeKind   *widget.RadioGroup
	bridges      *widget.Entry
	testnet      *widget.Entry
	status       *widget.Label
	scroll       *container.Scroll
	saveButton   *widget.Button
	revertButton *widget.Button
}

func newSettingsScreen(u *UI) *settingsScreen {
	p := &settingsScreen{u: u}
	p.downloadDir = widget.NewEntry()
	browse := widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), p.chooseFolder)
	p.reshare = widget.NewCheck("Share what I download with others once it is complete", nil)
	p.notify = widget.NewCheck("Notify me when a download completes", nil)
	p.identity = widget.NewRadioGroup(identityChoices, nil)
	p.maxPeers = widget.NewEntry()
	p.maxPeers.SetPlaceHolder("automatic")
	p.maxUploads = widget.NewEntry()
	p.maxUploads.SetPlaceHolder("automatic")
	p.upRate, p.downRate = rateEntry(), rateEntry()
	p.themeSel = widget.NewSelect(themeChoices, nil)
	p.torMode = widget.NewRadioGroup(torModeChoices, func(string) { p.showTorFields() })
	p.torPath = widget.NewEntry()
	p.torPath.SetPlaceHolder("tor (from PATH)")
	p.controlAddr = widget.NewEntry()
	p.controlAddr.SetPlaceHolder("127.0.0.1:9051")
	p.controlPass = widget.NewPasswordEntry()
	p.controlPass.SetPlaceHolder("empty: cookie authentication")
	p.bridgeKind = widget.NewRadioGroup(bridgeChoices, func(string) { p.showTorFields() })
	p.bridges = widget.NewMultiLineEntry()
	p.bridges.SetPlaceHolder("One bridge line each, e.g.\nobfs4 192.0.2.3:443 FINGERPRINT cert=… iat-mode=0\nsnowflake 192.0.2.4:80 FINGERPRINT …")
	p.bridges.SetMinRowsVisible(3)
	p.testnet = widget.NewEntry()
	p.testnet.SetPlaceHolder("empty: the real Tor network")
	if u.opt.Network != "" { // --testnet: the option wins over this field
		p.testnet.SetPlaceHolder("empty: the " + u.opt.Network + " given with --testnet")
	}
	p.status = widget.NewLabel("")
	p.saveButton = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), p.save)
	p.saveButton.Importance = widget.HighImportance
	p.revertButton = widget.NewButton("Undo changes", func() {
		p.load(u.currentSettings())
		p.status.SetText("") // a complaint about the values undone is stale
	})

	general := widget.NewForm(
		widget.NewFormItem("Download folder", container.NewBorder(nil, nil, nil, browse, p.downloadDir)),
		widget.NewFormItem("Re-share", p.reshare),
		widget.NewFormItem("Notifications", p.notify),
		widget.NewFormItem("Onion identity", p.identity),
		widget.NewFormItem("Peers per content", p.maxPeers),
		widget.NewFormItem("Uploads per content", p.maxUploads),
		widget.NewFormItem("Upload limit", p.upRate),
		widget.NewFormItem("Download limit", p.downRate),
		widget.NewFormItem("Theme", p.themeSel),
	)
	conn := widget.NewForm(
		widget.NewFormItem("Tor", p.torMode),
		widget.NewFormItem("Tor program", p.torPath),
		widget.NewFormItem("Control port", p.controlAddr),
		widget.NewFormItem("Control password", p.controlPass),
		widget.NewFormItem("Tor bridges", container.NewVBox(p.bridgeKind, p.bridges)),
		widget.NewFormItem("Private test network", p.testnet),
	)
	connNotes := []fyne.CanvasObject{conn}
	if u.opt.Network != "" {
		connNotes = append(connNotes, wrapped(widget.NewLabel("This run joins the "+u.opt.Network+" given with --testnet, "+
			"whatever these settings say; they apply when hydre starts without --testnet."), 2))
	}
	note := widget.NewLabel("Use Tor bridges if Tor is blocked where you are: try obfs4 first, then snowflake (slower, harder to block), " +
		"or paste lines from bridges.torproject.org; obfs4 needs the package obfs4proxy, snowflake snowflake-client. " +
		"Connection, identity, peers and uploads per content take effect when hydre reconnects; rate limits at once.")
	p.scroll = container.NewVScroll(container.NewVBox(
		section("General", "", general),
		section("Connection", "", container.NewVBox(append(connNotes, wrapped(note, 3))...)),
	))
	p.content = container.NewBorder(nil,
		container.NewVBox(widget.NewSeparator(), container.NewBorder(nil, nil, nil, container.NewHBox(p.revertButton, p.saveButton), wrapped(p.status, 2))),
		nil, nil,
		p.scroll)
	p.load(u.settings)
	return p
}

// load shows s in the form.
func (p *settingsScreen) load(s Settings) {
	p.downloadDir.SetText(s.DownloadDir)
	p.reshare.SetChecked(s.Reshare)
	p.notify.SetChecked(s.Notify)
	p.identity.SetSelected(identityChoices[boolIndex(s.SingleIdentity)])
	p.maxPeers.SetText(limitText(s.MaxPeersPerContent))
	p.maxUploads.SetText(limitText(s.MaxUploadsPerContent))
	p.upRate.SetText(rateText(s.UpRate))
	p.downRate.SetText(rateText(s.DownRate))
	for i, v := range themeValues {
		if v == s.Theme {
			p.themeSel.SetSelected(themeChoices[i])
		}
	}
	p.torMode.SetSelected(torModeChoices[boolIndex(s.Tor.Mode == TorControl)])
	p.torPath.SetText(s.Tor.TorPath)
	p.controlAddr.SetText(s.Tor.ControlAddr)
	p.controlPass.SetText(s.Tor.ControlPassword)
	p.bridges.SetText(strings.Join(s.Tor.Bridges, "\n"))
	for i, v := range bridgeValues {
		if v == s.Tor.BridgeChoice {
			p.bridgeKind.SetSelected(bridgeChoices[i])
		}
	}
	p.testnet.SetText(s.Tor.Testnet)
	p.showTorFields()
}

// showTorFields enables the fields of the chosen Tor mode.
func (p *settingsScreen) showTorFields() {
	control := p.torMode.Selected == torModeChoices[1]
	for _, e := range []*widget.Entry{p.controlAddr, p.controlPass} {
		if control {
			e.Enable()
		} else {
			e.Disable()
		}
	}
	for _, e := range []*widget.Entry{p.torPath, p.bridges} {
		if control {
			e.Disable()
		} else {
			e.Enable()
		}
	}
	if control {
		p.bridgeKind.Disable()
	} else {
		p.bridgeKind.Enable()
	}
	if p.bridgeKind.Selected != bridgeChoices[3] {
		p.bridges.Disable()
	}
}

// read returns the settings in the form, or what is wrong with them.
func (p *settingsScreen) read() (Settings, error) {
	s := p.u.currentSettings()
	s.DownloadDir = p.downloadDir.Text
	s.Reshare = p.reshare.Checked
	s.Notify = p.notify.Checked
	s.SingleIdentity = p.identity.Selected == identityChoices[1]
	var err error
	if s.MaxPeersPerContent, err = parseLimit(p.maxPeers.Text, "peers per content"); err != nil {
		return s, err
	}
	if s.MaxUploadsPerContent, err = parseLimit(p.maxUploads.Text, "uploads per content"); err != nil {
		return s, err
	}
	if s.UpRate, err = parseRateText(p.upRate.Text, "upload limit"); err != nil {
		return s, err
	}
	if s.DownRate, err = parseRateText(p.downRate.Text, "download limit"); err != nil {
		return s, err
	}
	for i, c := range themeChoices {
		if c == p.themeSel.Selected {
			s.Theme = themeValues[i]
		}
	}
	s.Tor.Mode = TorManaged
	if p.torMode.Selected == torModeChoices[1] {
		s.Tor.Mode = TorControl
	}
	s.Tor.TorPath = p.torPath.Text
	s.Tor.ControlAddr = p.controlAddr.Text
	s.Tor.ControlPassword = p.controlPass.Text
	s.Tor.Bridges = strings.Split(p.bridges.Text, "\n")
	for i, c := range bridgeChoices {
		if c == p.bridgeKind.Selected {
			s.Tor.BridgeChoice = bridgeValues[i]
		}
	}
	s.Tor.Testnet = p.testnet.Text
	s.normalize()
	if err := s.Validate(); err != nil {
		return s, err
	}
	if check := p.u.opt.CheckBridge; check != nil && s.Tor.BridgeChoice == BridgesCustom {
		for i, l := range s.Tor.Bridges {
			if err := check(l); err != nil {
				return s, fmt.Errorf("bridge line %d: %w", i+1, err)
			}
		}
	}
	return s, nil
}

// save validates and writes the settings, applies what applies at once
// and offers to reconnect for the rest.
func (p *settingsScreen) save() {
	s, err := p.read()
	if err != nil {
		p.status.SetText("Not saved: " + plainError(err))
		p.status.Importance = widget.DangerImportance
		p.status.Refresh()
		return
	}
	old := p.u.currentSettings()
	if err := p.u.saveSettings(s); err != nil {
		p.u.showError("save the settings", err)
		return
	}
	p.u.applyTheme(s.Theme)
	if err := p.u.applyLimits(s); err != nil {
		p.u.showError("apply the rate limits", err)
	}
	p.status.SetText("Saved.")
	p.status.Importance = widget.SuccessImportance
	p.status.Refresh()
	if old.restartNeeded(s) {
		dialog.ShowConfirm("Reconnect now?", "The new connection, identity, peers or uploads settings take effect when hydre reconnects to Tor. "+
			"Downloads pause for a moment and continue. Reconnect now?", func(ok bool) {
			if ok {
				p.u.reconnect()
			}
		}, p.u.win)
	}
}

// chooseFolder picks the download folder.
func (p *settingsScreen) chooseFolder() {
	d := dialog.NewFolderOpen(func(l fyne.ListableURI, err error) {
		if err != nil {
			p.u.showError("open the folder", err)
			return
		}
		if l != nil {
			p.downloadDir.SetText(l.Path())
		}
	}, p.u.win)
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

// saveSettings writes s and puts it in force.
func (u *UI) saveSettings(s Settings) error {
	if err := SaveSettings(u.opt.DataDir, s); err != nil {
		return err
	}
	u.mu.Lock()
	u.settings, u.settingsBad = s, false
	u.mu.Unlock()
	return nil
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

func limitText(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func parseLimit(s, what string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "automatic") {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errLimit(what)
	}
	return n, nil
}

type errLimit string

func (e errLimit) Error() string {
	return string(e) + " must be a whole number, or empty for automatic"
}
