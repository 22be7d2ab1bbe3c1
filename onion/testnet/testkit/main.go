package testkit

import (
	"fmt"
	"os"
	"testing"
)

// Main runs the tests of a package: it installs the guard against the
// global slog logger, runs them, stops the network Shared started (if any)
// and exits with their status. A package's TestMain is one call:
//
//	func TestMain(m *testing.M) { testkit.Main(m) }
func Main(m *testing.M) {
	guardGlobal()
	code := m.Run()
	if err := CloseShared(); err != nil {
		fmt.Fprintln(os.Stderr, "testkit: close the test network:", err)
	}
	os.Exit(code)
}
