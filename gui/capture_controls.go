package gui

// captureControls captures the dialogs of the sharing controls: a share's
// own rate limits.
func (u *UI) captureControls(dir string) error {
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
