package gui

import "fyne.io/fyne/v2/theme"

// A bootstrap that stands still: the start function reports it
// (Progress.Stuck, after 30 s without a step) with tor's reason when it
// has one, and the status area says what that means and the way out,
// built-in bridges, as Tor Browser's connection assist does. Tor keeps
// trying meanwhile: a later step shows as progress again.

// stuck shows a bootstrap that has stood still. UI thread only.
func (p *torPanel) stuck(ev Progress) {
	p.bar.SetValue(float64(ev.Percent))
	p.icon.SetResource(theme.WarningIcon())
	says := ""
	if ev.Warning != "" {
		says = " Tor says: " + ev.Warning + "."
	}
	if !ev.CannotReach {
		p.title.SetText("Connecting to " + p.network() + "… still trying")
		p.detail.SetText("Tor has not moved for a while at " + ev.Summary + "." + says + " It keeps trying.")
		return
	}
	p.title.SetText("Tor cannot reach " + p.network())
	way := "If this computer is online, the network may block Tor: use bridges in Connection settings " +
		"(Tor bridges: try the built-in obfs4 first, then snowflake), then Reconnect."
	if p.u.opt.Network != "" {
		way = "Is the " + p.u.opt.Network + " up? ('hydre testnet status DIR')"
	}
	p.detail.SetText("No Tor relay has answered." + says + " " + way + " hydre keeps trying meanwhile.")
	p.reconnect.Show()
	p.configure.Show()
}

// torCannotReach reports whether the status area says that Tor cannot
// reach the network.
func (u *UI) torCannotReach() bool {
	var stuck bool
	u.query(func() { stuck = u.tor.cannotReach })
	return stuck
}
