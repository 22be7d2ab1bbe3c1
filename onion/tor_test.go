package onion_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/onion/testnet"
	"github.com/hydre-p2p/hydre/onion/testnet/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// startTor starts a managed tor that joins the shared private network and
// waits for its bootstrap; it is closed at the end of the test.
func startTor(t *testing.T, dataDir string) *onion.Tor {
	t.Helper()
	return testkit.StartTor(t, testkit.Shared(t, testnet.Options{}), func(c *onion.Config) {
		if dataDir != "" {
			c.DataDir = dataDir
		}
	})
}

// dialRetry dials until it works or ctx ends: a service that was just
// republished may take a few tries to reach.
func dialRetry(ctx context.Context, tr onion.Transport, addr string, opt onion.DialOptions) (net.Conn, error) {
	for {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		c, err := tr.Dial(dctx, addr, opt)
		cancel()
		if err == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}

// TestTorTransport runs the transport suite (onion/memnet runs it too) on
// the private Tor network: two tors, one publishing, one dialing, and each
// isolation tag on a circuit of its own, built for that tag.
func TestTorTransport(t *testing.T) {
	a, b := startTor(t, ""), startTor(t, "")
	testkit.TransportSuite(t, testkit.Pair{Server: a, Client: b, Timeout: 3 * time.Minute, EchoBytes: 16 << 20,
		Isolated: func(t *testing.T, addr string, tags []string) {
			circs := streamCircuits(t, b, addr)
			if len(circs) != len(tags) {
				t.Fatalf("found %d streams to the service on B, want %d: %v", len(circs), len(tags), circs)
			}
			if circs[0] == circs[1] {
				t.Fatalf("two isolation tags share circuit %s", circs[0])
			}
			status, err := b.GetInfo("circuit-status")
			if err != nil {
				t.Fatal(err)
			}
			for _, tag := range tags {
				if !circuitHasUser(status, circs, "hydre:"+tag) {
					t.Errorf("no circuit of the streams carries isolation tag %q:\n%s", tag, status)
				}
			}
		}})
}

// streamCircuits returns the circuit of each open stream to addr on tor.
func streamCircuits(t *testing.T, tor *onion.Tor, addr string) []string {
	t.Helper()
	v, err := tor.GetInfo("stream-status")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(v, "\n") {
		f := strings.Fields(line) // StreamID StreamStatus CircuitID Target
		if len(f) >= 4 && f[1] == "SUCCEEDED" && strings.EqualFold(f[3], addr) {
			out = append(out, f[2])
		}
	}
	return out
}

func circuitHasUser(status string, circs []string, user string) bool {
	for _, line := range strings.Split(status, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		for _, c := range circs {
			if f[0] == c && strings.Contains(line, `SOCKS_USERNAME="`+user+`"`) {
				return true
			}
		}
	}
	return false
}

func TestTorRestartKeepsAddress(t *testing.T) {
	b := startTor(t, "")
	keyPath := filepath.Join(t.TempDir(), "id.key")
	aDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	var addrs []string
	for round := range 2 {
		a := startTor(t, aDir)
		key, err := onion.LoadOrCreateKey(keyPath)
		if err != nil {
			t.Fatal(err)
		}
		l, err := a.Listen(ctx, onion.ServiceConfig{Key: key, Port: 80})
		if err != nil {
			t.Fatalf("round %d: listen: %v", round, err)
		}
		testkit.ServeEcho(t, l)
		addrs = append(addrs, l.Address())
		c, err := dialRetry(ctx, b, l.Address(), onion.DialOptions{Isolation: fmt.Sprint("round", round)})
		if err != nil {
			t.Fatalf("round %d: dial: %v", round, err)
		}
		testkit.Echo(t, c, 4096)
		c.Close()
		if err := a.Close(); err != nil {
			t.Fatalf("round %d: close: %v", round, err)
		}
	}
	if addrs[0] != addrs[1] {
		t.Fatalf("address changed across restart: %s then %s", addrs[0], addrs[1])
	}
}

func TestStartWithoutTor(t *testing.T) {
	for _, path := range []string{"/nonexistent/tor", "hydre-no-such-tor"} {
		_, err := onion.Start(context.Background(), onion.Config{TorPath: path, DataDir: t.TempDir()})
		if !errors.Is(err, onion.ErrNoTor) {
			t.Fatalf("Start with TorPath %q: %v, want ErrNoTor", path, err)
		}
		if !strings.Contains(err.Error(), "sudo apt-get install tor") {
			t.Fatalf("error does not say how to install tor: %v", err)
		}
	}
}

func TestAttachControlPassword(t *testing.T) {
	testkit.SkipWithoutTor(t)
	// hash of "right horse", made with tor --hash-password
	const hashed = "16:8CAF2DFEE609A51160B2638B2175569BF83939BC90B80A58C5A64D02D8"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hostDir := t.TempDir()
	host, err := onion.Start(ctx, onion.Config{DataDir: hostDir, Logger: testkit.LoggerAt(t, slog.LevelWarn),
		Torrc: []string{"HashedControlPassword " + hashed, "DisableNetwork 1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()

	_, err = onion.Start(ctx, onion.Config{ControlAddr: host.ControlAddr(), ControlPassword: "wrong"})
	if err == nil || !strings.Contains(err.Error(), "rejected the password") {
		t.Fatalf("attach with a wrong password: %v, want a clear rejection", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("error repeats the password: %v", err)
	}
	att, err := onion.Start(ctx, onion.Config{ControlAddr: host.ControlAddr(), ControlPassword: "right horse"})
	if err != nil {
		t.Fatalf("attach with the right password: %v", err)
	}
	if att.Managed() {
		t.Fatal("an attached tor reports itself managed")
	}
	if err := att.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := host.GetInfo("version"); err != nil {
		t.Fatalf("closing an attached tor stopped it: %v", err)
	}

	// The cookie file works too; a file of the wrong size is refused clearly.
	att, err = onion.Start(ctx, onion.Config{ControlAddr: host.ControlAddr(),
		ControlCookie: filepath.Join(hostDir, "data", "control_auth_cookie")})
	if err != nil {
		t.Fatalf("attach with the cookie: %v", err)
	}
	att.Close()
	bad := filepath.Join(t.TempDir(), "cookie")
	os.WriteFile(bad, []byte("short"), 0o600)
	if _, err := onion.Start(ctx, onion.Config{ControlAddr: host.ControlAddr(), ControlCookie: bad}); err == nil ||
		!strings.Contains(err.Error(), "want 32") {
		t.Fatalf("attach with a bad cookie file: %v", err)
	}
	// Nothing listens there: a clear error, not a hang.
	if _, err := onion.Start(ctx, onion.Config{ControlAddr: "127.0.0.1:1"}); err == nil ||
		!strings.Contains(err.Error(), "connect to tor control port") {
		t.Fatalf("attach to a closed port: %v", err)
	}
}

func TestDialRefusesClearnet(t *testing.T) {
	testkit.SkipWithoutTor(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tor, err := onion.Start(ctx, onion.Config{DataDir: t.TempDir(), Torrc: []string{"DisableNetwork 1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tor.Close()
	for _, addr := range []string{"example.com:80", "127.0.0.1:22", "[::1]:22", "expyuzz4wqqyqhjn.onion:80",
		"3gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:80"} {
		if c, err := tor.Dial(ctx, addr, onion.DialOptions{}); err == nil {
			c.Close()
			t.Errorf("Dial(%q) succeeded", addr)
		} else if !errors.Is(err, onion.ErrNotOnion) && !errors.Is(err, onion.ErrBadChecksum) {
			t.Errorf("Dial(%q) = %v, want a refusal before any traffic", addr, err)
		}
	}
}

// TestTorGoesAway checks that Done and Err tell a managed tor that died
// (killed with SIGKILL, as by the OOM killer) from one that was closed.
func TestTorGoesAway(t *testing.T) {
	tor := startTor(t, "")
	if err := syscall.Kill(tor.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-tor.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("Done not closed 30 s after tor was killed")
	}
	if err := tor.Err(); err == nil || !strings.Contains(err.Error(), "tor exited (signal: killed)") {
		t.Fatalf("Err after tor was killed: %v", err)
	}

	other := startTor(t, "")
	other.Close()
	<-other.Done()
	if err := other.Err(); err != nil {
		t.Fatalf("Err after Close: %v", err)
	}
}

// TestServiceStreamLimit checks that a client circuit opening more streams
// than ServiceConfig.MaxStreams is closed by tor, its earlier streams with it.
func TestServiceStreamLimit(t *testing.T) {
	a := startTor(t, "")
	b := startTor(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := a.Listen(ctx, onion.ServiceConfig{MaxStreams: 2})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	testkit.ServeEcho(t, l)
	// One isolation tag: every stream rides the same circuit.
	opt := onion.DialOptions{Isolation: "flood"}
	var conns []net.Conn
	for range 2 {
		c, err := dialRetry(ctx, b, l.Address(), opt)
		if err != nil {
			t.Fatalf("dial within the limit: %v", err)
		}
		defer c.Close()
		testkit.Echo(t, c, 1024)
		conns = append(conns, c)
	}
	dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
	third, err := b.Dial(dctx, l.Address(), opt)
	dcancel()
	if err == nil {
		// tor may accept the stream at the SOCKS level before the service
		// side refuses it; the circuit must go all the same.
		defer third.Close()
		third.SetDeadline(time.Now().Add(30 * time.Second))
		third.Write([]byte("x"))
		if _, err := third.Read(make([]byte, 1)); err == nil {
			t.Fatal("a third stream on a circuit limited to two was served")
		}
	}
	conns[0].SetDeadline(time.Now().Add(30 * time.Second))
	conns[0].Write([]byte("x"))
	if _, err := conns[0].Read(make([]byte, 1)); err == nil {
		t.Fatal("the circuit that exceeded its stream limit still carries its first stream")
	}
	// Another circuit is served as before.
	c, err := dialRetry(ctx, b, l.Address(), onion.DialOptions{Isolation: "other"})
	if err != nil {
		t.Fatalf("dial on a fresh circuit: %v", err)
	}
	defer c.Close()
	testkit.Echo(t, c, 1024)
}

// TestAttachRefusesNoAuth checks that a tor whose control port asks for no
// authentication is refused rather than used silently. onion.Start refuses
// to manage such a tor too, so the test starts this one itself.
func TestAttachRefusesNoAuth(t *testing.T) {
	testkit.SkipWithoutTor(t)
	dir := t.TempDir()
	portFile := filepath.Join(dir, "control-port")
	torrc := fmt.Sprintf("DataDirectory %s\nControlPort 127.0.0.1:auto\nControlPortWriteToFile %s\n"+
		"SocksPort 0\nDisableNetwork 1\nCookieAuthentication 0\nLog warn stderr\n", filepath.Join(dir, "data"), portFile)
	if err := os.WriteFile(filepath.Join(dir, "torrc"), []byte(torrc), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("tor", "-f", filepath.Join(dir, "torrc"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill() // by the PID this test started
		cmd.Wait()
	})
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == ""; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("tor did not write its control port in 30 s")
		}
		b, _ := os.ReadFile(portFile)
		addr, _ = strings.CutPrefix(strings.TrimSpace(string(b)), "PORT=")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := onion.Start(ctx, onion.Config{ControlAddr: addr}); !errors.Is(err, onion.ErrControlNoAuth) {
		t.Fatalf("attach to a tor without control authentication: %v, want ErrControlNoAuth", err)
	}
}

// TestListenPublishTimeout: a Listen whose descriptor is not uploaded
// within ServiceConfig.PublishTimeout fails with the deadline and removes
// the service, so that the same identity can be added again (tor refuses
// a second ADD_ONION of a key it still serves: "Onion address collision").
func TestListenPublishTimeout(t *testing.T) {
	a := startTor(t, "")
	key, err := onion.LoadOrCreateKey(filepath.Join(t.TempDir(), "id.key"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := a.Listen(ctx, onion.ServiceConfig{Key: key, PublishTimeout: time.Millisecond})
	if err == nil {
		l.Close()
		t.Fatal("a descriptor was uploaded within 1 ms")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "descriptor not uploaded") {
		t.Fatalf("listen past its publish deadline: %v, want the deadline", err)
	}
	l, err = a.Listen(ctx, onion.ServiceConfig{Key: key})
	if err != nil {
		t.Fatalf("the same identity added again after the deadline: %v", err)
	}
	l.Close()
}
