package gui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// downloadScreen takes pasted links and lists downloads with their progress.
type downloadScreen struct {
	contentList[*downloadRow]
	errorLine
	u       *UI
	content fyne.CanvasObject
	entry   *widget.Entry
}

func newDownloadScreen(u *UI) *downloadScreen {
	d := &downloadScreen{u: u}
	d.entry = widget.NewEntry()
	d.entry.SetPlaceHolder("Paste a hydre: link here and press Enter")
	d.entry.OnSubmitted = func(string) { d.submit() }
	get := widget.NewButtonWithIcon("Download", theme.DownloadIcon(), d.submit)
	get.Importance = widget.HighImportance
	d.initErrorLine(fyne.TextStyle{Bold: true})
	d.initList(u, kindDownload, u.settings.DownloadView, func(s *Settings, lv ListView) { s.DownloadView = lv },
		"Paste a link someone gave you (Ctrl+V anywhere in the window) to download the file over Tor.\n"+
			"You can play a video or song as soon as it starts.",
		func() *downloadRow { return newDownloadRow(d) }, d.remove)
	top := container.NewVBox(container.NewBorder(nil, nil, nil, get, d.entry), d.errBox, d.view.content)
	d.content = container.NewBorder(top, nil, nil, nil, container.NewStack(d.list, d.empty))
	return d
}

// submit starts downloading the link in the entry.
func (d *downloadScreen) submit() {
	text := strings.TrimSpace(d.entry.Text)
	switch {
	case text == "":
		d.setError("Paste a hydre: link first.")
		return
	case strings.HasPrefix(strings.ToLower(text), "magnet:"):
		if d.u.opt.Bridge == nil {
			d.setError("This is a BitTorrent magnet link. hydre fetches those only through a bridge, which this build does not include.")
			return
		}
		d.setError("")
		d.entry.SetText("")
		d.u.bridge.fetch(text)
		return
	}
	if _, err := hcrypto.ParseLink(text); err != nil {
		d.setError(plainError(err))
		return
	}
	d.setError("")
	d.entry.SetText("")
	d.get(text)
}

// get starts a download; errors show under the entry.
func (d *downloadScreen) get(link string) { d.getInto(link, "") }

// getInto downloads link into the folder sub of the download folder (a
// local relative path, "" for the download folder itself).
func (d *downloadScreen) getInto(link, sub string) {
	e := d.u.currentEngine()
	if e == nil {
		d.setError("hydre is not connected to Tor yet: wait for the status bar above, then try again.")
		d.entry.SetText(link)
		return
	}
	s := d.u.currentSettings()
	d.u.goOwned(func() {
		st, err := d.fetch(d.u.ctx, e, link, filepath.Join(s.DownloadDir, sub), s)
		d.u.do(func() {
			if err != nil {
				d.setError("Could not download: " + plainError(err))
				return
			}
			d.u.items.revive(st.ID)
			d.u.apply([]swarm.Status{st})
		})
	})
}

func (d *downloadScreen) fetch(ctx context.Context, e *swarm.Engine, link, dir string, s Settings) (swarm.Status, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return swarm.Status{}, fmt.Errorf("create the download folder: %w", err)
	}
	st, err := e.Fetch(ctx, link, dir, swarm.FetchOptions{})
	if err != nil {
		return swarm.Status{}, err
	}
	if st.Reshare != s.Reshare {
		if err := e.SetReshare(st.ID, s.Reshare); err != nil {
			return st, err
		}
		st.Reshare = s.Reshare
	}
	return st, nil
}

// pauseResume pauses a running download, or resumes a paused or failed one.
func (d *downloadScreen) pauseResume(st swarm.Status) {
	what, op := "pause "+displayName(st), (*swarm.Engine).Pause
	if st.State == swarm.StatePaused || st.State == swarm.StateFailed {
		what, op = "resume "+displayName(st), (*swarm.Engine).Resume
	}
	d.u.withEngine(what, func(ctx context.Context, e *swarm.Engine) error {
		if err := op(e, st.ID); err != nil {
			return err
		}
		d.u.refreshStatus(ctx, e, st)
		return nil
	})
}

// play streams a content to the system's media player.
func (d *downloadScreen) play(st swarm.Status) {
	d.u.withEngine("play "+displayName(st), func(ctx context.Context, e *swarm.Engine) error {
		addr, err := d.u.opt.Stream(ctx, e, st.ID)
		if err != nil {
			return err
		}
		wait, err := launchPlayer(ctx, addr)
		if err != nil || wait == nil {
			return err
		}
		if err := wait(); err != nil && ctx.Err() == nil {
			d.u.log.Info("gui: player exited", "err", err)
		}
		return nil
	})
}

// remove removes a download after asking whether to delete its file.
func (d *downloadScreen) remove(st swarm.Status) {
	del := deleteDataCheck(st)
	msg := widget.NewLabel("Remove " + displayName(st) + " from the list? hydre stops downloading and sharing it.")
	dlg := dialog.NewCustomConfirm("Remove download?", "Remove", "Cancel", container.NewVBox(wrapped(msg, 2), del), func(ok bool) {
		if !ok {
			return
		}
		deleteData := del.Checked
		d.u.withEngine("remove "+displayName(st), func(ctx context.Context, e *swarm.Engine) error {
			if err := e.Remove(st.ID, deleteData); err != nil && !errors.Is(err, swarm.ErrNotFound) {
				return err
			}
			d.u.do(func() { d.u.removed(st) })
			return nil
		})
	}, d.u.win)
	dlg.Resize(fyne.NewSize(460, 200))
	dlg.Show()
}

