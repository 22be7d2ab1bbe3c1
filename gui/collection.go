package gui

import (
	"fmt"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// A collection (several files or a folder as one link) on the screens: its
// row says how many files it has (and, downloading, how many are whole);
// its Files button opens a list of the files, each with its progress,
// updated as the download goes.

// filesText is what a row says of a collection's files: "100 files", or
// "12 of 100 files" while they arrive ("" for a single file).
func filesText(st swarm.Status) string {
	files := st.FileList()
	switch {
	case files == nil && st.Collection:
		return "several files"
	case files == nil:
		return ""
	}
	whole := 0
	for _, f := range files {
		if f.Verified == f.Size {
			whole++
		}
	}
	if whole == len(files) || st.Kind == swarm.KindShare {
		return plural(len(files), "file")
	}
	return fmt.Sprintf("%d of %s", whole, plural(len(files), "file"))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// filesDialog lists the files of one collection with their progress.
type filesDialog struct {
	id    hcrypto.ContentID
	files []swarm.FileStatus
	title *widget.Label
	list  *widget.List
	dlg   dialog.Dialog
}

// showFiles opens the list of the files of a collection. UI thread only.
func (u *UI) showFiles(st swarm.Status) {
	fd := &filesDialog{id: st.ID, title: widget.NewLabel("")}
	fd.list = widget.NewList(func() int { return len(fd.files) },
		func() fyne.CanvasObject {
			path := widget.NewLabel("")
			path.Truncation = fyne.TextTruncateEllipsis
			bar := widget.NewProgressBar()
			size := widget.NewLabel("")
			right := container.NewGridWrap(fyne.NewSize(150, bar.MinSize().Height), bar)
			return container.NewBorder(nil, nil, nil, container.NewHBox(size, right), path)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(fd.files) {
				return
			}
			f := fd.files[i]
			b := o.(*fyne.Container)
			b.Objects[0].(*widget.Label).SetText(f.Path)
			side := b.Objects[1].(*fyne.Container)
			side.Objects[0].(*widget.Label).SetText(swarm.FormatSize(f.Size))
			bar := side.Objects[1].(*fyne.Container).Objects[0].(*widget.ProgressBar)
			if !f.Fetch {
				bar.Hide()
				return
			}
			bar.Show()
			v := 1.0
			if f.Size > 0 {
				v = float64(f.Verified) / float64(f.Size)
			}
			bar.SetValue(v)
		})
	fd.update(st)
	content := container.NewBorder(fd.title, nil, nil, nil, fd.list)
	fd.dlg = dialog.NewCustom("Files of "+displayName(st), "Close", content, u.win)
	fd.dlg.SetOnClosed(func() {
		if u.files == fd {
			u.files = nil
		}
	})
	fd.dlg.Resize(fyne.NewSize(720, 480))
	u.files = fd
	fd.dlg.Show()
}

// update shows the latest status of the collection. UI thread only.
func (fd *filesDialog) update(st swarm.Status) {
	fd.files = st.FileList()
	text := filesText(st)
	if st.Path != "" {
		text += " in " + st.Path
	}
	fd.title.SetText(text)
	fd.list.Refresh()
}

// filesChanged passes a new status on to the files dialog showing it.
func (u *UI) filesChanged(st swarm.Status) {
	if u.files != nil && u.files.id == st.ID {
		u.files.update(st)
	}
}

// newFilesButton is the Files button of a row; hidden but for collections.
func newFilesButton(show func()) *widget.Button {
	b := widget.NewButtonWithIcon("Files", theme.ListIcon(), show)
	b.Hide()
	return b
}

// setFilesButton shows b for a collection whose files are known.
func setFilesButton(b *widget.Button, st swarm.Status) {
	if st.Files != nil {
		b.Show()
	} else {
		b.Hide()
	}
}

// withFiles appends a collection's files text to parts of a row's detail.
func withFiles(parts []string, st swarm.Status) []string {
	if t := filesText(st); t != "" {
		return append(parts, t)
	}
	return parts
}

// picked is the files and folders chosen with the file picker, shared
// together (one link) once the person says so.
type picked struct {
	paths []string
	dlg   dialog.Dialog
}

// pickMore shows what was picked so far, with "Add file…", "Add folder…"
// and "Share": several files (or a folder) become one link. UI thread only.
func (s *shareScreen) pickMore(p *picked) {
	if p.dlg != nil {
		p.dlg.Hide()
	}
	names := make([]string, len(p.paths))
	for i, path := range p.paths {
		names[i] = baseName(path)
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			names[i] += "/ (folder)"
		}
	}
	list := widget.NewLabel(strings.Join(names, "\n"))
	list.Wrapping = fyne.TextWrapWord
	addFile := widget.NewButtonWithIcon("Add file…", theme.ContentAddIcon(), func() { s.pickFile(p) })
	addFolder := widget.NewButtonWithIcon("Add folder…", theme.FolderNewIcon(), func() { s.pickFolder(p) })
	note := "These are shared together, as one link."
	if len(p.paths) == 1 {
		note = "Add more to share them together, as one link."
	}
	content := container.NewBorder(widget.NewLabel(note), container.NewHBox(addFile, addFolder), nil, nil,
		container.NewVScroll(list))
	p.dlg = dialog.NewCustomConfirm("Share "+plural(len(p.paths), "item"), "Share", "Cancel", content, func(ok bool) {
		if ok {
			s.share(p.paths)
		}
	}, s.u.win)
	p.dlg.Resize(fyne.NewSize(560, 360))
	p.dlg.Show()
}

// pickFile adds a file to p with the file picker.
func (s *shareScreen) pickFile(p *picked) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			s.u.showError("open the file", err)
			return
		}
		if r != nil {
			p.paths = append(p.paths, r.URI().Path())
			r.Close()
		}
		if len(p.paths) > 0 {
			s.pickMore(p)
		}
	}, s.u.win)
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

// pickFolder adds a folder to p with the folder picker.
func (s *shareScreen) pickFolder(p *picked) {
	d := dialog.NewFolderOpen(func(l fyne.ListableURI, err error) {
		if err != nil {
			s.u.showError("open the folder", err)
			return
		}
		if l != nil {
			p.paths = append(p.paths, l.Path())
		}
		if len(p.paths) > 0 {
			s.pickMore(p)
		}
	}, s.u.win)
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}
