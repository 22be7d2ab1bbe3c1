package gui

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/software"

	"github.com/hydre-p2p/hydre/swarm"
)

// Limits of the screenshot run: Tor may take a while on a busy machine.
const (
	captureConnectTimeout = 4 * time.Minute
	captureItemsTimeout   = 3 * time.Minute
	captureDoneTimeout    = 4 * time.Minute // the downloads finish
	// captureSettle lets the window paint a screen before it is captured.
	captureSettle = 800 * time.Millisecond
)

// captureScreens writes a PNG of every screen into dir, then quits the app.
// It runs in its own goroutine; the error, if any, is what Run returns.
func (u *UI) captureScreens(dir string) {
	err := u.captureAll(dir)
	if err != nil {
		u.log.Error("gui: screenshots", "err", err)
	}
	u.mu.Lock()
	u.captureErr = err
	u.mu.Unlock()
	fyne.Do(u.app.Quit)
}

func (u *UI) captureAll(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("screenshots: %w", err)
	}
	// The start-up screen, usually while Tor bootstraps.
	if err := u.capture(dir, "startup"); err != nil {
		return err
	}
	if !u.waitFor(captureConnectTimeout, func() bool { return u.tor.state != "connecting" || u.tor.cannotReach }) {
		return errors.New("screenshots: tor did not connect in time")
	}
	if u.torCannotReach() { // offline (scripts/screenshots.sh runs one such app)
		_ = u.capture(dir, "tor-stuck")
		return errors.New("screenshots: tor cannot reach the network")
	}
	if u.torState() == "failed" {
		_ = u.capture(dir, "tor-failed")
		var detail string
		u.query(func() { detail = u.tor.detail.Text })
		return fmt.Errorf("screenshots: not connected: %s", detail)
	}
	ok := u.waitFor(captureItemsTimeout, func() bool {
		shares, downloads := u.items.list(kindShare), u.items.list(kindDownload)
		if len(shares) < len(u.opt.Share) || len(downloads) < len(u.opt.Get) {
			return false
		}
		for _, st := range downloads {
			if st.Verified == 0 && !st.Done() {
				return false
			}
		}
		for _, st := range shares {
			if !st.Reachable { // still "Publishing"
				return false
			}
		}
		return true
	})
	if !ok {
		var last string
		u.query(func() { last = u.lastError + " " + u.downloads.errLabel.Text })
		return fmt.Errorf("screenshots: the shares and downloads did not start in time %s", last)
	}
	screens := []string{ScreenShare, ScreenDownload, ScreenSettings}
	if u.bridge != nil {
		screens = append(screens, ScreenBridge)
	}
	for _, name := range screens {
		u.query(func() { u.selectScreen(name) })
		if err := u.capture(dir, name); err != nil {
			return err
		}
	}
	// The connection settings, below the general ones, with the built-in
	// obfs4 bridges chosen (not saved: the form shows the saved values
	// again after).
	u.query(func() {
		u.selectScreen(ScreenSettings)
		u.prefs.bridgeKind.SetSelected(bridgeChoices[1])
		u.prefs.scroll.ScrollToBottom()
	})
	err := u.capture(dir, "settings-connection")
	u.query(func() {
		u.prefs.load(u.currentSettings())
		u.prefs.scroll.ScrollToTop()
	})
	if err != nil {
		return err
	}
	// The other theme, on the Download screen.
	other := ThemeLight
	if u.currentSettings().Theme == ThemeLight {
		other = ThemeDark
	}
	u.query(func() {
		u.applyTheme(other)
		u.selectScreen(ScreenDownload)
	})
	err = u.capture(dir, "download-"+other)
	u.query(func() { u.applyTheme(u.currentSettings().Theme) })
	if err != nil {
		return err
	}
	var first *swarm.Status
	u.query(func() {
		if l := u.items.list(kindShare); len(l) > 0 {
			first = &l[0]
			u.selectScreen(ScreenShare)
			u.shares.showQR(l[0])
		}
	})
	if first != nil {
		if err := u.capture(dir, "share-qr"); err != nil {
			return err
		}
		u.query(func() {
			if u.shares.qr != nil {
				u.shares.qr.Hide()
			}
		})
	}
	if err := u.captureDone(dir); err != nil {
		return err
	}
	return u.captureControls(dir)
}

