package gui

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// Bridge is what the Bridge screen drives: the discreet BitTorrent client
// of package bridge, adapted by the command line. Its methods may block;
// the app calls them off the UI thread.
type Bridge interface {
	// SetEnabled turns bridge mode on or off.
	SetEnabled(ctx context.Context, on bool) error
	// Fetch starts fetching a magnet link here; the content then appears
	// in the engine (and so in the app's lists) as it arrives.
	Fetch(ctx context.Context, magnet string) error
	// Request asks the hidden bridge node at node ("<56 chars>.onion:port")
	// to fetch a magnet link, reporting the node's progress, and returns
	// the hydre links it answers with, one per file of the torrent.
	// BitTorrent never sees this computer.
	Request(ctx context.Context, node, magnet string, progress func(done, size int64)) ([]RemoteFile, error)
	// Status returns the bridge's figures now.
	Status() BridgeStatus
}

// A RemoteFile is one file a bridge node fetched for the user.
type RemoteFile struct {
	Link string
	// Dir is the folder, relative to the download folder, the file goes
	// into ("" for the download folder itself): the file's folder in a
	// multi-file torrent. The Bridge has made it a local path.
	Dir string
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
	errorLine
	u        *UI
	content  fyne.CanvasObject
	enabled  *widget.Check
	node     *widget.Entry // hidden bridge node to ask; "" fetches here
	remote   *widget.Label // the requests to the node
	magnet   *widget.Entry
	exposure *widget.Label // the IP warning, shown while bridge mode is on
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
	b.node = widget.NewEntry()
	b.node.SetPlaceHolder("hidden bridge node: <56 characters>.onion:7446")
	b.node.SetText(u.currentSettings().BridgeNode)
	b.node.OnSubmitted = func(string) { b.saveNode() }
	b.node.OnChanged = func(string) { b.saveNode() }
	b.remote = widget.NewLabel("")
	b.remote.Wrapping = fyne.TextWrapWord
	b.remote.Hide()
	b.enabled = widget.NewCheck("Or fetch here: bridge mode (download only, announced nowhere)", b.setEnabled)
	b.magnet = widget.NewEntry()
	b.magnet.SetPlaceHolder("magnet:?xt=urn:btih:…")
	b.magnet.OnSubmitted = func(s string) { b.fetch(s) }
	fetch := widget.NewButtonWithIcon("Fetch", theme.DownloadIcon(), func() { b.fetch(b.magnet.Text) })
	b.initErrorLine(fyne.TextStyle{})
	b.fetches = widget.NewLabel("No fetch yet.")
	b.figures = widget.NewLabel("")
	b.counters = widget.NewForm()
	for _, name := range discretionCounters {
		l := widget.NewLabelWithStyle("0", fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true})
		b.values[name] = l
		b.counters.Append(name, l)
	}
	b.verdict = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	nodeHelp := widget.NewLabel("A hidden bridge node fetches the torrent for you and hands it over as a hydre link, " +
		"over Tor: BitTorrent never sees your address. Give its address to have magnet links fetched by it.")
	nodeHelp.Wrapping = fyne.TextWrapWord
	b.exposure = widget.NewLabel("Bridge mode runs here: your IP address is visible to the BitTorrent peers and DHT nodes " +
		"this computer talks to, though it announces nothing and uploads nothing. To stay hidden, ask a hidden bridge " +
		"node instead (above).")
	b.exposure.Wrapping = fyne.TextWrapWord
	b.exposure.Importance = widget.WarningImportance
	b.exposure.Hide()
	b.content = container.NewVScroll(container.NewVBox(
		container.NewBorder(nil, nil, nil, fetch, b.magnet),
		b.errBox,
		section("Hidden bridge node", "", container.NewVBox(nodeHelp, b.node, b.remote)),
		b.enabled,
		b.exposure,
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
	b.showExposure(st.Enabled)
	b.figures.SetText(fmt.Sprintf("%d BitTorrent peers · %s received", st.Peers, swarm.FormatSize(st.Downloaded)))
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

// showExposure shows the IP address warning while bridge mode is on.
func (b *bridgeScreen) showExposure(on bool) {
	if on {
		b.exposure.Show()
	} else {
		b.exposure.Hide()
	}
}

// setEnabled turns bridge mode on or off and remembers it.
func (b *bridgeScreen) setEnabled(on bool) {
	b.showExposure(on)
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

// saveNode remembers the hidden bridge node's address once it is empty or
// well formed.
func (b *bridgeScreen) saveNode() {
	node := strings.TrimSpace(b.node.Text)
	s := b.u.currentSettings()
	if node == s.BridgeNode || (node != "" && !validNode(node)) {
		return
	}
	s.BridgeNode = node
	b.u.goOwned(func() {
		if err := b.u.saveSettings(s); err != nil {
			b.u.do(func() { b.u.showError("save the bridge node", err) })
		}
	})
}

// validNode reports whether s is a v3 onion address with a port.
func validNode(s string) bool {
	_, _, err := hcrypto.ParseOnion(s)
	return err == nil
}

// fetch hands a magnet link to the hidden bridge node when one is set,
// else to the bridge here.
func (b *bridgeScreen) fetch(magnet string) {
	magnet = strings.TrimSpace(magnet)
	if !strings.HasPrefix(strings.ToLower(magnet), "magnet:?") {
		b.setError("This is not a magnet link (they start with magnet:?).")
		return
	}
	node := strings.TrimSpace(b.node.Text)
	if node != "" && !validNode(node) {
		b.setError("The hidden bridge node's address is not valid: it looks like <56 characters>.onion:7446.")
		return
	}
	b.setError("")
	b.magnet.SetText(magnet) // kept until the fetch starts, so a failure loses nothing
	b.u.selectScreen(ScreenBridge)
	if node != "" {
		b.request(node, magnet)
		return
	}
	b.u.goOwned(func() {
		err := b.u.opt.Bridge.Fetch(b.u.ctx, magnet)
		b.u.do(func() {
			if err != nil {
				b.setError("Could not fetch: " + plainError(err))
				return
			}
			b.started(magnet)
		})
	})
}

// started clears the magnet box once its link is under way (unless
// another link was typed since).
func (b *bridgeScreen) started(magnet string) {
	if strings.TrimSpace(b.magnet.Text) == magnet {
		b.magnet.SetText("")
	}
}

// request asks the hidden bridge node for magnet, shows its progress, then
// downloads the links it answers with like any other, each file of a
// multi-file torrent into its folder.
func (b *bridgeScreen) request(node, magnet string) {
	name := magnetName(magnet)
	b.remote.SetText("Asking the bridge node for " + name + "…")
	b.remote.Show()
	b.u.goOwned(func() {
		files, err := b.u.opt.Bridge.Request(b.u.ctx, node, magnet, func(done, size int64) {
			b.u.do(func() {
				b.remote.SetText(fmt.Sprintf("The bridge node fetches %s: %s of %s.", name, swarm.FormatSize(done), sizeOrUnknown(size)))
			})
		})
		b.u.do(func() {
			if err != nil {
				b.remote.SetText("")
				b.remote.Hide()
				b.setError("The bridge node could not fetch it: " + plainError(err))
				return
			}
			what := "it now downloads"
			if len(files) > 1 {
				what = fmt.Sprintf("its %d files now download", len(files))
			}
			b.remote.SetText("The bridge node fetched " + name + "; " + what + " over hydre (Download screen).")
			b.started(magnet)
			for _, f := range files {
				b.u.downloads.getInto(f.Link, f.Dir)
			}
		})
	})
}

// magnetName is the display name of a magnet link, or "the torrent".
func magnetName(magnet string) string {
	if u, err := url.Parse(magnet); err == nil {
		if dn := strings.TrimSpace(u.Query().Get("dn")); dn != "" {
			return dn
		}
	}
	return "the torrent"
}
