package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// keyList is a List that also answers the Delete key. A row tapped on the
// desktop focuses its List, and the driver then hands every key to the
// List, not to the window: without this the window's Delete never fires
// once a row is selected.
type keyList struct {
	widget.List
	onDelete func()
}

func newKeyList(length func() int, create func() fyne.CanvasObject, update func(widget.ListItemID, fyne.CanvasObject), onDelete func()) *keyList {
	l := &keyList{onDelete: onDelete}
	l.Length, l.CreateItem, l.UpdateItem = length, create, update
	l.ExtendBaseWidget(l)
	return l
}

// TypedKey runs onDelete for Delete and leaves the other keys (arrows,
// space) to the List.
func (l *keyList) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyDelete && l.onDelete != nil {
		l.onDelete()
		return
	}
	l.List.TypedKey(ev)
}
