package gui

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
	"github.com/hydre-p2p/hydre/swarm/stream/streamtest"
)

// desktopAppEnv, set to a folder, makes the test binary run the real
// desktop app (Fyne's GLFW driver, on the process's main thread) instead
// of the tests (TestMain): TestTrayAndNotification starts it so.
const desktopAppEnv = "HYDRE_TEST_DESKTOP_APP"

// runDesktopApp opens the desktop app over an in-memory network, with a
// download of a file another engine of that network shares. It prints
// "done" when the download completed, then reconnects (tor and the engine
// start again and list the finished download anew) and prints "settled"
// once connected again. It returns when the app quits.
func runDesktopApp(dir string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "desktop app:", err); return 1 }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := memnet.New()
	sharer, err := swarm.Open(ctx, swarm.Config{DataDir: filepath.Join(dir, "sharer"), Transport: net.Node("sharer"), Logger: log})
	if err != nil {
		return fail(err)
	}
	defer sharer.Close()
	file := filepath.Join(dir, "holiday.mkv")
	data := make([]byte, 300<<10)
	rand.Read(data)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return fail(err)
	}
	st, err := sharer.Share(ctx, file, swarm.ShareOptions{})
	if err != nil {
		return fail(err)
	}
	appDir := filepath.Join(dir, "app")
	s := DefaultSettings()
	s.DownloadDir = filepath.Join(dir, "downloads")
	if err := SaveSettings(appDir, s); err != nil {
		return fail(err)
	}
	u, err := New(ctx, Options{DataDir: appDir, Logger: log, Get: []string{st.Link},
		Start: func(ctx context.Context, s Settings, _ func(Progress)) (*swarm.Engine, func(), error) {
			e, err := swarm.Open(ctx, swarm.Config{DataDir: filepath.Join(appDir, "swarm"), Transport: net.Node("app"),
				Logger: log, DownloadDir: s.DownloadDir, Reshare: s.Reshare})
			if err != nil {
				return nil, nil, err
			}
			return e, func() { e.Close() }, nil
		}})
	if err != nil {
		return fail(err)
	}
	defer u.Close()
	done := func() bool {
		l := u.items.list(kindDownload)
		return u.tor.state == "connected" && len(l) == 1 && l[0].Done()
	}
	u.goOwned(func() {
		if !u.waitFor(time.Minute, done) {
			fmt.Println("download did not finish")
			return
		}
		fmt.Println("done")
		u.query(u.reconnect)
		if !u.waitFor(10*time.Second, func() bool { return u.tor.state != "connected" }) {
			fmt.Println("reconnect did not start")
			return
		}
		if !u.waitFor(time.Minute, done) {
			fmt.Println("reconnect did not finish")
			return
		}
		fmt.Println("settled")
	})
	u.win.ShowAndRun()
	return 0
}

// notification is one call of org.freedesktop.Notifications.Notify.
type notification struct{ App, Summary, Body string }

// notificationDaemon is a desktop notification server on a test's bus.
type notificationDaemon struct {
	mu  sync.Mutex
	got []notification
	ch  chan notification
}

func (d *notificationDaemon) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := notification{app, summary, body}
	d.got = append(d.got, n)
	select {
	case d.ch <- n:
	default:
	}
	return uint32(len(d.got)), nil
}

func (d *notificationDaemon) GetCapabilities() ([]string, *dbus.Error) { return []string{"body"}, nil }

func (d *notificationDaemon) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "hydre-test", "hydre", "1", "1.2", nil
}

func (d *notificationDaemon) CloseNotification(uint32) *dbus.Error { return nil }

// trayWatcherService is a StatusNotifierWatcher on a test's bus: it
// records who registers which item.
type trayWatcherService struct{ ch chan [2]string }

func (w *trayWatcherService) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	w.ch <- [2]string{string(sender), service}
	return nil
}

func (w *trayWatcherService) RegisterStatusNotifierHost(dbus.Sender, string) *dbus.Error { return nil }

// own connects to the bus at addr, takes name and exports v at path under
// iface.
func own(t *testing.T, addr, name, path, iface string, v any) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Export(v, dbus.ObjectPath(path), iface); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v %v", name, reply, err)
	}
	return conn
}

// menuItem is one entry of a dbusmenu layout.
type menuItem struct {
	ID    int32
	Label string
}

// menuItems flattens a com.canonical.dbusmenu layout, (ia{sv}av).
func menuItems(layout []any) []menuItem {
	var out []menuItem
	if len(layout) != 3 {
		return nil
	}
	id, _ := layout[0].(int32)
	props, _ := layout[1].(map[string]dbus.Variant)
	if l, ok := props["label"]; ok {
		label, _ := l.Value().(string)
		out = append(out, menuItem{id, label})
	}
	children, _ := layout[2].([]dbus.Variant)
	for _, c := range children {
		if sub, ok := c.Value().([]any); ok {
			out = append(out, menuItems(sub)...)
		}
	}
	return out
}

