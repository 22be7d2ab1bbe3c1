package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	bridgenode "github.com/hydre-p2p/hydre/bridge/node"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

func needBridgeProgram(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (scripts/deps.sh installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
}

// TestBridgeFetch runs 'hydre bridge fetch' against a local aria2 seeder
// given with --peer (no DHT) and checks the file, then 'bridge status'.
func TestBridgeFetch(t *testing.T) {
	needBridgeProgram(t, "aria2c")
	needBridgeProgram(t, "mktorrent")
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed")
	os.MkdirAll(seed, 0o755)
	data := make([]byte, 3<<20+5)
	rand.Read(data)
	os.WriteFile(filepath.Join(seed, "clip.bin"), data, 0o644)
	tf := filepath.Join(dir, "clip.torrent")
	makeTorrent(t, tf, filepath.Join(seed, "clip.bin"))
	port := startAria2Seeder(t, seed, tf)

	var out, errb bytes.Buffer
	g := &globals{DataDir: filepath.Join(dir, "home"), Stdout: &out, Stderr: &errb,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dl := filepath.Join(dir, "dl")
	err := runCommand(ctx, g, "bridge", loopbackDHT(t, "fetch", "--no-dht", "--peer", fmt.Sprintf("127.0.0.1:%d", port), "--dir", dl, tf))
	if err != nil {
		t.Fatalf("bridge fetch: %v\n%s", err, errb.String())
	}
	path := strings.TrimSpace(out.String())
	if path != filepath.Join(dl, "clip.bin") {
		t.Fatalf("printed %q", path)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("fetched file differs (%v)", err)
	}
	if err := runCommand(ctx, g, "bridge", []string{"status"}); err == nil {
		t.Fatal("status succeeded with no fetch running")
	}
	if err := runCommand(ctx, g, "bridge", []string{"fetch", "--fingerprint", "nope", tf}); err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Fatalf("bad fingerprint: %v", err)
	}
}

// TestBridgeFetchStream runs 'hydre bridge fetch --stream --player none' on
// a two-file torrent from a local aria2 seeder: the printed address serves
// the larger file by range, exactly, and keeps serving after the leech ends
// until interrupted.
func TestBridgeFetchStream(t *testing.T) {
	needBridgeProgram(t, "aria2c")
	needBridgeProgram(t, "mktorrent")
	dir := t.TempDir()
	video := make([]byte, 5<<20+77)
	rand.Read(video)
	tf, port := seedFolder(t, dir, "show", map[string][]byte{
		"episode.mkv": video,
		"episode.srt": []byte("1\n00:00:01,000 --> 00:00:02,000\nhello\n"),
	})

	out, errb := &syncBuffer{}, &syncBuffer{}
	g := &globals{DataDir: filepath.Join(dir, "home"), Stdout: out, Stderr: errb,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dl := filepath.Join(dir, "dl")
	fetchCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- runCommand(fetchCtx, g, "bridge", loopbackDHT(t, "fetch", "--no-dht", "--stream", "--player", "none",
			"--peer", fmt.Sprintf("127.0.0.1:%d", port), "-o", dl, tf))
	}()
	u := waitLine(t, out, errb, "http://127.0.0.1:", done)
	if !strings.HasSuffix(u, "/episode.mkv") {
		t.Errorf("address %q does not name the larger file", u)
	}
	get := func(rng string) []byte {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if got := get("bytes=-1000"); !bytes.Equal(got, video[len(video)-1000:]) {
		t.Fatalf("tail: %d bytes, differ", len(got))
	}
	if got := get("bytes=1000000-1999999"); !bytes.Equal(got, video[1000000:2000000]) {
		t.Fatalf("middle: %d bytes, differ", len(got))
	}
	waitLine(t, out, errb, filepath.Join(dl, "show"), done)
	if got := get(""); !bytes.Equal(got, video) {
		t.Fatalf("after the leech: %d bytes, differ", len(got))
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("bridge fetch --stream: %v\n%s", err, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("bridge fetch --stream did not stop when interrupted")
	}
}

// makeTorrent makes the torrent tf of path (a file or a folder) with
// mktorrent, in pieces of 64 KiB.
func makeTorrent(t *testing.T, tf, path string) {
	t.Helper()
	if b, err := exec.Command("mktorrent", "-l", "16", "-o", tf, path).CombinedOutput(); err != nil {
		t.Fatalf("mktorrent: %v %s", err, b)
	}
}

// seedFolder writes files in the folder dir/seed/name, makes its torrent
// dir/name.torrent and seeds it with aria2 (startAria2Seeder): it returns
// the torrent's path and aria2's port.
func seedFolder(t *testing.T, dir, name string, files map[string][]byte) (string, int) {
	t.Helper()
	seed := filepath.Join(dir, "seed")
	folder := filepath.Join(seed, name)
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(folder, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tf := filepath.Join(dir, name+".torrent")
	makeTorrent(t, tf, folder)
	return tf, startAria2Seeder(t, seed, tf)
}

// startAria2Seeder seeds torrent tf from dir on a free port of 127.0.0.1
// (DHT, LPD, PEX, IPv6 and RPC off), kills it when the test ends, and
// returns the port once aria2 accepts connections.
func startAria2Seeder(t *testing.T, dir, tf string) int {
	t.Helper()
	needBridgeProgram(t, "aria2c")
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	aria := exec.Command("aria2c", "--no-conf", "--seed-ratio=0.0", "--check-integrity=true",
		"--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
		"--disable-ipv6=true", "--interface=127.0.0.1", fmt.Sprintf("--listen-port=%d", port),
		"--summary-interval=0", "--enable-rpc=false", "--dir="+dir, tf)
	aria.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := aria.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-aria.Process.Pid, syscall.SIGKILL)
		aria.Wait()
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("aria2 not listening after 30 s: %v", err)
		}
	}
}

// TestGetMagnetThroughBridge is 'hydre get MAGNET --bridge ONION' on a
// private Tor network: 'hydre bridge serve' (no DHT; the aria2 seeder is
// given with --peer) leeches the magnet of a two-file torrent, and the
// user's get ends with both exact files in the torrent's folder, fetched
// over hydre from the node as one collection (one link).
func TestGetMagnetThroughBridge(t *testing.T) {
	testkit.SkipWithoutTor(t)
	needBridgeProgram(t, "mktorrent")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	// A torrent of two files: the talk and its slides, in a folder.
	data := make([]byte, 2<<20+11)
	rand.Read(data)
	slides := make([]byte, 300<<10+5)
	rand.Read(slides)
	tf, port := seedFolder(t, dir, "talk", map[string][]byte{"talk.ogg": data, "slides.pdf": slides})
	mi, err := metainfo.LoadFromFile(tf)
	if err != nil {
		t.Fatal(err)
	}
	magnet := "magnet:?xt=urn:btih:" + mi.HashInfoBytes().HexString() + "&dn=talk"

	_, newGlobals := testnetGlobals(ctx, t)

	gs, sout, serr := newGlobals()
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- runCommand(serveCtx, gs, "bridge", loopbackDHT(t, "serve", "--no-dht", "--peer", fmt.Sprintf("127.0.0.1:%d", port),
			"--disk-quota", "64M", "--max-size", "32M", "--max-fetches", "2", "--cache-days", "1"))
	}()
	defer func() {
		stopServe()
		if err := <-served; err != nil {
			t.Errorf("bridge serve: %v\n%s", err, serr.String())
		}
	}()
	var addr string
	for deadline := time.Now().Add(3 * time.Minute); addr == ""; time.Sleep(100 * time.Millisecond) {
		for _, l := range strings.Split(sout.String(), "\n") {
			if strings.Contains(l, ".onion:") {
				addr = strings.TrimSpace(l)
			}
		}
		select {
		case err := <-served:
			t.Fatalf("bridge serve exited: %v\n%s", err, serr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("bridge serve printed no address: %s %s", sout.String(), serr.String())
		}
	}

	gu, uout, uerr := newGlobals()
	dest := t.TempDir()
	if err := runCommand(ctx, gu, "get", []string{"--bridge", addr, "-o", dest, magnet}); err != nil {
		t.Fatalf("get: %v\n%s", err, uerr.String())
	}
	// The torrent comes as one collection: its folder is printed.
	for name, want := range map[string][]byte{"talk.ogg": data, "slides.pdf": slides} {
		path := filepath.Join(dest, "talk", name)
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s fetched through the bridge: %d bytes, %v", name, len(got), err)
		}
	}
	if strings.TrimSpace(uout.String()) != filepath.Join(dest, "talk") {
		t.Fatalf("get printed %q", uout.String())
	}

	// bridge request --stream --player none: a local address that plays the
	// torrent's largest file from the node's stream, by range, each range a
	// stream of its own from the node.
	gp, pout, perr := newGlobals()
	playCtx, stopPlay := context.WithCancel(ctx)
	played := make(chan error, 1)
	go func() {
		played <- runCommand(playCtx, gp, "bridge", []string{"request", "--stream", "--player", "none", addr, magnet})
	}()
	u := waitLine(t, pout, perr, "http://127.0.0.1:", played)
	if !strings.HasSuffix(u, "/talk.ogg") {
		t.Errorf("address %q", u)
	}
	for _, r := range []struct {
		rng        string
		start, end int
	}{{"bytes=-100", len(data) - 100, len(data)}, {"bytes=70000-1500000", 70000, 1500001}, {"", 0, len(data)}} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if r.rng != "" {
			req.Header.Set("Range", r.rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(b, data[r.start:r.end]) {
			t.Fatalf("range %q from the bridge's stream: %d bytes (%v), differ", r.rng, len(b), err)
		}
	}
	stopPlay()
	if err := <-played; err != nil {
		t.Fatalf("bridge request --stream --player none: %v\n%s", err, perr.String())
	}
}

func TestBridgeLinkForUsage(t *testing.T) {
	g := &globals{DataDir: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard, Logger: slog.New(slog.DiscardHandler)}
	const onionAddr = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion:7446"
	tests := []struct {
		arg, bridge string
		want        string // "" = a usage error
	}{
		{"hydre:abc", "", "hydre:abc"},
		{"magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", "", ""},
		{"hydre:abc", onionAddr, ""},
		{"magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", "example.com:80", ""},
	}
	for _, tt := range tests {
		got, err := bridgeLinksFor(context.Background(), g, tt.arg, tt.bridge)
		var ue usageError
		if tt.want == "" && !errors.As(err, &ue) {
			t.Errorf("bridgeLinksFor(%q, %q) = %v, %v; want a usage error", tt.arg, tt.bridge, got, err)
		}
		if tt.want != "" && (err != nil || len(got) != 1 || got[0] != (bridgenode.FileLink{Link: tt.want})) {
			t.Errorf("bridgeLinksFor(%q, %q) = %v, %v; want %q", tt.arg, tt.bridge, got, err, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"0", 0, false}, {"1234", 1234, false}, {"500M", 500 << 20, false}, {"20G", 20 << 30, false},
		{"2TiB", 2 << 40, false}, {"8k", 8 << 10, false}, {"1.5G", 0, true}, {"-1", 0, true}, {"G", 0, true}, {"99999999T", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d (error: %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// loopbackDHT returns args after checking that the command will not start
// DHT look-ups from the public routers (the default of --dht): tests give
// --no-dht or loopback nodes only.
func loopbackDHT(t *testing.T, args ...string) []string {
	t.Helper()
	for i, a := range args {
		if a == "--no-dht" || a == "-no-dht" {
			return args
		}
		if (a == "--dht" || a == "-dht") && i+1 < len(args) {
			for _, n := range strings.Split(args[i+1], ",") {
				host, _, err := net.SplitHostPort(n)
				if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
					t.Fatalf("test bridge command bootstraps its DHT from %q: only loopback nodes allowed", n)
				}
			}
			return args
		}
	}
	t.Fatalf("test bridge command %v would use the public DHT routers: pass --no-dht or --dht 127.0.0.1:PORT", args)
	return nil
}
