package testnet

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
)

var shared struct {
	mu  sync.Mutex
	nw  *Network
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
func Shared(tb testing.TB, opts Options) *Network {
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
		shared.nw, shared.err = Start(ctx, opts)
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
// $CI is "true".
func SkipWithoutTor(tb testing.TB) {
	tb.Helper()
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
// one unless tweak, which may change any of the configuration, sets
// another. A tor that has not bootstrapped after two minutes is replaced
// once by a fresh one: in CI, where eight test packages start tors at once,
// one stayed at 95% for minutes.
func (nw *Network) StartTor(tb testing.TB, tweak func(*onion.Config)) *onion.Tor {
	tb.Helper()
	var err error
	for range 2 {
		var tor *onion.Tor
		if tor, err = nw.startTor(tb, tweak); err == nil {
			return tor
		}
		tb.Logf("tor did not start, trying a fresh one: %v", err)
	}
	tb.Fatal(err)
	return nil
}

func (nw *Network) startTor(tb testing.TB, tweak func(*onion.Config)) (*onion.Tor, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := nw.TorConfig(tb.TempDir())
	if tweak != nil {
		tweak(&cfg)
	}
	tor, err := onion.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start tor: %w", err)
	}
	if err := tor.Bootstrap(ctx, nil); err != nil {
		tor.Close()
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	tb.Cleanup(func() { tor.Close() })
	return tor, nil
}
