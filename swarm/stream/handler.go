package stream

import (
	"context"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// ServeHTTP serves GET and HEAD of /TOKEN/NAME with Range and If-Range.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Every answer, refusals included, is inert in a browser.
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cache-Control", "no-store")
	if !s.ownHost(r.Host) {
		// A page of another site reaching us through DNS rebinding, or a
		// player we started asking its proxy (this server) for another
		// address: a playlist or a reference inside a media file.
		s.log.Warn("stream: request for another host refused", "host", r.Host)
		http.Error(w, "misdirected request", http.StatusMisdirectedRequest)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	tok, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	e, h, ok := s.lookup(tok)
	if !ok {
		http.NotFound(w, r)
		return
	}
	f, err := s.open(r.Context(), e)
	if err != nil {
		switch {
		case errors.Is(err, swarm.ErrNotFound):
			http.NotFound(w, r)
		case r.Context().Err() != nil:
			// The client left while the descriptor was awaited.
		default:
			s.log.Warn("stream: open", "content", e.id, "err", err)
			http.Error(w, "content unavailable", http.StatusServiceUnavailable)
		}
		return
	}
	defer f.Close()
	at, err := s.check(h, f)
	switch {
	case errors.Is(err, ErrNotMedia):
		// A playlist: a player would follow it out of Tor.
		s.log.Warn("stream: refused", "content", e.id, "err", err)
		http.Error(w, err.Error(), http.StatusUnsupportedMediaType)
		return
	case err != nil:
		if r.Context().Err() == nil {
			s.log.Warn("stream: read", "content", e.id, "err", err)
			http.Error(w, "content unavailable", http.StatusServiceUnavailable)
		}
		return
	}
	hdr.Set("Content-Type", safeMediaType(f.MediaType(), f.Name()))
	name := hcrypto.SanitizeName(f.Name())
	if cd := mime.FormatMediaType("inline", map[string]string{"filename": name}); cd != "" {
		hdr.Set("Content-Disposition", cd)
	}
	hdr.Set("Etag", e.etag) // for If-Range
	start := time.Now()
	http.ServeContent(w, r, name, time.Time{}, &lazySeeker{m: f, size: f.Size(), real: at})
	s.log.Debug("stream: served", "content", e.id, "method", r.Method, "range", r.Header.Get("Range"),
		"took", time.Since(start).Round(time.Millisecond))
}

// open opens what e serves.
func (s *Server) open(ctx context.Context, e entry) (Media, error) {
	if e.open != nil {
		return e.open(ctx)
	}
	return s.src.Open(ctx, e.id)
}

// lazySeeker defers seeks to the next Read: http.ServeContent seeks to the
// end for the size, back to the start, then to the range, and for a
// source whose Seek costs a round trip (a bridge stream reconnects) only
// the last one matters.
type lazySeeker struct {
	m         Media
	size      int64
	pos, real int64
}

func (l *lazySeeker) Read(p []byte) (int, error) {
	if l.pos != l.real {
		if _, err := l.m.Seek(l.pos, io.SeekStart); err != nil {
			return 0, err
		}
		l.real = l.pos
	}
	n, err := l.m.Read(p)
	l.pos += int64(n)
	l.real = l.pos
	return n, err
}

func (l *lazySeeker) Seek(off int64, whence int) (int64, error) {
	off, err := hcrypto.SeekPosition(off, whence, l.pos, l.size)
	if err != nil {
		return l.pos, err
	}
	l.pos = off
	return off, nil
}

// ownHost reports whether a Host header names this server: its own loopback
// address or localhost, with its port.
func (s *Server) ownHost(host string) bool {
	if strings.EqualFold(host, s.addr) {
		return true
	}
	h, p, err := net.SplitHostPort(host)
	return err == nil && p == s.port && strings.EqualFold(h, "localhost")
}

// inertTypes are media types outside audio/, video/ and image/ that a
// browser will not run.
var inertTypes = map[string]bool{
	"application/ogg":          true,
	"application/mp4":          true,
	"application/octet-stream": true,
	"application/x-matroska":   true,
	"application/pdf":          true,
	"text/plain":               true,
}

// safeMediaType returns the Content-Type to serve for a content: its
// declared media type, or the one of its name's extension, when it is audio,
// video, an image other than SVG or one of inertTypes; otherwise
// application/octet-stream. The header comes from the sharer: a type a
// browser would run (HTML, SVG, script) is never served.
func safeMediaType(declared, name string) string {
	for _, t := range []string{declared, mime.TypeByExtension(path.Ext(name))} {
		mt, _, err := mime.ParseMediaType(t)
		if err != nil {
			continue
		}
		major, _, _ := strings.Cut(mt, "/")
		switch {
		case mt == "image/svg+xml":
		case major == "audio" || major == "video" || major == "image" || inertTypes[mt]:
			if mt == "text/plain" {
				return "text/plain; charset=utf-8"
			}
			return mt
		}
	}
	return "application/octet-stream"
}
