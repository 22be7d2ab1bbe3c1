package gui

import (
	"context"
	"errors"
	"image"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// shareScreen lists what this node shares, with each link, and takes new
// files from a drop or a file dialog.
type shareScreen struct {
	contentList[*shareRow]
	u        *UI
	content  fyne.CanvasObject
	private  *widget.Check
	stopping *stopControls // stop after the first download, or a time
	qr       dialog.Dialog // the QR code shown, if any
}

func newShareScreen(u *UI) *shareScreen {
	s := &shareScreen{u: u}
	add := widget.NewButtonWithIcon("Share files…", theme.ContentAddIcon(), func() { s.pickFile(&picked{}) })
	add.Importance = widget.HighImportance
	addFolder := widget.NewButtonWithIcon("Share folder…", theme.FolderNewIcon(), func() { s.pickFolder(&picked{}) })
	s.private = widget.NewCheck("Private share (only people given the link, with its client key, can even reach it)", nil)
	s.initList(u, kindShare, u.settings.ShareView, func(st *Settings, lv ListView) { st.ShareView = lv },
		"Drop files or a folder onto this window to share them, or use \"Share files…\".\n"+
			"Each share gets one link: whoever has it can download it over Tor, and nobody else can read it.",
		func() *shareRow { return newShareRow(s) }, s.stop)
	s.stopping = newStopControls()
	top := container.NewVBox(container.NewHBox(add, addFolder, s.private), s.stopping.content, s.view.content)
	s.content = container.NewBorder(top, nil, nil, nil, container.NewStack(s.list, s.empty))
	return s
}

// share seals and publishes what was dropped or picked: one file alone as
// itself, several files or a folder as one collection (one link). UI
// thread only.
func (s *shareScreen) share(paths []string) {
	opt := s.stopping.options(swarm.ShareOptions{Private: s.private.Checked})
	what := baseName(paths[0])
	if len(paths) > 1 {
		what = plural(len(paths), "item")
	}
	s.u.withEngine("share "+what, func(ctx context.Context, e *swarm.Engine) error {
		var st swarm.Status
		var err error
		if len(paths) == 1 {
			st, err = e.Share(ctx, paths[0], opt) // a folder is a collection
		} else {
			st, err = e.ShareFiles(ctx, paths, opt)
		}
		if err != nil {
			return err
		}
		s.u.do(func() {
			s.u.items.revive(st.ID)
			s.u.apply([]swarm.Status{st})
		})
		return nil
	})
}

// stop stops sharing a content after asking; the file stays on disk. A
// re-shared download stays in the Download screen, no longer served.
func (s *shareScreen) stop(st swarm.Status) {
	if resharing(st) {
		dialog.ShowConfirm("Stop sharing?", "Stop sharing "+displayName(st)+"? Its link stops working on this computer. "+
			"The download stays in the Download screen and on disk.",
			func(ok bool) {
				if !ok {
					return
				}
				s.u.withEngine("stop sharing", func(ctx context.Context, e *swarm.Engine) error {
					if err := e.SetReshare(st.ID, false); err != nil {
						return err
					}
					s.u.refreshStatus(ctx, e, st)
					return nil
				})
			}, s.u.win)
		return
	}
	dialog.ShowConfirm("Stop sharing?", "Stop sharing "+displayName(st)+"? Its link stops working on this computer. The file stays where it is.",
		func(ok bool) {
			if !ok {
				return
			}
			s.u.withEngine("stop sharing", func(ctx context.Context, e *swarm.Engine) error {
				if err := e.Remove(st.ID, false); err != nil && !errors.Is(err, swarm.ErrNotFound) {
					return err
				}
				s.u.do(func() { s.u.removed(st) })
				return nil
			})
		}, s.u.win)
}

// retry resumes a failed share.
func (s *shareScreen) retry(st swarm.Status) {
	s.u.withEngine("retry "+displayName(st), func(ctx context.Context, e *swarm.Engine) error {
		if err := e.Resume(st.ID); err != nil {
			return err
		}
		s.u.refreshStatus(ctx, e, st)
		return nil
	})
}

// copyLink puts a link on the clipboard; the button says so until its
// row is next refreshed.
func (u *UI) copyLink(link string, b *widget.Button) {
	u.app.Clipboard().SetContent(link)
	b.SetText("Copied")
	b.SetIcon(theme.ConfirmIcon())
}

// showQR shows a content's link as a QR code, for a phone or a camera.
func (s *shareScreen) showQR(st swarm.Status) {
	img, err := qrImage(st.Link)
	if err != nil {
		s.u.showError("draw the QR code", err)
		return
	}
	s.qr = dialog.NewCustom("Link to "+displayName(st), "Close", qrContent(img, st), s.u.win)
	s.qr.SetOnClosed(func() { s.qr = nil })
	s.qr.Show()
}

func qrContent(img image.Image, st swarm.Status) fyne.CanvasObject {
	pic := canvas.NewImageFromImage(img)
	pic.FillMode = canvas.ImageFillContain
	pic.ScaleMode = canvas.ImageScalePixels
	pic.SetMinSize(fyne.NewSize(qrSize, qrSize))
	note := "Anyone who scans this code can download the file."
	if isPrivate(st.Link) {
		note += " It holds the client key of this private share."
	}
	return container.NewBorder(nil, wrapped(widget.NewLabel(note), 2), nil, nil, pic)
}

// isPrivate reports whether a link carries a client key.
func isPrivate(link string) bool {
	l, err := hcrypto.ParseLink(link)
	return err == nil && l.ClientKey != nil
}

func baseName(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// shareRow is one share in the list.
type shareRow struct {
	contentRow
	s      *shareScreen
	link   *widget.Label
	remove *widget.Button
	files  *widget.Button // a collection's files
	limit  *widget.Button // its own rate limits (limits.go)
	retry  *widget.Button // shown on a failed share (its file moved back, say)
}

func newShareRow(s *shareScreen) *shareRow {
	r := &shareRow{s: s}
	r.initRow(s.u, s.view, r, r.layout)
	r.link = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	r.remove = widget.NewButtonWithIcon("Stop sharing", theme.CancelIcon(), func() { s.stop(r.st) })
	r.retry = widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), func() { s.retry(r.st) })
	r.retry.Hide()
	r.files = newFilesButton(func() { s.u.showFiles(r.st) })
	r.limit = newLimitButton(s.u, func() swarm.Status { return r.st })
	r.arrange()
	return r
}

