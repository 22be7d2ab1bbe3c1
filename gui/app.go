package gui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// uiThread stands for Fyne's one UI thread: the UI work of every window
// of the process holds it. On the desktop fyne.Do already runs everything
// on that thread and the lock is never contended; Fyne's test driver runs
// fyne.Do in place, on the caller's goroutine, and the lock keeps the
// windows of a test from touching Fyne's shared caches at once.
var uiThread sync.Mutex

// AppID is the application ID, as in FyneApp.toml.
const AppID = "org.hydre_p2p.hydre"

// Screen names, for Options.Screen and the screenshots.
const (
	ScreenShare    = "share"
	ScreenDownload = "download"
	ScreenBridge   = "bridge"
	ScreenSettings = "settings"
)

// Progress is one step of Tor's bootstrap, as the status area shows it.
type Progress struct {
	Percent int
	Summary string
	// Warning is Tor's last complaint while stuck at this step, if any.
	Warning string
	// Stuck says the bootstrap has stood still for a while (30 s); with
	// CannotReach, tor has not reached a single relay: it cannot reach
	// the Tor network (offline, or Tor is blocked).
	Stuck, CannotReach bool
}

// StartFunc starts Tor with the connection settings of s, reports its
// bootstrap through progress (from any goroutine), then opens the engine over
// it with the engine settings of s. stop closes both. The app calls it off
// the UI thread, again after a failure (Retry) or a change of connection
// settings (Reconnect).
type StartFunc func(ctx context.Context, s Settings, progress func(Progress)) (e *swarm.Engine, stop func(), err error)

// StreamFunc returns the local web address where a content plays while it
// downloads (the streaming server of the command line).
type StreamFunc func(ctx context.Context, e *swarm.Engine, id hcrypto.ContentID) (string, error)

// Options configure the app.
type Options struct {
	// App is the Fyne app; nil creates the desktop one. Tests pass
	// fyne.io/fyne/v2/test's.
	App fyne.App
	// DataDir holds the settings file.
	DataDir string
	// Logger receives the app's logs; nil discards them.
	Logger *slog.Logger
	// Start connects to Tor and opens the engine (required).
	Start StartFunc
	// Stream backs the Play button; nil hides it.
	Stream StreamFunc
	// Bridge backs the Bridge screen; nil hides it.
	Bridge Bridge
	// CheckBridge says what is wrong with a custom Tor bridge line, if
	// anything (Settings refuses to save such a line); nil checks only
	// that each is one line.
	CheckBridge func(line string) error
	// Network names the Tor network when it is not the real one (shown in
	// the status area), e.g. "private test network".
	Network string
	// Share and Get are files to share and links to download once the
	// engine is up (command-line arguments, a hydre: link opened from the
	// desktop).
	Share, Get []string
	// Screen is the screen shown first: ScreenShare (default),
	// ScreenDownload, ScreenBridge, ScreenHistory or ScreenSettings.
	Screen string
	// Screenshots, if set, is a directory: the app captures each screen to
	// a PNG there once the engine is up and Share/Get have started, then
	// quits (used by scripts/screenshots.sh).
	Screenshots string
}

// UI is one window of the app over one engine.
type UI struct {
	opt Options
	log *slog.Logger
	app fyne.App
	win fyne.Window

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // goroutines the UI started
	// viewSave serialises the writes of list-view choices, each of which
	// writes the settings as they are when its turn comes.
	viewSave sync.Mutex

	mu       sync.Mutex // guards the fields below
	engine   *swarm.Engine
	stop     func()
	loopDone chan struct{} // closed when the current event loop returns
	loopQuit chan struct{} // closed to end the current event loop
	// attemptCancel cancels the connection attempt under way;
	// attemptDone is closed when it has returned.
	attemptCancel context.CancelFunc
	attemptDone   chan struct{}
	settings      Settings
	settingsBad   bool // the settings file did not load: not written until Save
	started       bool // Share/Get of Options were run

	// UI thread only.
	items      *itemStore
	tor        *torPanel
	shares     *shareScreen
	files      *filesDialog // the open list of a collection's files, if any
	downloads  *downloadScreen
	bridge     *bridgeScreen
	prefs      *settingsScreen
	history    *historyScreen
	tabs       *container.AppTabs
	tabByName  map[string]*container.TabItem
	lastError  string // the last error shown, for tests
	captureErr error  // the screenshot run's outcome (guarded by mu)
	tray       bool
}

