package gui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/hydre-p2p/hydre/swarm"
)

// Orders of a list of contents.
const (
	sortNewest = "Newest first"
	sortName   = "Name"
	sortSize   = "Size"
	sortState  = "State"
)

var sortChoices = []string{sortNewest, sortName, sortSize, sortState}

// listView is the bar above a list of contents: how many there are, their
// order, and compact rows (one line each) for long lists.
type listView struct {
	content fyne.CanvasObject
	count   *widget.Label
	order   *widget.Select
	compact *widget.Check
}

// newListView makes the bar, showing the list as was saved; changed runs
// (on the UI thread) when the order or the row size changes, with the new
// choice.
func newListView(saved ListView, changed func(ListView)) *listView {
	v := &listView{count: widget.NewLabel("")}
	v.order = widget.NewSelect(sortChoices, nil)
	v.order.SetSelected(sortNewest)
	if slices.Contains(sortChoices, saved.Sort) {
		v.order.SetSelected(saved.Sort)
	}
	v.compact = widget.NewCheck("Compact", nil)
	v.compact.SetChecked(saved.Compact)
	v.order.OnChanged = func(string) { changed(v.choice()) }
	v.compact.OnChanged = func(bool) { changed(v.choice()) }
	v.content = container.NewHBox(v.count, layout.NewSpacer(), widget.NewLabel("Sort by"), v.order, v.compact)
	return v
}

// choice is the view shown.
func (v *listView) choice() ListView {
	return ListView{Sort: v.order.Selected, Compact: v.compact.Checked}
}

// saveView shows a list as chosen and remembers the choice (set writes it
// into the settings).
func (u *UI) saveView(refresh func(), set func(*Settings, ListView)) func(ListView) {
	return func(lv ListView) {
		refresh()
		// In memory at once, so that a choice made before this one is
		// written builds on it; each write then takes the latest settings,
		// so that writes finishing out of order cannot bring back an older
		// choice (a sort and a Compact click in quick succession did).
		u.mu.Lock()
		set(&u.settings, lv)
		u.mu.Unlock()
		u.goOwned(func() {
			u.viewSave.Lock()
			defer u.viewSave.Unlock()
			if err := SaveSettings(u.opt.DataDir, u.currentSettings()); err != nil {
				u.do(func() { u.showError("remember how the list is shown", err) })
			}
		})
	}
}

// show orders rows as chosen and counts them.
func (v *listView) show(rows []swarm.Status) []swarm.Status {
	switch len(rows) {
	case 0:
		v.count.SetText("")
	case 1:
		v.count.SetText("1 item")
	default:
		v.count.SetText(fmt.Sprintf("%d items", len(rows)))
	}
	return sortStatuses(rows, v.order.Selected)
}

// sortStatuses orders rows, which come newest first: by name (A to Z),
// size (largest first) or state (what needs attention first); ties and
// sortNewest keep the newest first.
func sortStatuses(rows []swarm.Status, by string) []swarm.Status {
	var less func(a, b swarm.Status) int
	switch by {
	case sortName:
		less = func(a, b swarm.Status) int {
			return strings.Compare(strings.ToLower(displayName(a)), strings.ToLower(displayName(b)))
		}
	case sortSize:
		less = func(a, b swarm.Status) int { return cmp.Compare(b.Size, a.Size) }
	case sortState:
		less = func(a, b swarm.Status) int { return cmp.Compare(stateRank(a), stateRank(b)) }
	default:
		return rows
	}
	slices.SortStableFunc(rows, less)
	return rows
}

// stateRank orders states by how much they need the person: failures,
// then transfers under way, waiting, paused, and finished last.
func stateRank(st swarm.Status) int {
	switch st.State {
	case swarm.StateFailed:
		return 0
	case swarm.StateFetching:
		return 1
	case swarm.StateStarting:
		return 2
	case swarm.StatePaused:
		return 3
	case swarm.StateSeeding:
		return 4
	case swarm.StateDone:
		return 5
	}
	return 6
}
