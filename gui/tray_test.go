package gui

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

func TestTrayAvailable(t *testing.T) {
	ctx := context.Background()
	t.Run("no session bus", func(t *testing.T) {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
		if trayAvailable(ctx) {
			t.Errorf("tray reported without a session bus")
		}
	})
	t.Run("bus that does not answer", func(t *testing.T) {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+t.TempDir()+"/nobody")
		if trayAvailable(ctx) {
			t.Errorf("tray reported for a bus nobody listens on")
		}
	})
	t.Run("private bus", func(t *testing.T) {
		addr := startSessionBus(t)
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
		if trayAvailable(ctx) {
			t.Fatalf("tray reported with no StatusNotifierWatcher on the bus")
		}
		conn, err := dbus.Connect(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		reply, err := conn.RequestName(trayWatcher, dbus.NameFlagDoNotQueue)
		if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("own %s: %v %v", trayWatcher, reply, err)
		}
		if !trayAvailable(ctx) {
			t.Errorf("tray not reported with a StatusNotifierWatcher on the bus")
		}
	})
}

// startSessionBus runs a private dbus-daemon for the test and returns its
// address.
func startSessionBus(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("dbus-daemon")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dbus-daemon is missing: %v", err)
		}
		t.Skip("dbus-daemon is not installed")
	}
	dir := t.TempDir()
	cmd := exec.Command(path, "--session", "--nofork", "--print-address=1", "--address=unix:path="+dir+"/bus")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon gave no address: %v", err)
	}
	return strings.TrimSpace(line)
}
