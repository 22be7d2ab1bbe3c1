package stream

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm/stream/streamtest"
)

// FuzzServeHTTP sends the handler arbitrary paths, Host headers and Range
// headers (what any local process, or a web page, can send): it never
// panics, answers 2xx only for its own host and the right token, and what it
// sends is the content's bytes.
func FuzzServeHTTP(f *testing.F) {
	data := bytes.Repeat([]byte("abcdefghij"), 5000)
	var id hcrypto.ContentID
	id[0] = 9
	s, err := New(fakeSource{id: {name: "f.mp4", mediaType: "video/mp4", data: data}}, Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	u, err := s.URL(id)
	if err != nil {
		f.Fatal(err)
	}
	pu, _ := url.Parse(u)
	tok := strings.Split(pu.Path, "/")[1]
	f.Add(pu.Path, s.Addr(), "bytes=0-10")
	f.Add("/"+tok, "localhost:"+s.port, "bytes=-5")
	f.Add("/"+tok+"/x", s.Addr(), "bytes=10-5")
	f.Add("/"+tok+"/x", s.Addr(), "bytes=0-1,5-9,100-")
	f.Add("/"+tok+"x/", s.Addr(), "")
	f.Add("/", "evil.example", "")
	f.Add("//"+tok, s.Addr(), "bytes=99999999999999999999-")
	f.Fuzz(func(t *testing.T, path, host, rng string) {
		req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}, Host: host, Header: http.Header{},
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		code := w.Code
		if code >= 300 {
			return
		}
		own := strings.EqualFold(host, s.Addr()) || strings.EqualFold(host, "localhost:"+s.port)
		gotTok, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		if !own || gotTok != tok {
			t.Fatalf("status %d for host %q path %q", code, host, path)
		}
		body := w.Body.Bytes()
		switch {
		case code == http.StatusOK && !bytes.Equal(body, data):
			t.Fatalf("200 with %d bytes, want the %d of the content", len(body), len(data))
		case code == http.StatusPartialContent && !strings.HasPrefix(w.Header().Get("Content-Type"), "multipart/") &&
			!bytes.Contains(data, body):
			t.Fatalf("206 with %d bytes not from the content", len(body))
		}
	})
}

// FuzzReferenceKind feeds the playlist sniffer arbitrary bytes (a content's
// start, which the sharer chooses): it never panics, and whatever it
// refuses it refuses too when the same text comes in UTF-16, as players
// read it.
func FuzzReferenceKind(f *testing.F) {
	for _, h := range streamtest.Hostile("http://127.0.0.1:9") {
		f.Add(h.Data)
	}
	f.Add([]byte("\x00\x00\x00\x20ftypisom"))
	f.Fuzz(func(t *testing.T, head []byte) {
		kind := referenceKind(head)
		if kind == "" || !utf8.Valid(head) || bytes.IndexByte(head, 0) >= 0 {
			return
		}
		if k := referenceKind(utf16Bytes(string(head), false, true)); k == "" {
			t.Errorf("%q is %s, but not in UTF-16", head, kind)
		}
	})
}
