package gui

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// torPanel is the status area at the top of the window: Tor's bootstrap
// progress, then "connected", or what went wrong and a way forward.
type torPanel struct {
	u         *UI
	content   fyne.CanvasObject
	icon      *widget.Icon
	title     *widget.Label
	detail    *widget.Label
	bar       *widget.ProgressBar
	retry     *widget.Button
	configure *widget.Button
	reconnect *widget.Button
	state     string // "connecting", "connected", "failed"
	// cannotReach is set while the bootstrap is stuck before any relay
	// (torstuck.go).
	cannotReach bool
}

func newTorPanel(u *UI) *torPanel {
	p := &torPanel{u: u}
	p.icon = widget.NewIcon(theme.ViewRefreshIcon())
	p.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.detail = widget.NewLabel("")
	p.bar = widget.NewProgressBar()
	p.bar.Max = 100
	p.retry = widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), func() { u.reconnect() })
	p.configure = widget.NewButtonWithIcon("Connection settings", theme.SettingsIcon(), func() {
		u.selectScreen(ScreenSettings)
	})
	p.reconnect = widget.NewButtonWithIcon("Reconnect", theme.ViewRefreshIcon(), func() { u.reconnect() })
	head := container.NewBorder(nil, nil, container.NewHBox(iconWidget(), p.icon), container.NewHBox(p.retry, p.reconnect, p.configure), p.title)
	p.content = container.NewVBox(head, p.bar, wrapped(p.detail, 2), widget.NewSeparator())
	return p
}

// network names the Tor network the app joins.
func (p *torPanel) network() string {
	if p.u.opt.Network != "" {
		return "the " + p.u.opt.Network
	}
	return "Tor"
}

// connecting shows that Tor is starting.
func (p *torPanel) connecting() {
	p.state = "connecting"
	p.icon.SetResource(theme.ViewRefreshIcon())
	p.title.SetText("Connecting to " + p.network() + "…")
	p.detail.SetText("Starting Tor. This takes from a few seconds to a minute.")
	p.bar.SetValue(0)
	p.bar.Show()
	p.retry.Hide()
	p.reconnect.Hide()
	p.configure.Show()
}

// progress shows one bootstrap step.
func (p *torPanel) progress(ev Progress) {
	if p.state != "connecting" {
		return
	}
	p.cannotReach = ev.Stuck && ev.CannotReach
	if ev.Stuck {
		p.stuck(ev)
		return
	}
	p.icon.SetResource(theme.ViewRefreshIcon())
	p.reconnect.Hide()
	p.bar.SetValue(float64(ev.Percent))
	p.title.SetText(fmt.Sprintf("Connecting to %s… %d%%", p.network(), ev.Percent))
	msg := ev.Summary
	if ev.Warning != "" {
		msg += " — Tor says: " + ev.Warning
	}
	p.detail.SetText(msg)
}

// connected shows that the node is online.
func (p *torPanel) connected() {
	p.state, p.cannotReach = "connected", false
	p.icon.SetResource(theme.ConfirmIcon())
	p.title.SetText("Connected to " + p.network())
	p.detail.SetText("Your shares are reachable as onion services; downloads go through Tor.")
	p.bar.Hide()
	p.retry.Hide()
	p.reconnect.Show()
	p.configure.Hide()
}

// failed shows why the connection failed and what to do.
func (p *torPanel) failed(err error) {
	p.state, p.cannotReach = "failed", false
	p.icon.SetResource(theme.ErrorIcon())
	p.title.SetText("Not connected to " + p.network())
	msg := plainError(err)
	if !errors.Is(err, ErrTorMissing) {
		msg += " Check Settings > Connection (an existing tor's control port, or bridges if Tor is blocked where you are), then Retry."
	}
	p.detail.SetText(msg)
	p.bar.Hide()
	p.retry.Show()
	p.reconnect.Hide()
	p.configure.Show()
}
