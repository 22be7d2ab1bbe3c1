package gui

import (
	"context"
	"os"
	"time"

	"github.com/godbus/dbus/v5"
)

// trayWatcher is the D-Bus name of the desktop's StatusNotifierWatcher,
// through which Fyne's system tray icon appears.
const trayWatcher = "org.kde.StatusNotifierWatcher"

// trayAvailable reports whether a system tray icon would be shown: a D-Bus
// session bus must answer a ping and a StatusNotifierWatcher must own its
// name. Without one, closing the window quits instead of hiding it, so the
// app is never left running with no way back to it.
func trayAvailable(ctx context.Context) bool {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(ctx))
	if err != nil {
		return false
	}
	defer conn.Close()
	bus := conn.BusObject()
	if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.Peer.Ping", 0).Err; err != nil {
		return false
	}
	var has bool
	if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, trayWatcher).Store(&has); err != nil {
		return false
	}
	return has
}
