package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
	"github.com/hydre-p2p/hydre/swarm"
)

// rangeCase is one Range request and the bytes of data it must return.
type rangeCase struct {
	name       string
	rng        string
	status     int
	start, end int64 // body is data[start:end]
}

func rangeCases(size int64) []rangeCase {
	return []rangeCase{
		{"last byte", "bytes=-1", http.StatusPartialContent, size - 1, size},
		{"last byte explicit", fmt.Sprintf("bytes=%d-%d", size-1, size-1), http.StatusPartialContent, size - 1, size},
		{"first byte", "bytes=0-0", http.StatusPartialContent, 0, 1},
		{"open-ended", fmt.Sprintf("bytes=%d-", size-300000), http.StatusPartialContent, size - 300000, size},
		{"suffix", "bytes=-100000", http.StatusPartialContent, size - 100000, size},
		{"middle across chunks", "bytes=262000-786999", http.StatusPartialContent, 262000, 787000},
		{"end past the size", fmt.Sprintf("bytes=%d-%d", size-10, size+1000), http.StatusPartialContent, size - 10, size},
		{"past the end", fmt.Sprintf("bytes=%d-", size), http.StatusRequestedRangeNotSatisfiable, 0, 0},
		{"whole", "", http.StatusOK, 0, size},
	}
}

func checkRange(t *testing.T, u string, data []byte, tc rangeCase) {
	t.Helper()
	hdr := map[string]string{}
	if tc.rng != "" {
		hdr["Range"] = tc.rng
	}
	resp, body := get(t, u, hdr)
	if resp.StatusCode != tc.status {
		t.Fatalf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
	}
	if tc.status == http.StatusRequestedRangeNotSatisfiable {
		if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes */%d", len(data)) {
			t.Errorf("%s: Content-Range %q", tc.name, cr)
		}
		return
	}
	if want := data[tc.start:tc.end]; !bytes.Equal(body, want) {
		t.Fatalf("%s: got %d bytes, want %d bytes at %d (differ)", tc.name, len(body), len(want), tc.start)
	}
	if tc.status == http.StatusPartialContent {
		want := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end-1, len(data))
		if cr := resp.Header.Get("Content-Range"); cr != want {
			t.Errorf("%s: Content-Range %q, want %q", tc.name, cr, want)
		}
	}
}

// TestServeRangesWhileDownloading serves ranges of a content that arrives
// over a slow in-memory link: each returns exactly the original bytes, and
// the file's tail is served long before the download gets there.
func TestServeRangesWhileDownloading(t *testing.T) {
	n := memnet.New(memnet.WithLatency(20 * time.Millisecond))
	a := openEngine(t, n.Node("a", memnet.WithUplink(2<<20)), "a")
	b := openEngine(t, n.Node("b"), "b")
	path, data := testkit.RandomFile(t, t.TempDir(), "clip one.bin", 24<<20)
	id := shareAndGet(t, a, b, path)
	s := startServer(t, b)
	u, err := s.URL(id)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(data))
	cases := rangeCases(size)
	// The tail first: it must not wait for the rest.
	checkRange(t, u, data, cases[0])
	if v, _ := verified(t, b, id); v > size/2 {
		t.Errorf("the last byte came only after %d of %d bytes were verified", v, size)
	}
	for _, tc := range cases[1:] {
		t.Run(tc.name, func(t *testing.T) { checkRange(t, u, data, tc) })
	}
	resp, _ := get(t, u, map[string]string{"Range": "bytes=0-0"})
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="clip one.bin"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	t.Run("curl", func(t *testing.T) { curlRanges(t, u, data) })
}

// curlRanges checks the bytes curl gets for a few ranges.
func curlRanges(t *testing.T, u string, data []byte) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	size := len(data)
	for _, r := range []struct {
		rng        string
		start, end int
	}{{"0-99", 0, 100}, {fmt.Sprintf("%d-", size-5000), size - 5000, size}, {"-1", size - 1, size}, {"1000000-1999999", 1000000, 2000000}} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, "curl", "-sS", "--fail", "-r", r.rng, u).Output()
		cancel()
		if err != nil {
			t.Fatalf("curl -r %s: %v", r.rng, err)
		}
		if !bytes.Equal(out, data[r.start:r.end]) {
			t.Fatalf("curl -r %s: %d bytes, differ from the original", r.rng, len(out))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
		"-H", "Host: attacker.example:80", u).Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("curl with a foreign host: %v", err)
	}
	if string(out) != "421" {
		t.Errorf("curl with a foreign host: status %s, want 421", out)
	}
}