// New builds the app's window and starts connecting in the background. Call
// Close when done. Run is New plus the desktop event loop.
func New(ctx context.Context, opt Options) (*UI, error) {
	if opt.Start == nil {
		return nil, errors.New("gui: Options.Start is required")
	}
	if opt.DataDir == "" {
		return nil, errors.New("gui: Options.DataDir is required")
	}
	u := &UI{opt: opt, log: opt.Logger, app: opt.App}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	if u.app == nil {
		u.app = app.NewWithID(AppID)
	}
	u.ctx, u.cancel = context.WithCancel(ctx)
	tray := trayAvailable(u.ctx)
	uiThread.Lock()
	defer uiThread.Unlock()
	s, loadErr := LoadSettings(opt.DataDir)
	u.settings, u.settingsBad = s, loadErr != nil
	u.app.Settings().SetTheme(themeFor(s.Theme))
	u.app.SetIcon(iconResource)

	u.win = u.app.NewWindow("hydre")
	u.win.SetIcon(iconResource)
	size := fyne.NewSize(defaultWindowWidth, defaultWindowHeight)
	if s.Window.usable() {
		size = fyne.NewSize(s.Window.Width, s.Window.Height)
	}
	u.win.Resize(size)
	u.items = newItemStore()
	u.build()
	u.win.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) { u.dropped(uris) })
	u.setupKeys()
	if tray {
		u.setupTray()
	}
	if loadErr != nil {
		u.showError("read your settings", fmt.Errorf("%w; defaults are used until you save", loadErr))
	}
	u.connect()
	u.goOwned(u.listenInstance)
	if s.BridgeMode && opt.Bridge != nil {
		u.goOwned(func() {
			if err := opt.Bridge.SetEnabled(u.ctx, true); err != nil {
				u.do(func() { u.showError("turn bridge mode on", err) })
			}
		})
	}
	if opt.Screenshots != "" {
		u.goOwned(func() { u.captureScreens(opt.Screenshots) })
	}
	return u, nil
}

// Run opens the app and returns when it quits or ctx ends.
func Run(ctx context.Context, opt Options) error {
	u, err := New(ctx, opt)
	if err != nil {
		return err
	}
	defer u.Close()
	running := make(chan struct{})
	u.goOwned(func() {
		select {
		case <-ctx.Done(): // interrupted: quit the desktop loop
			fyne.Do(u.app.Quit)
		case <-running:
		}
	})
	u.win.ShowAndRun()
	close(running)
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.captureErr
}

// Window returns the app's main window.
func (u *UI) Window() fyne.Window { return u.win }

// Close remembers the window's size, stops the engine and Tor and waits
// for the app's goroutines.
func (u *UI) Close() {
	u.saveWindowSize()
	u.cancel()
	u.disconnect()
	u.wg.Wait()
}

// Default size of the main window, when none is remembered.
const defaultWindowWidth, defaultWindowHeight = 900, 640

// saveWindowSize keeps the window's size in the settings file, unless the
// file did not load (its damaged content stays for the person to see until
// they save) or the size did not change.
func (u *UI) saveWindowSize() {
	// Close runs after the desktop loop has returned (fyne.Do would wait
	// for it forever), or from a test: the lock stands for the UI thread.
	uiThread.Lock()
	size := u.win.Canvas().Size()
	uiThread.Unlock()
	w := WindowSize{Width: size.Width, Height: size.Height}
	u.mu.Lock()
	s, bad := u.settings, u.settingsBad
	u.mu.Unlock()
	if bad || !w.usable() || s.Window == w {
		return
	}
	s.Window = w
	if err := u.saveSettings(s); err != nil {
		u.log.Warn("gui: remember the window size", "err", err)
	}
}