// TestTrayAndNotification runs the real desktop app (Fyne's GLFW driver
// under Xvfb) on a D-Bus session bus of the test's own, where the test
// provides the StatusNotifierWatcher and the notification daemon a desktop
// would. The app's tray item registers with the watcher and its menu,
// read over D-Bus as a tray would, holds Show hydre, Pause all downloads,
// Resume all downloads and Quit; the finished download sends exactly one
// notification, through a reconnection that lists it again; Quit in that
// menu, clicked over D-Bus, ends the app.
func TestTrayAndNotification(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Xvfb, a D-Bus daemon and the desktop app")
	}
	addr := startSessionBus(t)
	watcher := &trayWatcherService{ch: make(chan [2]string, 4)}
	own(t, addr, trayWatcher, "/StatusNotifierWatcher", trayWatcher, watcher)
	daemon := &notificationDaemon{ch: make(chan notification, 4)}
	own(t, addr, "org.freedesktop.Notifications", "/org/freedesktop/Notifications", "org.freedesktop.Notifications", daemon)
	streamtest.HeadlessScreen(t, "1280x800x24")

	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), desktopAppEnv+"="+dir, "DBUS_SESSION_BUS_ADDRESS="+addr, "HOME="+dir,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	cmd.Stderr = logWriter{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})
	wait := func(what string, d time.Duration) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the app ended while waiting for %s: %v", what, <-exited)
			}
			return l
		case <-time.After(d):
			t.Fatalf("no %s after %v", what, d)
		}
		return ""
	}

	var reg [2]string
	select {
	case reg = <-watcher.ch:
	case <-time.After(time.Minute):
		t.Fatal("the tray item did not register with the StatusNotifierWatcher")
	}
	if reg[1] != "/StatusNotifierItem" {
		t.Errorf("registered item %q, want /StatusNotifierItem", reg[1])
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	item := conn.Object(reg[0], dbus.ObjectPath(reg[1]))
	menuPath, err := item.GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		t.Fatalf("tray item's menu: %v", err)
	}
	if title, err := item.GetProperty("org.kde.StatusNotifierItem.Title"); err != nil || title.Value() == "" {
		t.Errorf("tray item's title %v (%v)", title, err)
	}
	menu := conn.Object(reg[0], menuPath.Value().(dbus.ObjectPath))
	want := []string{"Show hydre", "Pause all downloads", "Resume all downloads", "Quit"}
	var items []menuItem
	labels := func() []string {
		var l []string
		for _, it := range items {
			l = append(l, it.Label)
		}
		return l
	}
	for deadline := time.Now().Add(time.Minute); ; {
		var rev uint32
		var layout []any
		call := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{})
		if call.Err == nil && len(call.Body) == 2 {
			rev, _ = call.Body[0].(uint32)
			layout, _ = call.Body[1].([]any)
		}
		items = menuItems(layout)
		if slices.Equal(labels(), want) {
			t.Logf("tray menu (revision %d): %q", rev, labels())
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tray menu %q (%v), want %q", labels(), call.Err, want)
		}
		time.Sleep(50 * time.Millisecond) // poll: the menu is filled after the item registers
	}

	if l := wait("a finished download", 2*time.Minute); l != "done" {
		t.Fatalf("the app says %q", l)
	}
	select {
	case n := <-daemon.ch:
		wantBody := "holiday.mkv is in " + filepath.Join(dir, "downloads", "holiday.mkv")
		if n.App != AppID || n.Summary != "Download complete" || n.Body != wantBody {
			t.Errorf("notification %+v, want app %s, summary \"Download complete\", body %q", n, AppID, wantBody)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no notification for the finished download")
	}
	if l := wait("the reconnection", 2*time.Minute); l != "settled" {
		t.Fatalf("the app says %q", l)
	}

	var quit int32 = -1
	for _, it := range items {
		if it.Label == "Quit" {
			quit = it.ID
		}
	}
	if err := menu.Call("com.canonical.dbusmenu.Event", 0, quit, "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
		t.Fatalf("click Quit: %v", err)
	}
	for range lines {
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the app ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Quit in the tray menu did not end the app")
	}
	daemon.mu.Lock()
	defer daemon.mu.Unlock()
	if len(daemon.got) != 1 {
		t.Errorf("%d notifications, want exactly 1: %+v", len(daemon.got), daemon.got)
	}
}

// logWriter writes a child process's output to the test's log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = logWriter{}
