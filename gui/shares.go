package gui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
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
	u        *UI
	content  fyne.CanvasObject
	private  *widget.Check
	stopping *stopControls // stop after the first download, or a time
	list     *keyList
	view     *listView
	empty    fyne.CanvasObject
	rows     []swarm.Status
	selected *hcrypto.ContentID
	qr       dialog.Dialog // the QR code shown, if any
	made     []*shareRow   // every row the list created, for theme changes
}

func newShareScreen(u *UI) *shareScreen {
	s := &shareScreen{u: u}
	add := widget.NewButtonWithIcon("Share files…", theme.ContentAddIcon(), s.pickFiles)
	add.Importance = widget.HighImportance
	s.private = widget.NewCheck("Private share (only people given the link, with its client key, can even reach it)", nil)
	s.view = newListView(u.settings.ShareView,
		u.saveView(s.refresh, func(st *Settings, lv ListView) { st.ShareView = lv }))
	s.list = newStatusList(&s.rows, &s.made, &s.selected, func() *shareRow { return newShareRow(s) }, s.stopSelected)
	hint := widget.NewLabelWithStyle("Drop files onto this window to share them, or use \"Share files…\".\n"+
		"Each share gets a link: whoever has it can download the file over Tor, and nobody else can read it.",
		fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	s.empty = container.NewCenter(hint)
	s.stopping = newStopControls()
	top := container.NewVBox(container.NewHBox(add, s.private), s.stopping.content, s.view.content)
	s.content = container.NewBorder(top, nil, nil, nil, container.NewStack(s.list, s.empty))
	return s
}

// refresh shows the store's shares. UI thread only.
func (s *shareScreen) refresh() {
	s.rows = s.view.show(s.u.items.list(kindShare))
	if len(s.rows) == 0 {
		s.empty.Show()
	} else {
		s.empty.Hide()
	}
	s.list.Refresh()
}

// pickFiles opens a file dialog; the chosen file is shared.
func (s *shareScreen) pickFiles() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			s.u.showError("open the file", err)
			return
		}
		if r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		s.share([]string{path})
	}, s.u.win)
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

// share seals and publishes files; each appears in the list with its link.
// UI thread only.
func (s *shareScreen) share(paths []string) {
	opt := s.stopping.options(swarm.ShareOptions{Private: s.private.Checked})
	for _, p := range paths {
		s.u.withEngine("share "+baseName(p), func(ctx context.Context, e *swarm.Engine) error {
			fi, err := os.Stat(p)
			if err != nil {
				return err
			}
			if fi.IsDir() {
				return fmt.Errorf("%s is a folder: share the files inside it, or an archive of it", baseName(p))
			}
			st, err := e.Share(ctx, p, opt)
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

// stopSelected stops the selected share (the Delete key).
func (s *shareScreen) stopSelected() {
	if s.selected == nil {
		return
	}
	if st, ok := s.u.items.get(*s.selected); ok {
		s.stop(st)
	}
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
	widget.BaseWidget
	s                *shareScreen
	st               swarm.Status
	name, state      *widget.Label
	detail, link     *widget.Label
	copy, qr, remove *widget.Button
	retry            *widget.Button    // shown on a failed share (its file moved back, say)
	limit            *widget.Button    // its own rate limits (limits.go)
	copiedID         hcrypto.ContentID // the content whose link Copy last showed
	box              *fyne.Container   // the row's layout: full or compact
	compact          bool
	arranged         bool
}

func newShareRow(s *shareScreen) *shareRow {
	r := &shareRow{s: s}
	r.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.state = widget.NewLabel("")
	r.detail = widget.NewLabel("")
	r.detail.Truncation = fyne.TextTruncateEllipsis // a long reason must not widen the row
	r.link = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	r.copy = widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), func() { s.u.copyLink(r.st.Link, r.copy) })
	r.qr = widget.NewButtonWithIcon("QR code", theme.VisibilityIcon(), func() { s.showQR(r.st) })
	r.remove = widget.NewButtonWithIcon("Stop sharing", theme.CancelIcon(), func() { s.stop(r.st) })
	r.retry = widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), func() { s.retry(r.st) })
	r.retry.Hide()
	r.limit = newLimitButton(s.u, func() swarm.Status { return r.st })
	r.box = container.NewStack()
	r.arrange(s.view.compact.Checked)
	r.ExtendBaseWidget(r)
	return r
}

// arrange lays the row out on three lines (name and state; figures; link
// and buttons) or, compact, on one (name; state and buttons).
func (r *shareRow) arrange(compact bool) {
	if r.arranged && compact == r.compact {
		return
	}
	r.arranged, r.compact = true, compact
	if compact {
		r.box.Objects = []fyne.CanvasObject{container.NewBorder(nil, nil, nil,
			container.NewHBox(r.state, r.retry, r.copy, r.qr, r.limit, r.remove), r.name)}
	} else {
		r.box.Objects = []fyne.CanvasObject{container.NewVBox(
			container.NewBorder(nil, nil, nil, r.state, r.name),
			r.detail,
			container.NewHBox(r.link, layout.NewSpacer(), r.retry, r.copy, r.qr, r.limit, r.remove))}
	}
	r.box.Refresh()
}

// statusRow is a row of a list of contents.
type statusRow interface {
	fyne.CanvasObject
	set(st swarm.Status)
}

// newStatusList is the list of a screen of contents: it shows *rows with
// rows made by newRow (remembered in *made, for theme changes) and keeps
// the ID of the selected one in *selected; the Delete key, on the window
// or on the focused list, runs onDelete. UI thread only.
func newStatusList[R statusRow](rows *[]swarm.Status, made *[]R, selected **hcrypto.ContentID, newRow func() R, onDelete func()) *keyList {
	l := newKeyList(
		func() int { return len(*rows) },
		func() fyne.CanvasObject {
			r := newRow()
			*made = append(*made, r)
			return r
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(*rows) {
				o.(R).set((*rows)[i])
			}
		}, onDelete)
	l.OnSelected = func(i widget.ListItemID) {
		if i < len(*rows) {
			id := (*rows)[i].ID
			*selected = &id
		}
	}
	l.OnUnselected = func(widget.ListItemID) { *selected = nil }
	return l
}

func (r *shareRow) set(st swarm.Status) {
	r.st = st
	r.arrange(r.s.view.compact.Checked)
	r.name.SetText(displayName(st))
	r.state.SetText(stateText(st))
	detail := swarm.FormatSize(st.Size) + " · " + formatConnections(st) + " · " + swarm.FormatSize(st.Uploaded) + " uploaded"
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
		if r.copy.Text != "Copy link" && r.copiedID != st.ID {
			r.copy.SetText("Copy link")
			r.copy.SetIcon(theme.ContentCopyIcon())
		}
		r.copiedID = st.ID
		r.copy.Enable()
		r.qr.Enable()
	}
}

// CreateRenderer lays the row out (arrange).
func (r *shareRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(r.box)
}
