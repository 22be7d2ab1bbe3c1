package gui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hydre-p2p/hydre/swarm"
)

// ScreenHistory is the History screen's name (Options.Screen).
const ScreenHistory = "history"

// historyRefresh is the least time between two readings of the history
// while its screen is shown and transfers change.
const historyRefresh = time.Second

// historyScreen lists the node's past transfers (swarm's history file),
// newest first, with a button that forgets them.
type historyScreen struct {
	u       *UI
	content fyne.CanvasObject
	list    *widget.List
	clear   *widget.Button
	empty   *widget.Label
	rows    []swarm.HistoryEntry
	read    time.Time // when the rows were last read
}

func newHistoryScreen(u *UI) *historyScreen {
	h := &historyScreen{u: u}
	h.list = widget.NewList(func() int { return len(h.rows) }, newHistoryRow,
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(h.rows) {
				setHistoryRow(o, h.rows[i])
			}
		})
	h.clear = widget.NewButtonWithIcon("Clear history", theme.DeleteIcon(), h.confirmClear)
	h.empty = widget.NewLabelWithStyle("No past transfers yet. Downloads that finish or fail, and contents you remove, are listed here.",
		fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	note := widget.NewLabel("Kept on this computer only, without the links.")
	top := container.NewBorder(nil, nil, nil, h.clear, note)
	h.content = container.NewBorder(top, nil, nil, nil, container.NewStack(h.list, container.NewCenter(h.empty)))
	return h
}

// newHistoryRow is a row: the name above what became of it.
func newHistoryRow() fyne.CanvasObject {
	name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	detail := widget.NewLabel("")
	detail.Truncation = fyne.TextTruncateEllipsis
	return container.NewVBox(name, detail)
}

func setHistoryRow(o fyne.CanvasObject, e swarm.HistoryEntry) {
	box := o.(*fyne.Container)
	name := e.Name
	if name == "" {
		name = "(name not known)"
	}
	box.Objects[0].(*widget.Label).SetText(name)
	box.Objects[1].(*widget.Label).SetText(historyDetail(e))
}

// historyDetail says what became of a past transfer: "Download ·
// complete · 1.5 MiB · 7 Dec 2026 23:14".
func historyDetail(e swarm.HistoryEntry) string {
	kind := map[string]string{"download": "Download", "share": "Share", "host": "Hosted for others"}[e.Kind]
	if kind == "" {
		kind = e.Kind
	}
	size := swarm.FormatSize(e.Size)
	if e.Verified < e.Size && e.Kind != "share" {
		size = swarm.FormatSize(e.Verified) + " of " + size
	}
	s := kind + " · " + e.Result + " · " + size
	if e.Uploaded > 0 {
		s += " · " + swarm.FormatSize(e.Uploaded) + " uploaded"
	}
	return s + " · " + e.At.Local().Format("2 Jan 2006 15:04")
}

// refresh reads the history again, newest first, off the UI thread.
func (h *historyScreen) refresh() {
	e := h.u.currentEngine()
	if e == nil {
		return
	}
	h.read = time.Now()
	h.u.goOwned(func() {
		hist, err := e.History()
		if err != nil {
			h.u.log.Warn("gui: read history", "err", err)
		}
		for i, j := 0, len(hist)-1; i < j; i, j = i+1, j-1 {
			hist[i], hist[j] = hist[j], hist[i]
		}
		h.u.do(func() { h.show(hist) })
	})
}

// show lists hist. UI thread only.
func (h *historyScreen) show(hist []swarm.HistoryEntry) {
	h.rows = hist
	if len(hist) == 0 {
		h.empty.Show()
		h.clear.Disable()
	} else {
		h.empty.Hide()
		h.clear.Enable()
	}
	h.list.Refresh()
}

// changed reads the history again if its screen is shown, at most once
// every historyRefresh: a transfer may have ended. UI thread only.
func (h *historyScreen) changed() {
	if h.u.tabs.Selected() == h.u.tabByName[ScreenHistory] && time.Since(h.read) >= historyRefresh {
		h.refresh()
	}
}

// confirmClear asks, then forgets every past transfer.
func (h *historyScreen) confirmClear() {
	dialog.ShowConfirm("Clear history?", "Forget every past transfer listed here? Shares and downloads in progress stay.", func(ok bool) {
		if !ok {
			return
		}
		h.u.withEngine("clear the history", func(ctx context.Context, e *swarm.Engine) error {
			if err := e.ClearHistory(); err != nil {
				return err
			}
			h.u.do(func() { h.show(nil) })
			return nil
		})
	}, h.u.win)
}
