package gui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Bridge is what the Bridge screen drives: the discreet BitTorrent client
// of package bridge, adapted by the command line. Its methods may block;
// the app calls them off the UI thread.
type Bridge interface {
	// SetEnabled turns bridge mode on or off.
	SetEnabled(ctx context.Context, on bool) error
	// Fetch starts fetching a magnet link; the content then appears in
	// the engine (and so in the app's lists) as it arrives.
	Fetch(ctx context.Context, magnet string) error
	// Status returns the bridge's figures now.
	Status() BridgeStatus
}

// BridgeStatus is a snapshot of the bridge.
type BridgeStatus struct {
	Enabled    bool
	Fetches    []BridgeFetch
	Peers      int   // live BitTorrent peer connections
	Downloaded int64 // piece bytes received
	// The discretion counters: they stay at zero, and the screen says so.
	Uploaded         int64 // piece bytes sent to BitTorrent peers
	AnnouncesSent    int64 // tracker and DHT announces
	QueriesAnswered  int64 // DHT queries answered
	AdvertsSent      int64 // bitfields and HAVEs sent
	IncomingAccepted int64 // connections accepted
}

// BridgeFetch is one torrent the bridge fetches.
type BridgeFetch struct {
	Name       string
	Size, Done int64
	Peers      int
}

// bridgeRefresh is how often the Bridge screen reads the bridge's figures.
const bridgeRefresh = time.Second

// bridgeScreen shows bridge mode, its fetches and its discretion counters.
type bridgeScreen struct {
	u        *UI
	content  fyne.CanvasObject
	enabled  *widget.Check
	magnet   *widget.Entry
	errLabel *widget.Label
	errBox   fyne.CanvasObject
	fetches  *widget.Label
	figures  *widget.Label
	counters *widget.Form
	values   map[string]*widget.Label
	verdict  *widget.Label
}

var discretionCounters = []string{
	"Bytes uploaded to BitTorrent peers",
	"Announces sent (trackers, DHT)",
	"DHT queries answered",
	"Pieces advertised (bitfield, HAVE)",
	"Incoming connections accepted",
}

func newBridgeScreen(u *UI) *bridgeScreen {
	b := &bridgeScreen{u: u, values: map[string]*widget.Label{}}
	b.enabled = widget.NewCheck("Bridge mode: fetch BitTorrent magnet links discreetly (download only, announced nowhere)", b.setEnabled)
	b.magnet = widget.NewEntry()
	b.magnet.SetPlaceHolder("magnet:?xt=urn:btih:…")
	b.magnet.OnSubmitted = func(s string) { b.fetch(s) }
	fetch := widget.NewButtonWithIcon("Fetch", theme.DownloadIcon(), func() { b.fetch(b.magnet.Text) })
	b.errLabel = widget.NewLabel("")
	b.errLabel.Importance = widget.DangerImportance
	b.errLabel.Hide()
	b.errBox = wrapped(b.errLabel, 2)
	b.errBox.Hide()
	b.fetches = widget.NewLabel("No fetch yet.")
	b.figures = widget.NewLabel("")
	b.counters = widget.NewForm()
	for _, name := range discretionCounters {
		l := widget.NewLabelWithStyle("0", fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true})
		b.values[name] = l
		b.counters.Append(name, l)
	}
	b.verdict = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	exposure := widget.NewLabel("Bridge mode runs here: your IP address is visible to the BitTorrent peers and DHT nodes " +
		"this computer talks to, though it announces nothing and uploads nothing. To stay hidden, ask a hidden bridge " +
		"node instead: hydre get MAGNET --bridge ONION.")
	exposure.Wrapping = fyne.TextWrapWord
	exposure.Importance = widget.WarningImportance
	b.content = container.NewVScroll(container.NewVBox(
		b.enabled,
		exposure,
		container.NewBorder(nil, nil, nil, fetch, b.magnet),
		b.errBox,
		section("What the bridge fetches", "", container.NewVBox(b.figures, b.fetches)),
		section("Discretion", "These stay at zero: the bridge takes from BitTorrent and gives nothing back to it.",
			container.NewVBox(b.counters, b.verdict)),
	))
	u.goOwned(b.poll)
	return b
}

