package stream

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
	"github.com/hydre-p2p/hydre/swarm"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// openEngine opens an engine on tr, closed at the end of the test.
func openEngine(t testing.TB, tr onion.Transport, name string) *swarm.Engine {
	t.Helper()
	e, closeEngine := newEngine(t, tr, name)
	t.Cleanup(closeEngine)
	return e
}

// newEngine opens an engine on tr; the caller closes it.
func newEngine(t testing.TB, tr onion.Transport, name string) (*swarm.Engine, func()) {
	t.Helper()
	return newEngineWith(t, tr, name, 0)
}

// newEngineWith is newEngine with circuits per peer (0: the default).
func newEngineWith(t testing.TB, tr onion.Transport, name string, circuits int) (*swarm.Engine, func()) {
	t.Helper()
	e, err := swarm.Open(context.Background(), swarm.Config{DataDir: t.TempDir(), Transport: tr,
		DownloadDir: t.TempDir(), Reshare: true, CircuitsPerPeer: circuits, Logger: testkit.Logger(t).With("node", name)})
	if err != nil {
		t.Fatal(err)
	}
	return e, func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	}
}

// shareAndGet shares path on a and starts fetching it on b.
func shareAndGet(t testing.TB, a, b *swarm.Engine, path string) hcrypto.ContentID {
	t.Helper()
	st, err := a.Share(context.Background(), path, swarm.ShareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(context.Background(), st.Link, ""); err != nil {
		t.Fatal(err)
	}
	return st.ID
}

// startServer starts a stream server over src, stopped at the end of the test.
func startServer(t testing.TB, src Source) *Server {
	t.Helper()
	s, err := New(src, Options{Logger: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return s
}

// verified returns the verified bytes of id on e.
func verified(t testing.TB, e *swarm.Engine, id hcrypto.ContentID) (int64, int64) {
	t.Helper()
	st, err := e.Status(id)
	if err != nil {
		t.Fatal(err)
	}
	return st.Verified, st.Size
}

// get performs a GET of url with the given headers (Host is special).
func get(t testing.TB, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
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

// memFile is a swarm.File over bytes, for the fake source.
type memFile struct {
	*bytes.Reader
	name, mediaType string
	size            int64
}

func (f *memFile) Close() error      { return nil }
func (f *memFile) Name() string      { return f.name }
func (f *memFile) Size() int64       { return f.size }
func (f *memFile) MediaType() string { return f.mediaType }

// fakeSource serves in-memory contents.
type fakeSource map[hcrypto.ContentID]struct {
	name, mediaType string
	data            []byte
}

func (fs fakeSource) Open(_ context.Context, id hcrypto.ContentID) (swarm.File, error) {
	c, ok := fs[id]
	if !ok {
		return nil, swarm.ErrNotFound
	}
	return &memFile{Reader: bytes.NewReader(c.data), name: c.name, mediaType: c.mediaType, size: int64(len(c.data))}, nil
}

func (fs fakeSource) Status(id hcrypto.ContentID) (swarm.Status, error) {
	c, ok := fs[id]
	if !ok {
		return swarm.Status{}, swarm.ErrNotFound
	}
	return swarm.Status{ID: id, Kind: swarm.KindDownload, Name: c.name, MediaType: c.mediaType, Size: int64(len(c.data))}, nil
}
