package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// contentList is the list half of a screen of contents (Download, Share):
// the bar above it, the rows shown, the selected one, and a hint in place
// of the list while it is empty. The screens embed it.
type contentList[R statusRow] struct {
	items    *itemStore
	kind     listKind
	list     *keyList
	view     *listView
	empty    fyne.CanvasObject
	rows     []swarm.Status
	selected *hcrypto.ContentID
	made     []R                // every row the list created, for theme changes
	onDelete func(swarm.Status) // the Delete key on the selected row
}

// initList makes the list of the contents of kind, shown as saved (set
// writes a new choice into the settings), with rows made by newRow and
// hint shown while it is empty. UI thread only.
func (c *contentList[R]) initList(u *UI, kind listKind, saved ListView, set func(*Settings, ListView),
	hint string, newRow func() R, onDelete func(swarm.Status)) {
	c.items, c.kind, c.onDelete = u.items, kind, onDelete
	c.view = newListView(saved, u.saveView(c.refresh, set))
	c.list = newStatusList(&c.rows, &c.made, &c.selected, newRow, c.deleteSelected)
	c.empty = container.NewCenter(widget.NewLabelWithStyle(hint, fyne.TextAlignCenter, fyne.TextStyle{Italic: true}))
}

// refresh shows the store's contents of the list's kind. UI thread only.
func (c *contentList[R]) refresh() {
	c.rows = c.view.show(c.items.list(c.kind))
	if len(c.rows) == 0 {
		c.empty.Show()
	} else {
		c.empty.Hide()
	}
	c.list.Refresh()
}

// deleteSelected runs onDelete on the selected content (the Delete key).
func (c *contentList[R]) deleteSelected() {
	if c.selected == nil {
		return
	}
	if st, ok := c.items.get(*c.selected); ok {
		c.onDelete(st)
	}
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

// contentRow is what a row of either list holds: the content shown, its
// name and state, a detail line cut to the row's width (a long reason must
// not push the buttons away), Copy link and QR code, and its layout, full
// or compact as the list's bar says. The rows embed it; it draws the
// layout (box).
type contentRow struct {
	widget.BaseWidget
	st                  swarm.Status
	name, state, detail *widget.Label
	copy, qr            *widget.Button
	copiedID            hcrypto.ContentID // the content whose link Copy last showed
	view                *listView
	layout              func(compact bool) fyne.CanvasObject // the row's own
	box                 *fyne.Container                      // the layout shown
	compact, arranged   bool
}

// initRow makes the parts of row self, whose layout lays them out full or
// compact; self then makes its own parts and arranges them.
func (r *contentRow) initRow(u *UI, view *listView, self fyne.Widget, layout func(compact bool) fyne.CanvasObject) {
	r.view, r.layout = view, layout
	r.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.state = widget.NewLabel("")
	r.detail = widget.NewLabel("")
	r.detail.Truncation = fyne.TextTruncateEllipsis
	r.copy = widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), func() { u.copyLink(r.st.Link, r.copy) })
	r.qr = widget.NewButtonWithIcon("QR code", theme.VisibilityIcon(), func() { u.shares.showQR(r.st) })
	r.box = container.NewStack()
	r.ExtendBaseWidget(self)
}

// arrange lays the row out as the list's bar says, anew only when the
// choice changed.
func (r *contentRow) arrange() {
	compact := r.view.compact.Checked
	if r.arranged && compact == r.compact {
		return
	}
	r.arranged, r.compact = true, compact
	r.box.Objects = []fyne.CanvasObject{r.layout(compact)}
	r.box.Refresh()
}

// show starts showing st: the row arranged, the name set.
func (r *contentRow) show(st swarm.Status) {
	r.st = st
	r.arrange()
	r.name.SetText(displayName(st))
}

// showLinkOf readies Copy link for st: a "Copied" button says Copy link
// again once the row shows another content.
func (r *contentRow) showLinkOf(st swarm.Status) {
	if r.copy.Text != "Copy link" && r.copiedID != st.ID {
		r.copy.SetText("Copy link")
		r.copy.SetIcon(theme.ContentCopyIcon())
	}
	r.copiedID = st.ID
}

// CreateRenderer lays the row out (arrange).
func (r *contentRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(r.box)
}

// errorLine is a screen's line for a problem with what was typed, hidden
// while there is none. The screens embed it.
type errorLine struct {
	errLabel *widget.Label
	errBox   fyne.CanvasObject
}

// initErrorLine makes the line, its text in style.
func (l *errorLine) initErrorLine(style fyne.TextStyle) {
	l.errLabel = widget.NewLabelWithStyle("", fyne.TextAlignLeading, style)
	l.errLabel.Importance = widget.DangerImportance
	l.errLabel.Hide()
	l.errBox = wrapped(l.errLabel, 2)
	l.errBox.Hide()
}

// setError shows a problem; "" clears it.
func (l *errorLine) setError(msg string) {
	l.errLabel.SetText(msg)
	if msg == "" {
		l.errLabel.Hide()
		l.errBox.Hide()
	} else {
		l.errLabel.Show()
		l.errBox.Show()
	}
}