// poll reads the bridge's figures every second while the app runs.
func (b *bridgeScreen) poll() {
	t := time.NewTicker(bridgeRefresh)
	defer t.Stop()
	for {
		st := b.u.opt.Bridge.Status()
		b.u.do(func() { b.show(st) })
		select {
		case <-b.u.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// show displays a snapshot. UI thread only.
func (b *bridgeScreen) show(st BridgeStatus) {
	if b.enabled.Checked != st.Enabled {
		b.enabled.OnChanged = nil
		b.enabled.SetChecked(st.Enabled)
		b.enabled.OnChanged = b.setEnabled
	}
	b.figures.SetText(fmt.Sprintf("%d BitTorrent peers · %s received", st.Peers, formatSize(st.Downloaded)))
	if len(st.Fetches) == 0 {
		b.fetches.SetText("No fetch yet.")
	} else {
		var lines []string
		for _, f := range st.Fetches {
			pct := 0.0
			if f.Size > 0 {
				pct = 100 * float64(f.Done) / float64(f.Size)
			}
			line := fmt.Sprintf("%s — %.0f%% of %s", f.Name, pct, sizeOrUnknown(f.Size))
			if f.Peers > 0 {
				line += fmt.Sprintf(", %d peers", f.Peers)
			}
			lines = append(lines, line)
		}
		b.fetches.SetText(strings.Join(lines, "\n"))
	}
	vals := []int64{st.Uploaded, st.AnnouncesSent, st.QueriesAnswered, st.AdvertsSent, st.IncomingAccepted}
	clean := true
	for i, name := range discretionCounters {
		b.values[name].SetText(fmt.Sprint(vals[i]))
		if vals[i] != 0 {
			clean = false
			b.values[name].Importance = widget.DangerImportance
		} else {
			b.values[name].Importance = widget.SuccessImportance
		}
		b.values[name].Refresh()
	}
	if clean {
		b.verdict.SetText("All zero: nothing was uploaded, announced or answered.")
		b.verdict.Importance = widget.SuccessImportance
	} else {
		b.verdict.SetText("A discretion counter is not zero: stop bridge mode and report this.")
		b.verdict.Importance = widget.DangerImportance
	}
	b.verdict.Refresh()
}

// setEnabled turns bridge mode on or off and remembers it.
func (b *bridgeScreen) setEnabled(on bool) {
	s := b.u.currentSettings()
	s.BridgeMode = on
	b.u.goOwned(func() {
		err := b.u.opt.Bridge.SetEnabled(b.u.ctx, on)
		if err == nil {
			err = b.u.saveSettings(s)
		}
		if err != nil {
			b.u.do(func() { b.u.showError("change bridge mode", err) })
		}
	})
}

// fetch hands a magnet link to the bridge.
func (b *bridgeScreen) fetch(magnet string) {
	magnet = strings.TrimSpace(magnet)
	if !strings.HasPrefix(strings.ToLower(magnet), "magnet:?") {
		b.setError("This is not a magnet link (they start with magnet:?).")
		return
	}
	b.setError("")
	b.magnet.SetText("")
	b.u.selectScreen(ScreenBridge)
	b.u.goOwned(func() {
		if err := b.u.opt.Bridge.Fetch(b.u.ctx, magnet); err != nil {
			b.u.do(func() { b.setError("Could not fetch: " + plainError(err)) })
		}
	})
}

func (b *bridgeScreen) setError(msg string) {
	b.errLabel.SetText(msg)
	if msg == "" {
		b.errLabel.Hide()
		b.errBox.Hide()
	} else {
		b.errLabel.Show()
		b.errBox.Show()
	}
}
