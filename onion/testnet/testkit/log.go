package testkit

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
)

// Logger returns a logger that writes through tb.Log at Info level, or at
// the level $HYDRE_TEST_LOG names (debug, info, warn, error; any other
// non-empty value means debug).
func Logger(tb testing.TB) *slog.Logger { return LoggerAt(tb, slog.LevelInfo) }

// LoggerAt is Logger with another default level, for code that is chatty
// at Info (a tor, an engine under load). $HYDRE_TEST_LOG still wins.
//
// Lines logged after the test has ended (by a goroutine its cleanup did not
// wait for) go to stderr with the test's name, since tb.Log would panic.
func LoggerAt(tb testing.TB, level slog.Level) *slog.Logger {
	if env := os.Getenv("HYDRE_TEST_LOG"); env != "" {
		if err := level.UnmarshalText([]byte(env)); err != nil {
			level = slog.LevelDebug
		}
	}
	w := &tbWriter{tb: tb}
	tb.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// tbWriter hands each line slog writes to tb.Log while the test runs.
type tbWriter struct {
	tb   testing.TB
	mu   sync.Mutex
	done bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		fmt.Fprintf(os.Stderr, "%s (logged after the test ended): %s\n", w.tb.Name(), line)
		return len(p), nil
	}
	w.tb.Log(line)
	return len(p), nil
}

// guardGlobal makes any record logged through slog's default logger panic,
// naming the record: code under test takes its *slog.Logger from its
// configuration, and a test cannot tell which of its goroutines wrote to
// the global one. The standard log package keeps writing to stderr.
func guardGlobal() {
	slog.SetDefault(slog.New(globalGuard{}))
	// SetDefault also routes package log through the handler; third-party
	// code (Fyne, net/http) logs there, so give it back its own output.
	log.SetOutput(os.Stderr)
	log.SetFlags(log.LstdFlags)
}

type globalGuard struct{}

func (globalGuard) Enabled(context.Context, slog.Level) bool { return true }
func (globalGuard) WithAttrs([]slog.Attr) slog.Handler       { return globalGuard{} }
func (globalGuard) WithGroup(string) slog.Handler            { return globalGuard{} }

func (globalGuard) Handle(_ context.Context, r slog.Record) error {
	panic(fmt.Sprintf("testkit: %q logged through the global slog logger: pass a *slog.Logger in the configuration", r.Message))
}
