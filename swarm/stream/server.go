package stream

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm"
)

// Source is what the server serves from; *swarm.Engine implements it.
type Source interface {
	// Open opens a content for reading; reads block until verified.
	Open(ctx context.Context, id hcrypto.ContentID) (swarm.File, error)
	// Status describes a content (its name, kind and size).
	Status(id hcrypto.ContentID) (swarm.Status, error)
}

var _ Source = (*swarm.Engine)(nil)

// Options configure a Server.
type Options struct {
	// Addr is the address to listen on: a loopback IP literal (or
	// "localhost") and a port; "" means 127.0.0.1 on a random port. Any
	// other host is refused.
	Addr string
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
}

// Timeouts of the server. There is no write timeout: a response streams for
// as long as the player watches, and a read waits for the download.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 16 << 10
	shutdownGrace     = 2 * time.Second
	tokenBytes        = 16
)

// ErrNotLoopback is returned by New for an address that is not loopback.
var ErrNotLoopback = errors.New("stream server binds only loopback addresses")

// Server serves contents over HTTP on a loopback address.
type Server struct {
	src  Source
	log  *slog.Logger
	ln   net.Listener
	addr string // "127.0.0.1:port" (or "[::1]:port")
	port string
	srv  *http.Server

	mu     sync.Mutex
	byID   map[hcrypto.ContentID]string // token per content
	byHash map[[32]byte]entry           // sha256(token) -> what it serves
	// checked holds, per sha256(token), what checkMedia said of what it
	// serves (nil: media): the bytes behind an address never change.
	checked map[[32]byte]error
	closed  bool
}

// Media is a file the server can serve besides the Source's contents (a
// BitTorrent stream of the bridge, say): reads may block until the bytes
// are there, and Seek must be cheap until the next Read.
type Media interface {
	io.ReadSeekCloser
	// Name is the file name (sanitized again before use).
	Name() string
	// Size is the length in bytes.
	Size() int64
	// MediaType is the declared media type ("" to go by the name).
	MediaType() string
}

// entry is what one address serves: a content of the Source, or Media.
type entry struct {
	id   hcrypto.ContentID                        // for a content
	open func(ctx context.Context) (Media, error) // for Media
	etag string
}

// New binds the server's address (so URLs are known before Serve runs) and
// returns it; Serve then answers requests. It refuses any address that is
// not loopback.
func New(src Source, opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	addr, err := loopbackAddr(opts.Addr)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	s := &Server{src: src, log: log, ln: ln, addr: ln.Addr().String(), byID: map[hcrypto.ContentID]string{},
		byHash: map[[32]byte]entry{}, checked: map[[32]byte]error{}}
	_, s.port, _ = net.SplitHostPort(s.addr)
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// loopbackAddr validates a listen address and fills in the defaults.
func loopbackAddr(addr string) (string, error) {
	if addr == "" {
		return "127.0.0.1:0", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("stream address %q: %w", addr, err)
	}
	if port == "" {
		port = "0"
	}
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("stream address %q: %w", addr, ErrNotLoopback)
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// Addr returns the address the server listens on ("127.0.0.1:port").
func (s *Server) Addr() string { return s.addr }

// Serve answers requests until ctx ends or Close is called; it then stops
// the server, waiting briefly for responses in progress. It returns nil on
// such a stop.
func (s *Server) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.shutdown() })
	defer stop()
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve streams: %w", err)
}

// Close stops the server and every response in progress.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.srv.Close()
	s.ln.Close() // when Serve never ran
	return err
}

func (s *Server) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
}

// URL returns the address where content id plays. The same content gets the
// same address for the life of the server; it holds a random token, so it is
// a secret for as long as the server runs (do not log it).
func (s *Server) URL(id hcrypto.ContentID) (string, error) {
	st, err := s.src.Status(id)
	if err != nil {
		return "", fmt.Errorf("stream %s: %w", id, err)
	}
	if st.Kind == swarm.KindHost {
		return "", fmt.Errorf("stream %s: %w", id, swarm.ErrNoKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("stream server closed")
	}
	tok, ok := s.byID[id]
	if !ok {
		// The content is immutable: its ID is a strong validator.
		tok = s.addLocked(entry{id: id, etag: `"` + id.String() + `"`})
		s.byID[id] = tok
	}
	return s.urlFor(tok, st.Name), nil
}

// AddMedia serves what open returns (called for each request, with the
// request's context) at a new address, which it returns; Forget does not
// apply to it, it is served for the life of the server. The address holds
// a random token, like a content's.
func (s *Server) AddMedia(name string, open func(ctx context.Context) (Media, error)) (string, error) {
	b := make([]byte, 16)
	rand.Read(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("stream server closed")
	}
	tok := s.addLocked(entry{open: open, etag: `"m` + base64.RawURLEncoding.EncodeToString(b) + `"`})
	return s.urlFor(tok, name), nil
}

// addLocked registers e under a fresh random token and returns the token.
func (s *Server) addLocked(e entry) string {
	b := make([]byte, tokenBytes)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	s.byHash[sha256.Sum256([]byte(tok))] = e
	return tok
}

func (s *Server) urlFor(tok, name string) string {
	u := url.URL{Scheme: "http", Host: s.addr, Path: "/" + tok + "/"}
	if name != "" {
		u.Path += hcrypto.SanitizeName(name)
	}
	return u.String()
}

// Forget stops serving id: its address answers 404 from then on (responses
// in progress continue until their client leaves).
func (s *Server) Forget(id hcrypto.ContentID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok, ok := s.byID[id]; ok {
		h := sha256.Sum256([]byte(tok))
		delete(s.byHash, h)
		delete(s.checked, h)
		delete(s.byID, id)
	}
}

// lookup finds what a token serves, and the token's hash. Tokens are
// compared through their hash, so the map lookup's timing says nothing
// about a token's bytes.
func (s *Server) lookup(tok string) (entry, [32]byte, bool) {
	h := sha256.Sum256([]byte(tok))
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byHash[h]
	return e, h, ok
}
