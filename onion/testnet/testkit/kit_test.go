package testkit

import (
	"bytes"
	"log"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// TestGlobalLoggerPanics checks the guard Main installs: a record through
// slog's default logger panics with its message, package log does not.
func TestGlobalLoggerPanics(t *testing.T) {
	defer func() {
		r := recover()
		if msg, _ := r.(string); !strings.Contains(msg, `"through the global"`) {
			t.Fatalf("recovered %v, want the guard's panic", r)
		}
	}()
	log.Print("package log still writes to stderr")
	slog.Info("through the global")
	t.Fatal("slog.Info did not panic")
}

func TestPoll(t *testing.T) {
	n := 0
	if !Poll(time.Second, func() bool { n++; return n == 3 }) {
		t.Fatal("Poll gave up on a condition that held")
	}
	start := time.Now()
	if Poll(50*time.Millisecond, func() bool { return false }) {
		t.Fatal("Poll reported a condition that never held")
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("Poll gave up before its timeout")
	}
}

func TestRandomFile(t *testing.T) {
	dir := t.TempDir()
	_, a := RandomFile(t, dir, "a", 1000)
	_, b := RandomFile(t, dir, "b", 1000)
	_, c := RandomFile(t, dir, "c", 1001)
	if !bytes.Equal(a, b) {
		t.Error("two files of one size differ")
	}
	if bytes.Equal(a, c[:1000]) {
		t.Error("files of different sizes share their start")
	}
	p := dir + "/p"
	if WritePayload(t, p, 1<<20, 3) != FileSHA(t, p) {
		t.Error("WritePayload's sum is not the file's")
	}
}
