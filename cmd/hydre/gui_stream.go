package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// guiStreamer backs the app's Play button: a web server on 127.0.0.1 that
// serves each content, read through the engine's Open (reads wait for
// verified bytes and steer the piece picker), at an address with a random
// token, with Range requests for seeking. It refuses any Host header but
// its own address (DNS rebinding) and any unknown token.
type guiStreamer struct {
	log *slog.Logger

	mu     sync.Mutex
	srv    *http.Server
	addr   string // "127.0.0.1:port" once started
	byTok  map[string]streamItem
	served sync.WaitGroup
}

type streamItem struct {
	e  *swarm.Engine
	id hcrypto.ContentID
}

func newGUIStreamer(log *slog.Logger) *guiStreamer {
	return &guiStreamer{log: log, byTok: map[string]streamItem{}}
}

// URL returns the address where id plays, starting the server on first use.
func (s *guiStreamer) URL(ctx context.Context, e *swarm.Engine, id hcrypto.ContentID) (string, error) {
	st, err := e.Status(id)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("start the player server: %w", err)
		}
		s.addr = ln.Addr().String()
		s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
		s.served.Add(1)
		go func() {
			defer s.served.Done()
			if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Warn("player server stopped", "err", err)
			}
		}()
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("player token: %w", err)
	}
	tok := hex.EncodeToString(b[:])
	s.byTok[tok] = streamItem{e: e, id: id}
	name := st.Name
	if name == "" {
		name = "stream"
	}
	return "http://" + s.addr + "/" + tok + "/" + url.PathEscape(name), nil
}

// ServeHTTP serves one content with Range support.
func (s *guiStreamer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	addr := s.addr
	tok, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	it, ok := s.byTok[tok]
	s.mu.Unlock()
	if r.Host != addr {
		http.Error(w, "wrong host", http.StatusMisdirectedRequest)
		return
	}
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	f, err := it.e.Open(r.Context(), it.id)
	if err != nil {
		http.Error(w, "content not available", http.StatusServiceUnavailable)
		return
	}
	defer f.Close()
	if mt := f.MediaType(); mt != "" {
		w.Header().Set("Content-Type", mt)
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": f.Name()}))
	http.ServeContent(w, r, f.Name(), time.Time{}, f)
}

// Close stops the server.
func (s *guiStreamer) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = srv.Close()
	}
	s.served.Wait()
	return err
}
