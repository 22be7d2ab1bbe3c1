package gui

import (
	"errors"
	"time"
)

// captureControls captures the History screen (the finished downloads)
// and the dialogs of the sharing controls: a share's own rate limits.
func (u *UI) captureControls(dir string) error {
	u.query(func() { u.selectScreen(ScreenHistory) })
	if !u.waitFor(10*time.Second, func() bool { return len(u.history.rows) > 0 }) {
		return errors.New("screenshots: the finished downloads are not in the history")
	}
	if err := u.capture(dir, "history"); err != nil {
		return err
	}
	opened := false
	u.query(func() {
		if l := u.items.list(kindShare); len(l) > 0 {
			u.selectScreen(ScreenShare)
			u.editLimits(l[0])
			opened = true
		}
	})
	if !opened {
		return nil
	}
	err := u.capture(dir, "limits")
	u.query(func() {
		if top := u.win.Canvas().Overlays().Top(); top != nil {
			top.Hide()
		}
	})
	return err
}
