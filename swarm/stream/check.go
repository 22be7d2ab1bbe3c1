package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Check tells whether what rawURL (an address URL or AddMedia returned)
// serves may go to a player: it reads the start of the content, waiting
// for its first bytes, and returns an error wrapping ErrNotMedia for a
// playlist or another reference format (see checkMedia), which the server
// then refuses to serve. Call it before starting a player, to show the
// user why nothing plays.
func (s *Server) Check(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host != s.addr {
		return errors.New("check: not an address of this server")
	}
	tok, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	e, h, ok := s.lookup(tok)
	if !ok {
		return errors.New("check: not an address of this server")
	}
	f, err := s.open(ctx, e)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	defer f.Close()
	_, err = s.check(h, f)
	return err
}

// check returns the verdict of checkMedia on f, just opened (at offset 0),
// served under the token whose hash is h, reading f's start unless an
// earlier verdict is known; it returns how far it read (f's position).
// It does not seek: a seek of a bridge stream costs a reconnection.
func (s *Server) check(h [32]byte, f Media) (int64, error) {
	s.mu.Lock()
	v, ok := s.checked[h]
	s.mu.Unlock()
	if ok {
		return 0, v
	}
	head := make([]byte, min(f.Size(), sniffWindow))
	n, err := io.ReadFull(f, head)
	if err != nil {
		return int64(n), fmt.Errorf("read the start: %w", err)
	}
	v = checkMedia(f.Name(), f.MediaType(), head)
	s.mu.Lock()
	s.checked[h] = v
	s.mu.Unlock()
	return int64(n), v
}
