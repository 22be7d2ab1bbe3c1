package gui

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
)

// TestTorCannotReachShown: a bootstrap reported stuck before any relay
// (as the command line's start reports it; TestOfflineChild there) is
// said in the status area with tor's reason and the way out, bridges in
// Connection settings; a later step shows as progress again, and
// Reconnect connects.
func TestTorCannotReachShown(t *testing.T) {
	app := test.NewTempApp(t)
	const why = "cannot connect to relays: no route to the network (is this computer offline?) [NOROUTE]"
	moved := make(chan struct{})
	var started atomic.Bool
	n := newNode(t, app, memnet.New(), "a", "", func(o *Options) {
		start := o.Start
		o.Start = func(ctx context.Context, s Settings, p func(Progress)) (*swarm.Engine, func(), error) {
			if started.Swap(true) {
				return start(ctx, s, p)
			}
			p(Progress{Percent: 0, Summary: "Starting"})
			p(Progress{Percent: 0, Summary: "Starting", Warning: why, Stuck: true, CannotReach: true})
			select {
			case <-moved:
				p(Progress{Percent: 15, Summary: "Handshake with a relay done"})
			case <-ctx.Done():
			}
			<-ctx.Done()
			return nil, nil, ctx.Err()
		}
	})
	p := n.ui.tor
	eventually(t, n.ui, 10*time.Second, func() bool { return strings.HasPrefix(p.title.Text, "Tor cannot reach") },
		func() string { return "status area: " + p.title.Text + " / " + p.detail.Text })
	n.ui.onUI(func() {
		d := p.detail.Text
		if !strings.HasPrefix(d, "Tor says: "+why) || !strings.Contains(d, "choose Tor bridges in Connection settings (obfs4 first)") ||
			p.title.Text != "Tor cannot reach the Tor network (still trying)" {
			t.Errorf("the status area says %q: %q", p.title.Text, d)
		}
		if !p.configure.Visible() || !p.reconnect.Visible() || p.state != "connecting" {
			t.Errorf("settings %v, reconnect %v, state %s", p.configure.Visible(), p.reconnect.Visible(), p.state)
		}
		tapButton(p.configure)
		if n.ui.tabs.Selected() != n.ui.tabByName[ScreenSettings] {
			t.Error("Connection settings did not open the settings")
		}
	})
	close(moved)
	eventually(t, n.ui, 10*time.Second, func() bool { return strings.Contains(p.title.Text, "15%") },
		func() string { return "after a step: " + p.title.Text })
	n.ui.onUI(func() {
		if strings.Contains(p.detail.Text, "cannot reach") || p.reconnect.Visible() {
			t.Errorf("after a step the status area still says %q", p.detail.Text)
		}
		n.ui.reconnect()
	})
	waitConnected(t, n.ui)
}