// fakeServer serves one content from memory and returns its URL.
func fakeServer(t *testing.T, name, mediaType string, data []byte) (*Server, string) {
	t.Helper()
	var id hcrypto.ContentID
	id[0] = 7
	s := startServer(t, fakeSource{id: {name: name, mediaType: mediaType, data: data}})
	u, err := s.URL(id)
	if err != nil {
		t.Fatal(err)
	}
	return s, u
}

func TestServeRangesExact(t *testing.T) {
	_, data := testkit.RandomFile(t, t.TempDir(), "x", 1<<20+17)
	_, u := fakeServer(t, "x.bin", "", data)
	for _, tc := range rangeCases(int64(len(data))) {
		t.Run(tc.name, func(t *testing.T) { checkRange(t, u, data, tc) })
	}
}

func TestIfRange(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	_, u := fakeServer(t, "a.txt", "text/plain", data)
	resp, _ := get(t, u, map[string]string{"Range": "bytes=0-0"})
	etag := resp.Header.Get("Etag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	for _, tc := range []struct {
		name, ifRange string
		status        int
		n             int
	}{
		{"same etag", etag, http.StatusPartialContent, 10},
		{"other etag", `"other"`, http.StatusOK, len(data)},
		{"weak etag", "W/" + etag, http.StatusOK, len(data)},
		{"date", time.Now().UTC().Format(http.TimeFormat), http.StatusOK, len(data)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, u, map[string]string{"Range": "bytes=10-19", "If-Range": tc.ifRange})
			if resp.StatusCode != tc.status || len(body) != tc.n {
				t.Fatalf("status %d with %d bytes, want %d with %d", resp.StatusCode, len(body), tc.status, tc.n)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	s, u := fakeServer(t, "v.mp4", "video/mp4", []byte("not really a video"))
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.Split(pu.Path, "/")[1]
	_, port, _ := net.SplitHostPort(s.Addr())
	base := "http://" + s.Addr()
	other := tok[:len(tok)-1] + "A"
	if strings.HasSuffix(tok, "A") {
		other = tok[:len(tok)-1] + "B"
	}
	for _, tc := range []struct {
		name, url, host string
		status          int
	}{
		{"right", u, "", http.StatusOK},
		{"right token, other name", base + "/" + tok + "/anything.mkv", "", http.StatusOK},
		{"right token, no name", base + "/" + tok, "", http.StatusOK},
		{"wrong token", base + "/" + other + "/v.mp4", "", http.StatusNotFound},
		{"no token", base + "/", "", http.StatusNotFound},
		{"name only", base + "/v.mp4", "", http.StatusNotFound},
		{"localhost", u, "localhost:" + port, http.StatusOK},
		{"foreign host", u, "attacker.example", http.StatusMisdirectedRequest},
		{"foreign host with our port", u, "attacker.example:" + port, http.StatusMisdirectedRequest},
		{"loopback, other port", u, "127.0.0.1:1", http.StatusMisdirectedRequest},
		{"other loopback address", u, "127.0.0.2:" + port, http.StatusMisdirectedRequest},
		{"foreign host, wrong token", base + "/" + other, "attacker.example", http.StatusMisdirectedRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.host != "" {
				hdr["Host"] = tc.host
			}
			resp, _ := get(t, tc.url, hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader("x"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", resp.StatusCode)
	}
}

func TestHeaders(t *testing.T) {
	// A page is refused (a playlist could be markup), inertly.
	_, u := fakeServer(t, "page.html", "text/html", []byte("<script>alert(1)</script>"))
	resp, _ := get(t, u, nil)
	if resp.StatusCode != http.StatusUnsupportedMediaType || resp.Header.Get("Content-Security-Policy") != "sandbox; default-src 'none'" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("a page: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	// A script that is not markup is served, as a download.
	_, u = fakeServer(t, "évé\"nt.html", "text/html", []byte("alert(1)"))
	resp, _ = get(t, u, nil)
	h := resp.Header
	for k, want := range map[string]string{
		"Content-Type":            "application/octet-stream",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "sandbox; default-src 'none'",
		"Accept-Ranges":           "bytes",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	cd := h.Get("Content-Disposition")
	if !strings.HasPrefix(cd, "inline; filename*=utf-8''") || strings.Contains(cd, `"nt`) {
		t.Errorf("Content-Disposition %q", cd)
	}
}

func TestSafeMediaType(t *testing.T) {
	for _, tc := range []struct{ declared, name, want string }{
		{"video/mp4", "a.mp4", "video/mp4"},
		{"video/mp4; codecs=avc1", "a", "video/mp4"},
		{"audio/ogg", "a", "audio/ogg"},
		{"image/png", "a", "image/png"},
		{"", "a.png", "image/png"},
		{"text/html", "a.html", "application/octet-stream"},
		{"text/html", "a.png", "image/png"},
		{"image/svg+xml", "a.svg", "application/octet-stream"},
		{"application/javascript", "a.js", "application/octet-stream"},
		{"text/plain", "a", "text/plain; charset=utf-8"},
		{"nonsense", "", "application/octet-stream"},
		{"", "", "application/octet-stream"},
	} {
		if got := safeMediaType(tc.declared, tc.name); got != tc.want {
			t.Errorf("safeMediaType(%q, %q) = %q, want %q", tc.declared, tc.name, got, tc.want)
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"", true},
		{"127.0.0.1:0", true},
		{"localhost:0", true},
		{"127.0.0.5:0", true},
		{"0.0.0.0:0", false},
		{":0", false},
		{"[::]:0", false},
		{"192.168.1.10:0", false},
		{"10.0.0.1:8080", false},
		{"example.com:80", false},
		{"127.0.0.1", false},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			s, err := New(fakeSource{}, Options{Addr: tc.addr})
			if tc.ok {
				if err != nil {
					t.Fatalf("New(%q): %v", tc.addr, err)
				}
				host, _, _ := net.SplitHostPort(s.Addr())
				if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
					t.Errorf("bound %s", s.Addr())
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("New(%q) bound %s", tc.addr, s.Addr())
			}
			if strings.Contains(tc.addr, ":") && !errors.Is(err, ErrNotLoopback) {
				t.Errorf("New(%q): %v, want ErrNotLoopback", tc.addr, err)
			}
		})
	}
}

func TestURLStableAndUnique(t *testing.T) {
	var id1, id2 hcrypto.ContentID
	id1[0], id2[0] = 1, 2
	s := startServer(t, fakeSource{id1: {name: "a.mp4", data: []byte("a")}, id2: {name: "b.mp4", data: []byte("b")}})
	u1, _ := s.URL(id1)
	u1b, _ := s.URL(id1)
	u2, _ := s.URL(id2)
	if u1 != u1b || u1 == u2 {
		t.Fatalf("urls %s %s %s", u1, u1b, u2)
	}
	var missing hcrypto.ContentID
	if _, err := s.URL(missing); !errors.Is(err, swarm.ErrNotFound) {
		t.Errorf("URL of an unknown content: %v", err)
	}
	tok := strings.Split(strings.TrimPrefix(u1, "http://"+s.Addr()+"/"), "/")[0]
	if len(tok) < 22 {
		t.Errorf("token %q too short", tok)
	}
	s.Forget(id1)
	if resp, _ := get(t, u1, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("forgotten content: status %d", resp.StatusCode)
	}
	if resp, body := get(t, u2, nil); resp.StatusCode != http.StatusOK || string(body) != "b" {
		t.Errorf("other content: status %d %q", resp.StatusCode, body)
	}
}

// countingMedia is a Media over bytes that counts the seeks that reach it
// (a bridge stream reconnects on each).
type countingMedia struct {
	*bytes.Reader
	name  string
	size  int64
	seeks *int
}

func (m countingMedia) Seek(off int64, whence int) (int64, error) {
	*m.seeks++
	return m.Reader.Seek(off, whence)
}
func (m countingMedia) Close() error      { return nil }
func (m countingMedia) Name() string      { return m.name }
func (m countingMedia) Size() int64       { return m.size }
func (m countingMedia) MediaType() string { return "" }

// TestAddMedia serves a Media (not a content of the Source) by range, with
// at most one seek reaching it per request, and the type from its name.
func TestAddMedia(t *testing.T) {
	data := make([]byte, 1<<20+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	s := startServer(t, fakeSource{})
	seeks, opens := 0, 0
	u, err := s.AddMedia("clip.webm", func(context.Context) (Media, error) {
		opens++
		return countingMedia{Reader: bytes.NewReader(data), name: "clip.webm", size: int64(len(data)), seeks: &seeks}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(u, "/clip.webm") {
		t.Errorf("address %q", u)
	}
	for _, tc := range rangeCases(int64(len(data))) {
		seeks, opens = 0, 0
		checkRange(t, u, data, tc)
		if seeks > 1 || (tc.status != http.StatusRequestedRangeNotSatisfiable && opens != 1) {
			t.Errorf("%s: %d opens and %d seeks reached the media, want 1 and at most 1", tc.name, opens, seeks)
		}
	}
	resp, _ := get(t, u, nil)
	if ct := resp.Header.Get("Content-Type"); !strings.HasSuffix(ct, "/webm") {
		t.Errorf("Content-Type %q, want the type of .webm", ct)
	}
	u2, _ := s.AddMedia("clip.webm", func(context.Context) (Media, error) { return nil, errors.New("unused") })
	if u2 == u {
		t.Error("two media got the same address")
	}
	if resp2, _ := get(t, u2, nil); resp2.Header.Get("Etag") == resp.Header.Get("Etag") {
		t.Error("two media share an Etag")
	}
}
