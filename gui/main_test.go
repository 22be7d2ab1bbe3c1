package gui

import (
	"os"
	"testing"

	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

// TestMain fails any test whose code logs through the global slog logger.
// With desktopAppEnv set, the binary runs the real desktop app instead
// (on the main thread, as GLFW wants): see TestTrayAndNotification.
func TestMain(m *testing.M) {
	if dir := os.Getenv(desktopAppEnv); dir != "" {
		os.Exit(runDesktopApp(dir))
	}
	testkit.Main(m)
}
