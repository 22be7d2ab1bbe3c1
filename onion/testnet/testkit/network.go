package testkit

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
)

var shared struct {
	mu  sync.Mutex
	nw  *testnet.Network
	err error
	dir string
}

// Shared returns the network of this test binary, starting it on first use
// (in a temporary directory; opts.Dir and opts.Detach are ignored). Later
// calls get the same network whatever their opts. Its tors die with the test
// process (Pdeathsig, __OwningControllerProcess); call CloseShared from
// TestMain to stop them earlier and remove the directory.
//
// Without a tor program the test is skipped, unless $CI is "true": there it
// fails, so a CI machine missing tor cannot pass silently.
func Shared(tb testing.TB, opts testnet.Options) *testnet.Network {
	tb.Helper()
	SkipWithoutTor(tb)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.nw == nil && shared.err == nil {
		dir, err := os.MkdirTemp("", "hydre-testnet-")
		if err != nil {
			tb.Fatalf("testnet: %v", err)
		}
		shared.dir = dir
		opts.Dir = dir
		opts.Detach = false
		if opts.Logger == nil {
			opts.Logger = slog.New(slog.DiscardHandler)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		shared.nw, shared.err = testnet.Start(ctx, opts)
		if shared.err == nil {
			tb.Logf("private tor network usable after %v (%s)", shared.nw.UsableAfter().Round(time.Millisecond), dir)
		}
	}
	if shared.err != nil {
		tb.Fatalf("testnet: %v", shared.err)
	}
	return shared.nw
}

// CloseShared stops the network Shared started, if any, and removes its
// directory. Call it from TestMain after m.Run.
func CloseShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	var err error
	if shared.nw != nil {
		err = shared.nw.Close()
		shared.nw = nil
	}
	if shared.dir != "" {
		if rmErr := os.RemoveAll(shared.dir); rmErr != nil && err == nil {
			err = rmErr
		}
		shared.dir = ""
	}
	shared.err = nil
	return err
}

// SkipWithoutTor skips tb when the tor program is missing, or fails it when
// $CI is "true". Under -short (make race) it skips: the Tor tests run once,
// in make unit, without the race detector.
func SkipWithoutTor(tb testing.TB) {
	tb.Helper()
	if testing.Short() { // make race: the Tor tests run in make unit
		tb.Skip("-short: no private Tor network")
	}
	if _, err := exec.LookPath("tor"); err == nil {
		return
	}
	msg := "tor is not installed (sudo apt-get install tor, or run scripts/deps.sh)"
	if os.Getenv("CI") == "true" {
		tb.Fatal(fmt.Sprintf("%s: required in CI", msg))
	}
	tb.Skip(msg)
}

// StartTor starts a managed tor that joins nw, waits for its bootstrap and
// closes it at the end of the test. Its data directory is a fresh temporary
// one and its logger LoggerAt(tb, slog.LevelWarn), unless a tweak (each may
// change any of the configuration) sets others. A tor that has not
// bootstrapped after two minutes fails the test: it is not replaced, since a
// stall there is a bug to find (see onion/testnet's TestMeasureBringUp).
func StartTor(tb testing.TB, nw *testnet.Network, tweaks ...func(*onion.Config)) *onion.Tor {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := nw.TorConfig(tb.TempDir())
	cfg.Logger = LoggerAt(tb, slog.LevelWarn)
	for _, tweak := range tweaks {
		tweak(&cfg)
	}
	tor, err := onion.Start(ctx, cfg)
	if err != nil {
		tb.Fatalf("start tor: %v", err)
	}
	tb.Cleanup(func() { tor.Close() })
	if err := tor.Bootstrap(ctx, nil); err != nil {
		tb.Fatalf("bootstrap: %v", err)
	}
	return tor
}