// layout lays the row out on three lines (name and state; figures; link
// and buttons) or, compact, on one (name; state and buttons).
func (r *shareRow) layout(compact bool) fyne.CanvasObject {
	if compact {
		return container.NewBorder(nil, nil, nil,
			container.NewHBox(r.state, r.retry, r.files, r.copy, r.qr, r.limit, r.remove), r.name)
	}
	return container.NewVBox(
		container.NewBorder(nil, nil, nil, r.state, r.name),
		r.detail,
		container.NewHBox(r.link, layout.NewSpacer(), r.retry, r.files, r.copy, r.qr, r.limit, r.remove))
}

func (r *shareRow) set(st swarm.Status) {
	r.show(st)
	r.state.SetText(stateText(st))
	detail := swarm.FormatSize(st.Size) + " · "
	if t := filesText(st); t != "" {
		detail += t + " · "
	}
	detail += formatConnections(st) + " · " + swarm.FormatSize(st.Uploaded) + " uploaded"
	if why := reason(st); why != "" { // first: the line is cut to the row's width
		detail = why + " · " + detail
	}
	if st.UpRate >= 1 {
		detail += " · " + formatRate(st.UpRate)
	}
	if l := limitsText(st.Limits); l != "" {
		detail += " · " + l
	}
	if l := stopText(st, time.Now()); st.Ended != "" { // first: why it no longer shares
		detail = l + " · " + detail
	} else if l != "" {
		detail += " · " + l
	}
	if isPrivate(st.Link) {
		detail += " · private"
	}
	if st.Kind == swarm.KindHost {
		detail += " · hosting ciphertext only"
	}
	if resharing(st) {
		detail += " · downloaded here"
	}
	r.detail.SetText(detail)
	setFilesButton(r.files, st)
	r.s.u.filesChanged(st)
	if st.State == swarm.StateFailed || st.Ended != "" {
		r.retry.SetText(map[bool]string{true: "Share again", false: "Retry"}[st.Ended != ""])
		r.retry.Show()
	} else {
		r.retry.Hide()
	}
	if st.Link == "" {
		r.link.SetText("(no link)")
		r.copy.Disable()
		r.qr.Disable()
	} else {
		r.link.SetText(shortLink(st.Link))
		r.showLinkOf(st)
		r.copy.Enable()
		r.qr.Enable()
	}
}