// deleteDataCheck is the remove dialog's choice to delete the data too:
// off for a finished download, on for an unfinished one, which cannot
// resume once removed, so that its hidden partial file would only take
// space.
func deleteDataCheck(st swarm.Status) *widget.Check {
	if st.Done() {
		return widget.NewCheck("Also delete the file from the disk", nil)
	}
	c := widget.NewCheck("Also delete the partial file ("+swarm.FormatSize(st.Verified)+" fetched; a removed download cannot resume)", nil)
	c.SetChecked(true)
	return c
}

// downloadRow is one download in the list.
type downloadRow struct {
	contentRow          // Copy link and QR code shown once done
	d                   *downloadScreen
	bar                 *widget.ProgressBar
	pause, play, folder *widget.Button
	remove              *widget.Button
	files               *widget.Button // a collection's files
	limit               *widget.Button // its own rate limits (limits.go)
}

func newDownloadRow(d *downloadScreen) *downloadRow {
	r := &downloadRow{d: d}
	r.initRow(d.u, d.view, r, r.layout)
	r.bar = widget.NewProgressBar()
	r.pause = widget.NewButtonWithIcon("Pause", theme.MediaPauseIcon(), func() { d.pauseResume(r.st) })
	r.play = widget.NewButtonWithIcon("Play", theme.MediaPlayIcon(), func() { d.play(r.st) })
	r.folder = widget.NewButtonWithIcon("Open folder", theme.FolderOpenIcon(), func() { d.u.openFolder(r.st.Path) })
	r.remove = widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() { d.remove(r.st) })
	r.limit = newLimitButton(d.u, func() swarm.Status { return r.st })
	r.copy.Hide()
	r.qr.Hide()
	r.files = newFilesButton(func() { d.u.showFiles(r.st) })
	r.play.Hide() // until set shows a playable content
	r.arrange()
	return r
}

// layout lays the row out on three lines (name and state; progress bar;
// figures and buttons) or, compact, on one (name; state and buttons).
func (r *downloadRow) layout(compact bool) fyne.CanvasObject {
	buttons := container.NewHBox(r.pause, r.play, r.files, r.copy, r.qr, r.folder, r.limit, r.remove)
	if compact {
		return container.NewBorder(nil, nil, nil, container.NewHBox(r.state, buttons), r.name)
	}
	return container.NewVBox(
		container.NewBorder(nil, nil, nil, r.state, r.name),
		r.bar,
		container.NewBorder(nil, nil, nil, buttons, r.detail))
}

func (r *downloadRow) set(st swarm.Status) {
	r.show(st)
	state := stateText(st)
	if r.compact && !st.Done() && st.Size > 0 { // the bar is not shown
		state += fmt.Sprintf(" %.0f%%", 100*fraction(st))
	}
	r.state.SetText(state)
	r.bar.SetValue(fraction(st))
	var parts []string
	if why := reason(st); why != "" { // first: the line is cut to the row's width
		parts = append(parts, why)
	}
	parts = append(parts, swarm.FormatSize(st.Verified)+" of "+sizeOrUnknown(st.Size))
	parts = withFiles(parts, st)
	setFilesButton(r.files, st)
	r.d.u.filesChanged(st)
	if !st.Done() && st.State != swarm.StatePaused {
		parts = append(parts, formatRate(st.DownRate))
	}
	parts = append(parts, formatConnections(st)+formatFound(st.Found))
	if eta := formatETA(st.ETA); eta != "" && !st.Done() && st.State == swarm.StateFetching {
		parts = append(parts, eta)
	}
	if st.Done() && st.Uploaded > 0 {
		parts = append(parts, swarm.FormatSize(st.Uploaded)+" uploaded")
	}
	if l := limitsText(st.Limits); l != "" {
		parts = append(parts, l)
	}
	r.detail.SetText(strings.Join(parts, " · "))
	switch {
	case st.Done():
		r.pause.Hide()
	case st.State == swarm.StateFailed: // a full disk freed, a folder back
		r.pause.SetText("Retry")
		r.pause.SetIcon(theme.ViewRefreshIcon())
		r.pause.Show()
	case st.State == swarm.StatePaused:
		r.pause.SetText("Resume")
		r.pause.SetIcon(theme.MediaPlayIcon())
		r.pause.Show()
	default:
		r.pause.SetText("Pause")
		r.pause.SetIcon(theme.MediaPauseIcon())
		r.pause.Show()
	}
	if st.Done() && st.Link != "" { // to hand on what was fetched
		r.showLinkOf(st)
		r.copy.Show()
		r.qr.Show()
	} else {
		r.copy.Hide()
		r.qr.Hide()
	}
	if r.d.u.opt.Stream != nil && playable(st) {
		r.play.Show()
	} else {
		r.play.Hide()
	}
	if st.Size > 0 && st.Path != "" {
		r.play.Enable()
		r.folder.Enable()
	} else {
		r.play.Disable()
		r.folder.Disable()
	}
}

func sizeOrUnknown(n int64) string {
	if n <= 0 {
		return "unknown size"
	}
	return swarm.FormatSize(n)
}
