package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/swarm"
	"github.com/hydre-p2p/hydre/swarm/stream"
)

// TestGUIPlayer checks the Play button's server: a range near the end is
// served before the download gets there, the whole file matches, and a
// wrong token or a foreign Host is refused; a new engine gets a new server;
// a playlist is refused.
func TestGUIPlayer(t *testing.T) {
	ctx := context.Background()
	net := memnet.New(memnet.WithBandwidth(1 << 20))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func(name string) *swarm.Engine {
		e, err := swarm.Open(ctx, swarm.Config{DataDir: t.TempDir(), Transport: net.Node(name), Logger: log, DownloadDir: t.TempDir(), Reshare: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	a, b := open("a"), open("b")
	want := make([]byte, 3<<20)
	rand.Read(want)
	src := filepath.Join(t.TempDir(), "film clip.webm")
	if err := os.WriteFile(src, want, 0o600); err != nil {
		t.Fatal(err)
	}
	sh, err := a.Share(ctx, src, swarm.ShareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.Get(ctx, sh.Link, "")
	if err != nil {
		t.Fatal(err)
	}

	for deadline := time.Now().Add(time.Minute); ; {
		now, err := b.Status(st.ID)
		if err != nil {
			t.Fatal(err)
		}
		if now.Name != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the download never learned its name")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := newGUIPlayer(ctx, log)
	defer s.Close()
	u, err := s.URL(ctx, b, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.HasSuffix(u, "/film%20clip.webm") {
		t.Fatalf("URL = %q", u)
	}
	get := func(url, rng, host string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		if host != "" {
			req.Host = host
		}
		c := http.Client{Timeout: time.Minute}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	// A seek to near the end is served before the download reaches it.
	end := len(want) - 1000
	resp, body := get(u, fmt.Sprintf("bytes=%d-", end), "")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want[end:]) {
		t.Fatalf("range: status %d, %d bytes, equal %v", resp.StatusCode, len(body), bytes.Equal(body, want[end:]))
	}
	resp, body = get(u, "", "")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
		t.Fatalf("whole: status %d, %d bytes", resp.StatusCode, len(body))
	}
	parts := strings.Split(u, "/") // http: "" host token name
	parts[3] = strings.Repeat("0", len(parts[3]))
	if resp, _ := get(strings.Join(parts, "/"), "", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("wrong token: status %d, want 404", resp.StatusCode)
	}
	if resp, _ := get(u, "", "evil.example:80"); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host: status %d, want 421", resp.StatusCode)
	}
	// The app restarted its engine: the old addresses stop, new ones serve.
	shA, err := a.Status(sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	u2, err := s.URL(ctx, a, shA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := get(u2, "bytes=0-9", ""); resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want[:10]) {
		t.Errorf("new engine: status %d, %q", resp.StatusCode, body)
	}
	if _, err := http.Get(u); err == nil {
		t.Error("the old engine's address still answers")
	}
	// A playlist named like a film is refused with the reason.
	hostile := filepath.Join(t.TempDir(), "movie.mp4")
	if err := os.WriteFile(hostile, []byte("#EXTM3U\nhttp://127.0.0.1:9/leak.mp4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hsh, err := a.Share(ctx, hostile, swarm.ShareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.URL(ctx, a, hsh.ID); !errors.Is(err, stream.ErrNotMedia) {
		t.Errorf("URL of a playlist: %v, want ErrNotMedia", err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	if _, err := s.URL(ctx, a, shA.ID); err == nil {
		t.Error("URL after Close did not fail")
	}
}