// captureDone waits for the downloads to finish, then captures a finished
// download (Copy link, QR code) and both lists in compact rows, the
// re-shared downloads on the Share screen among them.
func (u *UI) captureDone(dir string) error {
	ok := u.waitFor(captureDoneTimeout, func() bool {
		for _, st := range u.items.list(kindDownload) {
			if !st.Done() || st.Reshare && !st.Reachable {
				return false
			}
		}
		return true
	})
	if !ok {
		return errors.New("screenshots: the downloads did not finish in time")
	}
	u.query(func() { u.selectScreen(ScreenDownload) })
	if err := u.capture(dir, "download-done"); err != nil {
		return err
	}
	// A collection's files, each with its progress.
	var coll *swarm.Status
	u.query(func() {
		for _, st := range u.items.list(kindDownload) {
			if st.Files != nil {
				coll = &st
				u.showFiles(st)
				break
			}
		}
	})
	if coll != nil {
		err := u.capture(dir, "download-files")
		u.query(func() {
			if u.files != nil {
				u.files.dlg.Hide()
			}
		})
		if err != nil {
			return err
		}
	}
	setCompact := func(on bool) {
		u.query(func() {
			u.shares.view.compact.SetChecked(on)
			u.downloads.view.compact.SetChecked(on)
		})
	}
	setCompact(true)
	defer setCompact(false)
	for _, name := range []string{ScreenShare, ScreenDownload} {
		u.query(func() { u.selectScreen(name) })
		if err := u.capture(dir, name+"-compact"); err != nil {
			return err
		}
	}
	return nil
}

// capture waits for the window to paint and writes it to dir/name.png.
func (u *UI) capture(dir, name string) error {
	if !u.sleep(captureSettle) {
		return u.ctx.Err()
	}
	var shot image.Image
	fyne.DoAndWait(func() {
		shot = u.win.Canvas().Capture()
		if colours(shot, 2) < 2 {
			// Some GL stacks (Mesa's software rasterizer under Xvfb) give
			// an empty front buffer: paint the same objects in software.
			shot = u.renderSoftware()
		}
	})
	if shot == nil {
		return fmt.Errorf("screenshot %s: the window gave no image", name)
	}
	path := filepath.Join(dir, name+".png")
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", name, err)
	}
	if err := png.Encode(f, shot); err != nil {
		f.Close()
		return fmt.Errorf("screenshot %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("screenshot %s: %w", name, err)
	}
	u.log.Info("gui: screenshot written", "path", path)
	return nil
}

// query runs fn on the UI thread and waits for it.
func (u *UI) query(fn func()) {
	fyne.DoAndWait(func() {
		uiThread.Lock()
		defer uiThread.Unlock()
		fn()
	})
}

// torState reads the status area's state.
func (u *UI) torState() string {
	var s string
	u.query(func() { s = u.tor.state })
	return s
}

// waitFor polls cond on the UI thread until it holds or the timeout passes.
func (u *UI) waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var ok bool
		u.query(func() { ok = cond() })
		if ok {
			return true
		}
		if !u.sleep(200 * time.Millisecond) {
			return false
		}
	}
	return false
}

// sleep waits d unless the app stops first.
func (u *UI) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-u.ctx.Done():
		return false
	}
}

// renderSoftware paints the window's content and overlays (dialogs) with
// Fyne's software painter. UI thread only: it lends the objects to an
// off-screen canvas for the time of one paint and gives them back.
func (u *UI) renderSoftware() image.Image {
	c := u.win.Canvas()
	content, size := c.Content(), c.Size()
	overlays := c.Overlays().List()
	sc := software.NewCanvas()
	sc.SetPadded(u.win.Padded())
	sc.SetContent(content)
	for _, o := range overlays {
		c.Overlays().Remove(o)
		sc.Overlays().Add(o)
	}
	sc.Resize(size)
	img := sc.Capture()
	for _, o := range overlays {
		sc.Overlays().Remove(o)
	}
	u.win.SetContent(content)
	for _, o := range overlays {
		c.Overlays().Add(o)
	}
	return img
}

// colours counts the distinct colours of img, stopping at limit.
func colours(img image.Image, limit int) int {
	if img == nil {
		return 0
	}
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}
