package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// fixedHeight lays its objects over its whole area and asks for a fixed
// height and no width. A word-wrapped label placed in it wraps to the width
// it is given instead of asking for one word a line, which would make the
// window as tall as the text is long.
type fixedHeight struct{ height float32 }

// Layout gives every object the whole area.
func (l fixedHeight) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

// MinSize is the fixed height.
func (l fixedHeight) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(0, l.height) }

// wrapped returns a word-wrapped label that takes the width it is given and
// the height of the given number of lines.
func wrapped(l *widget.Label, lines int) fyne.CanvasObject {
	l.Wrapping = fyne.TextWrapWord
	h := float32(lines)*(theme.TextSize()*1.3) + 2*theme.InnerPadding()
	return &fyne.Container{Layout: fixedHeight{height: h}, Objects: []fyne.CanvasObject{l}}
}

// section is a titled group of a screen: a bold heading, an optional line
// under it, then the content; more compact than a card.
func section(title, note string, content fyne.CanvasObject) fyne.CanvasObject {
	head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.SizeName = theme.SizeNameSubHeadingText
	objs := []fyne.CanvasObject{widget.NewSeparator(), head}
	if note != "" {
		objs = append(objs, wrapped(widget.NewLabel(note), 1))
	}
	return container.NewVBox(append(objs, content)...)
}
