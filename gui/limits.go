package gui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hydre-p2p/hydre/swarm"
)

// Rate limits in the app: the node's in Settings (kept in the settings
// file, put in force at once with Engine.SetGlobalLimits), a content's own
// from its row's Limit button (kept by the engine with the content).

// rateText writes a limit as the fields show it: "" for none, else a size
// a second ("1.0 MiB/s").
func rateText(bps int64) string {
	if bps <= 0 {
		return ""
	}
	return swarm.FormatSize(bps) + "/s"
}

// parseRateText reads a limit typed in a field: empty (or "none") for no
// limit, else a number with an optional K, M or G (binary, as the app
// shows sizes) and "B", "iB" or "/s" after it: "500K", "1.5 MiB/s", "2M".
func parseRateText(s, what string) (int64, error) {
	t := strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if t == "" || t == "NONE" || t == "0" {
		return 0, nil
	}
	t = strings.TrimSuffix(t, "/S")
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := 1.0
	if t != "" {
		if i := strings.IndexByte("KMG", t[len(t)-1]); i >= 0 {
			mult = float64(int64(1) << (10 * (i + 1)))
			t = t[:len(t)-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v*mult > 1<<40 {
		return 0, fmt.Errorf("the %s must be a rate such as 500K or 2M (bytes a second), or empty for none", what)
	}
	n := int64(v * mult)
	if n > 0 && n < swarm.MinRate {
		return 0, fmt.Errorf("the %s must be at least %d KiB/s, or empty for none", what, swarm.MinRate>>10)
	}
	return n, nil
}

// rateEntry is a field for one limit.
func rateEntry() *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder("no limit (e.g. 500K or 2M)")
	return e
}

// applyLimits puts the node's limits of s in force on the running engine,
// if any.
func (u *UI) applyLimits(s Settings) error {
	if e := u.currentEngine(); e != nil {
		return e.SetGlobalLimits(swarm.Limits{Up: s.UpRate, Down: s.DownRate})
	}
	return nil
}

// limitsText says a content's own limits on its row, "" when it has none.
func limitsText(l swarm.Limits) string {
	switch {
	case l.Up > 0 && l.Down > 0:
		return "limited to " + rateText(l.Up) + " up, " + rateText(l.Down) + " down"
	case l.Up > 0:
		return "upload limited to " + rateText(l.Up)
	case l.Down > 0:
		return "download limited to " + rateText(l.Down)
	}
	return ""
}

// newLimitButton is a row's Limit button: it edits the limits of the
// content current returns.
func newLimitButton(u *UI, current func() swarm.Status) *widget.Button {
	return widget.NewButtonWithIcon("Limit", theme.SettingsIcon(), func() { u.editLimits(current()) })
}

// editLimits asks for a content's own limits and sets them.
func (u *UI) editLimits(st swarm.Status) {
	up, down := rateEntry(), rateEntry()
	up.SetText(rateText(st.Limits.Up))
	down.SetText(rateText(st.Limits.Down))
	problem := widget.NewLabel("")
	problem.Importance = widget.DangerImportance
	problem.Hide()
	items := []*widget.FormItem{widget.NewFormItem("Upload limit", up)}
	if st.Kind != swarm.KindShare {
		items = append(items, widget.NewFormItem("Download limit", down))
	}
	note := widget.NewLabel("For this content alone; the limits of Settings hold for all of them together.")
	form := container.NewVBox(widget.NewForm(items...), wrapped(note, 2), wrapped(problem, 2))
	var dlg *dialog.CustomDialog
	save := widget.NewButtonWithIcon("Save", theme.ConfirmIcon(), func() {
		l, err := readLimits(up.Text, down.Text)
		if err != nil {
			problem.SetText(err.Error())
			problem.Show()
			return
		}
		dlg.Hide()
		u.withEngine("set the limits of "+displayName(st), func(ctx context.Context, e *swarm.Engine) error {
			if err := e.SetLimits(st.ID, l); err != nil {
				return err
			}
			u.refreshStatus(ctx, e, st)
			return nil
		})
	})
	save.Importance = widget.HighImportance
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { dlg.Hide() })
	dlg = dialog.NewCustomWithoutButtons("Limits of "+displayName(st), form, u.win)
	dlg.SetButtons([]fyne.CanvasObject{cancel, save})
	dlg.Resize(fyne.NewSize(480, 260))
	dlg.Show()
	u.win.Canvas().Focus(up)
}

// readLimits reads the two fields of a limits form.
func readLimits(up, down string) (swarm.Limits, error) {
	u, err := parseRateText(up, "upload limit")
	if err != nil {
		return swarm.Limits{}, err
	}
	d, err := parseRateText(down, "download limit")
	if err != nil {
		return swarm.Limits{}, err
	}
	return swarm.Limits{Up: u, Down: d}, nil
}

// errRate says a settings file's limit is not one the engine takes.
var errRate = errors.New("the upload and download limits must be 0 (none) or at least 16 KiB/s")
