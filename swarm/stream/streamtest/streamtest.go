// Package streamtest holds what tests of the players hydre starts need: a
// canary HTTP server on the loopback interface that records every request
// it gets, hostile files (playlists and reference formats named like a
// film) that point a player at it, an origin server that serves such a file
// the way the stream server would and records what it is asked, and a
// headless X display for players that open a window.
//
// It is for tests only: nothing of the release binary imports it.
package streamtest

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Recorder is an HTTP server on 127.0.0.1 that records every request.
type Recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []string
}

// Canary starts a recorder that answers 404 to everything: a player that
// reaches it has left the route hydre gave it.
func Canary(t testing.TB) *Recorder {
	return Origin(t, "", nil)
}

// Origin starts a recorder that serves data (as video/mp4) at path and 404
// to every other request, including those a player sends it as its proxy
// for another host.
func Origin(t testing.TB, path string, data []byte) *Recorder {
	t.Helper()
	r := &Recorder{}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		r.mu.Lock()
		line := fmt.Sprintf("%s %s %s (%s)", q.Method, q.Host, q.URL.Path, q.UserAgent())
		if strings.HasPrefix(q.RequestURI, "http://") {
			line += " as a proxy"
		}
		r.reqs = append(r.reqs, line)
		r.mu.Unlock()
		if data == nil || q.Host != r.srv.Listener.Addr().String() || q.URL.Path != path {
			http.NotFound(w, q)
			return
		}
		w.Header().Set("Content-Type", "video/mp4")
		http.ServeContent(w, q, "movie.mp4", time.Time{}, bytes.NewReader(data))
	}))
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the recorder's base address, "http://127.0.0.1:PORT".
func (r *Recorder) URL() string { return r.srv.URL }

// Host is the recorder's "127.0.0.1:PORT".
func (r *Recorder) Host() string { return r.srv.Listener.Addr().String() }

// Requests returns the requests received so far, one line each: method,
// Host, path and user agent, then "as a proxy" for a request sent to the
// recorder as a proxy (its target an absolute address).
func (r *Recorder) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// File is a hostile file: bytes a sharer names movie.mp4.
type File struct {
	Format string // what it is: "m3u", "hls", "pls", ...
	Data   []byte
}

// Hostile returns files of the reference formats players follow, each
// naming addresses of leak (a canary's base address) only.
func Hostile(leak string) []File {
	u := leak + "/leak"
	return []File{
		{"m3u", []byte("#EXTM3U\n#EXTINF:10,film\n" + u + "/m3u.mp4\n")},
		{"m3u headerless", []byte(u + "/plain.mp4\n")},
		{"hls", []byte("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n" + u + "/seg0.ts\n#EXT-X-ENDLIST\n")},
		{"hls master", []byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\n" + u + "/variant.m3u8\n")},
		{"pls", []byte("[playlist]\nFile1=" + u + "/pls.mp4\nTitle1=film\nNumberOfEntries=1\nVersion=2\n")},
		{"asx", []byte(`<asx version="3.0"><entry><ref href="` + u + `/asx.wmv"/></entry></asx>` + "\n")},
		{"xspf", []byte(`<?xml version="1.0" encoding="UTF-8"?><playlist version="1" xmlns="http://xspf.org/ns/0/"><trackList><track><location>` + u + `/xspf.mp4</location></track></trackList></playlist>` + "\n")},
		{"smil", []byte(`<smil><body><video src="` + u + `/smil.mp4"/></body></smil>` + "\n")},
		{"dash", []byte(`<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S"><BaseURL>` + u + `/dash/</BaseURL><Period><AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="1000"><SegmentBase/></Representation></AdaptationSet></Period></MPD>` + "\n")},
		{"ffconcat", []byte("ffconcat version 1.0\nfile '" + u + "/concat.mp4'\n")},
		{"mpv edl", []byte("# mpv EDL v0\n" + u + "/edl.mp4,0,10\n")},
		{"sdp", []byte("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=film\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n")},
	}
}

// Headless gives the test an X display of its own (Xvfb, stopped when the
// test ends) through DISPLAY, and no audio device (SDL's dummy driver), so
// that players open their window and play without a desktop.
func Headless(t testing.TB) { HeadlessScreen(t, "640x480x24") }

// HeadlessScreen is Headless with a screen of the given Xvfb geometry
// ("WxHxDEPTH"), for a test that opens a larger window.
func HeadlessScreen(t testing.TB, screen string) {
	t.Helper()
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Fatal("Xvfb is not installed (scripts/deps.sh installs it)")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	x := exec.Command("Xvfb", "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", screen)
	x.ExtraFiles = []*os.File{w}
	x.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := x.Start(); err != nil {
		w.Close()
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		x.Process.Kill()
		x.Wait()
	})
	// Read through the newline: Xvfb may write the number and the newline
	// apart, and dies ("Cannot write display number") if the pipe is
	// closed between the two.
	r.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(r).ReadString('\n')
	d, perr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || perr != nil {
		t.Fatalf("Xvfb gave no display number: %v %v", err, perr)
	}
	t.Setenv("DISPLAY", ":"+strconv.Itoa(d))
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("SDL_AUDIODRIVER", "dummy")
}

// NeedPlayer fails the test if program is not installed (scripts/deps.sh
// installs mpv and ffplay).
func NeedPlayer(t testing.TB, program string) {
	t.Helper()
	if _, err := exec.LookPath(program); err != nil {
		t.Fatalf("%s is not installed (scripts/deps.sh installs it)", program)
	}
}

// WaitChildrenGone waits (up to a minute) until this process has no child
// process running program (by its /proc comm name), so that a test checks
// the canary only once a player it started indirectly has exited.
func WaitChildrenGone(t testing.TB, program string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		running := children(program)
		if len(running) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (pid %v) still running after a minute", program, running)
		}
	}
}

// children returns the pids of this process's children running program.
func children(program string) []int {
	dirs, _ := os.ReadDir("/proc")
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) > 1 && s[open+1:end] == program && f[1] == strconv.Itoa(os.Getpid()) {
			pids = append(pids, pid)
		}
	}
	return pids
}
