package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/testnet"
)

// This file holds what the command tests share: a private Tor network with
// hydre environments on it, output a test reads while a command writes it,
// and waits for the lines a command prints.

// testnetGlobals starts a private Tor network, closed when the test ends,
// and returns it with a maker of hydre environments on it: each with its
// own data folder, its output and errors captured, its logs discarded.
func testnetGlobals(ctx context.Context, t *testing.T) (*testnet.Network, func() (*globals, *syncBuffer, *syncBuffer)) {
	t.Helper()
	nw, err := testnet.Start(ctx, testnet.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close() })
	return nw, func() (*globals, *syncBuffer, *syncBuffer) {
		out, errb := &syncBuffer{}, &syncBuffer{}
		return &globals{DataDir: t.TempDir(), Testnet: nw.Dir(), Logger: slog.New(slog.DiscardHandler), Stdout: out, Stderr: errb}, out, errb
	}
}

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitLine waits for a line of out starting with prefix.
func waitLine(t *testing.T, out, errb *syncBuffer, prefix string, exited <-chan error) string {
	t.Helper()
	return waitNthLine(t, out, errb, prefix, 1, exited)
}

// waitNthLine waits for the nth line of out starting with prefix.
func waitNthLine(t *testing.T, out, errb *syncBuffer, prefix string, nth int, exited <-chan error) string {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		n := 0
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, prefix) {
				if n++; n == nth {
					return l
				}
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("command exited: %v\n%s", err, errb.String())
		default:
		}
	}
	t.Fatalf("no line starting with %q: %s %s", prefix, out.String(), errb.String())
	return ""
}

// hydreIn returns a function that runs the hydre command line on the node
// in home, with its output, its errors and its exit code.
func hydreIn(home string) func(args ...string) (string, string, int) {
	return func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(append([]string{"--data-dir", home}, args...), &out, &errb)
		return out.String(), errb.String(), code
	}
}

// getFrom asks the stream address u for its bytes from offset from on (a
// Range request), and returns the response, its body read and closed, and
// the error of reading it; it fails the test when the request fails.
func getFrom(ctx context.Context, t *testing.T, u string, from int) (*http.Response, []byte, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-", from))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body, err
}
