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
	says := "No Tor relay has answered."
	if ev.Warning != "" {
		says = "Tor says: " + ev.Warning + "."
	}
	if !ev.CannotReach {
		p.title.SetText("Connecting to " + p.network() + "… still trying")
		p.detail.SetText("Tor has not moved for a while at " + ev.Summary + ". " + says)
		return
	}
	network := "the Tor network"
	way := "If it is online, Tor may be blocked here: choose Tor bridges in Connection settings (obfs4 first), then Reconnect."
	if p.u.opt.Network != "" {
		network = p.network()
		way = "Is the " + p.u.opt.Network + " up? ('hydre testnet status DIR')"
	}
	p.title.SetText("Tor cannot reach " + network + " (still trying)")
	// Two lines at the window's default width: the area shows no more.
	p.detail.SetText(says + " " + way)
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