// goOwned runs fn in a goroutine that Close waits for. A panic in it (a
// bug) is logged and shown instead of taking the app and its shares down.
func (u *UI) goOwned(fn func()) {
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				u.log.Error("gui: internal error", "panic", r, "stack", string(debug.Stack()))
				err := fmt.Errorf("hydre hit an internal error (%v); please report it", r)
				u.do(func() { u.showError("finish this action", err) })
			}
		}()
		fn()
	}()
}

// do runs fn on the UI thread.
func (u *UI) do(fn func()) {
	fyne.Do(func() {
		uiThread.Lock()
		defer uiThread.Unlock()
		fn()
	})
}

// build lays the window out: the Tor status area above the screens.
func (u *UI) build() {
	u.tor = newTorPanel(u)
	u.shares = newShareScreen(u)
	u.downloads = newDownloadScreen(u)
	u.prefs = newSettingsScreen(u)
	u.history = newHistoryScreen(u)
	u.tabByName = map[string]*container.TabItem{
		ScreenShare:    container.NewTabItem("Share", u.shares.content),
		ScreenDownload: container.NewTabItem("Download", u.downloads.content),
		ScreenSettings: container.NewTabItem("Settings", u.prefs.content),
	}
	u.tabs = container.NewAppTabs(u.tabByName[ScreenShare], u.tabByName[ScreenDownload])
	if u.opt.Bridge != nil {
		u.bridge = newBridgeScreen(u)
		u.tabByName[ScreenBridge] = container.NewTabItem("BitTorrent", u.bridge.content)
		u.tabs.Append(u.tabByName[ScreenBridge])
	}
	u.tabByName[ScreenHistory] = container.NewTabItem("History", u.history.content)
	u.tabs.Append(u.tabByName[ScreenHistory])
	u.tabs.Append(u.tabByName[ScreenSettings])
	u.tabs.OnSelected = func(t *container.TabItem) {
		u.win.Canvas().Unfocus()
		if t == u.tabByName[ScreenHistory] {
			u.history.refresh()
		}
	}
	u.selectScreen(u.opt.Screen)
	u.win.SetContent(container.NewBorder(u.tor.content, nil, nil, nil, u.tabs))
}

// selectScreen shows the named screen; an unknown name keeps the current one.
func (u *UI) selectScreen(name string) {
	if t, ok := u.tabByName[name]; ok {
		u.tabs.Select(t)
	}
}

// currentEngine returns the running engine, or nil while connecting.
func (u *UI) currentEngine() *swarm.Engine {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.engine
}

// currentSettings returns the settings in force.
func (u *UI) currentSettings() Settings {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.settings
}

// withEngine runs fn off the UI thread with the engine; an error is shown
// as "Could not <what>". Without an engine (still connecting, or failed) it
// says so at once.
func (u *UI) withEngine(what string, fn func(ctx context.Context, e *swarm.Engine) error) {
	e := u.currentEngine()
	if e == nil {
		u.showError(what, errors.New("hydre is not connected to Tor yet: wait for the status bar above, or open Settings > Connection"))
		return
	}
	u.goOwned(func() {
		if err := fn(u.ctx, e); err != nil {
			u.log.Warn("gui action failed", "action", what, "err", err)
			u.do(func() { u.showError(what, err) })
		}
	})
}

// showError tells the person, in plain words, that something failed. UI
// thread only.
func (u *UI) showError(what string, err error) {
	msg := plainError(err)
	u.lastError = "Could not " + what + ": " + msg
	d := dialog.NewInformation("Could not "+what, msg, u.win)
	d.Show()
}

// dropped shares the files dropped onto the window.
func (u *UI) dropped(uris []fyne.URI) {
	var paths []string
	for _, uri := range uris {
		if uri.Scheme() == "file" {
			paths = append(paths, uri.Path())
		}
	}
	if len(paths) == 0 {
		u.showError("share", errors.New("only files from this computer can be shared"))
		return
	}
	u.selectScreen(ScreenShare)
	u.shares.share(paths)
}

// openFolder shows the folder holding path in the file manager.
func (u *UI) openFolder(path string) {
	dir := filepath.Dir(path)
	if err := u.app.OpenURL(&url.URL{Scheme: "file", Path: dir}); err != nil {
		u.showError("open the folder", err)
	}
}

// setupKeys binds the keyboard: paste a link anywhere, Delete on a
// selected row. The desktop driver turns Ctrl+V (and Shift+Insert) into
// fyne.ShortcutPaste, which reaches the window when no text box has the
// focus; Delete reaches the window with nothing focused, and a focused
// list otherwise (keyList).
func (u *UI) setupKeys() {
	c := u.win.Canvas()
	c.AddShortcut(&fyne.ShortcutPaste{}, func(sc fyne.Shortcut) {
		cb := u.app.Clipboard()
		if p, ok := sc.(*fyne.ShortcutPaste); ok && p.Clipboard != nil {
			cb = p.Clipboard
		}
		u.pasteLink(cb.Content())
	})
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if ev.Name == fyne.KeyDelete {
			u.deleteSelected()
		}
	})
}

// deleteSelected removes the selected download, or stops sharing the
// selected share, after asking (the Delete key).
func (u *UI) deleteSelected() {
	switch u.tabs.Selected() {
	case u.tabByName[ScreenDownload]:
		u.downloads.deleteSelected()
	case u.tabByName[ScreenShare]:
		u.shares.deleteSelected()
	}
}

// pasteLink starts a download of a pasted link.
func (u *UI) pasteLink(text string) {
	u.selectScreen(ScreenDownload)
	u.downloads.entry.SetText(text)
	u.downloads.submit()
}

// setupTray adds the system tray icon when the desktop shows one; closing
// the window then hides it and the node keeps serving.
func (u *UI) setupTray() {
	d, ok := u.app.(desktop.App)
	if !ok {
		return
	}
	u.tray = true
	d.SetSystemTrayIcon(iconResource)
	d.SetSystemTrayMenu(fyne.NewMenu("hydre",
		fyne.NewMenuItem("Show hydre", func() { u.win.Show(); u.win.RequestFocus() }),
		fyne.NewMenuItem("Pause all downloads", u.pauseAll),
		fyne.NewMenuItem("Resume all downloads", u.resumeAll),
	))
	d.SetSystemTrayWindow(u.win)
	u.win.SetCloseIntercept(u.win.Hide)
}

// pauseAll pauses every running download.
func (u *UI) pauseAll() { u.forAllDownloads("pause the downloads", (*swarm.Engine).Pause, false) }

// resumeAll resumes every paused download.
func (u *UI) resumeAll() { u.forAllDownloads("resume the downloads", (*swarm.Engine).Resume, true) }

func (u *UI) forAllDownloads(what string, op func(*swarm.Engine, hcrypto.ContentID) error, paused bool) {
	var ids []hcrypto.ContentID
	for _, st := range u.items.list(kindDownload) {
		if (st.State == swarm.StatePaused) == paused && !st.Done() {
			ids = append(ids, st.ID)
		}
	}
	u.withEngine(what, func(ctx context.Context, e *swarm.Engine) error {
		var errs []error
		for _, id := range ids {
			if err := op(e, id); err != nil && !errors.Is(err, swarm.ErrNotFound) {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
}

// iconWidget is the app's icon as a small image for headers.
func iconWidget() fyne.CanvasObject {
	return widget.NewIcon(iconResource)
}
