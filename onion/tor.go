package onion

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cretz/bine/control"
)

// DefaultBootstrapTimeout bounds Bootstrap when Config.BootstrapTimeout is 0.
const DefaultBootstrapTimeout = 3 * time.Minute

// ErrNoTor is returned by Start when the tor program cannot be found.
var ErrNoTor = errors.New("tor is not installed: install it with 'sudo apt-get install tor' (Debian/Ubuntu) or set the path of the tor program")

// Config says which tor to use and how.
type Config struct {
	// TorPath is the tor program of a managed tor; "" finds "tor" on PATH.
	TorPath string
	// DataDir holds the managed tor's torrc and data directory.
	DataDir string
	// ControlAddr, when not empty, attaches to a running tor through its
	// ControlPort ("host:port", on loopback only) instead of starting one.
	// That tor must ask for authentication: a password, or its cookie
	// through SAFECOOKIE.
	ControlAddr string
	// ControlPassword authenticates to ControlAddr (HashedControlPassword).
	ControlPassword string
	// ControlCookie is the path of ControlAddr's cookie file; "" uses the
	// file tor names in PROTOCOLINFO.
	ControlCookie string
	// Bridges are bridge lines ("obfs4 1.2.3.4:443 FINGERPRINT cert=..."),
	// passed to a managed tor with the pluggable transports they name.
	Bridges []string
	// Torrc holds extra torrc lines for a managed tor, e.g. from testnet.
	Torrc []string
	// BootstrapTimeout bounds Bootstrap; 0 means DefaultBootstrapTimeout.
	BootstrapTimeout time.Duration
	// Logger receives tor's notices and this package's events; nil is quiet.
	Logger *slog.Logger
}

// BootstrapEvent is one step of tor's bootstrap, as tor reports it.
type BootstrapEvent struct {
	Percent int
	Tag     string
	Summary string
	// Warning is tor's last complaint, if any, while stuck at this step, or
	// why its connections to relays fail (orconn.go).
	Warning string

	fromORConn bool // Warning is an ORCONN failure's, not tor's bootstrap warning
}

// Tor is a running tor, managed or attached, and the Transport over it.
type Tor struct {
	cfg    Config
	log    *slog.Logger
	ctrl   *control.Conn // commands; owns our onion services
	events *control.Conn // SETEVENTS only, read by the event loop
	socks  string        // SOCKS listener, "127.0.0.1:port"
	caddr  string        // control port address

	proc     *exec.Cmd     // nil when attached
	procDone chan struct{} // closed when proc exits
	procErr  error         // valid after procDone
	logTail  *tailBuffer   // last lines tor printed

	loopDone    chan struct{}
	loopStarted bool
	eventsCh    chan control.Event

	mu      sync.Mutex
	subs    map[chan control.Event]struct{}
	closed  bool
	lostErr error      // why the connection to tor ended, if not by Close
	ctrlMu  sync.Mutex // serialises commands on ctrl
}

var _ Transport = (*Tor)(nil)

// Start starts a managed tor (or attaches to one when cfg.ControlAddr is
// set) and connects to its control port. It does not wait for bootstrap;
// call Bootstrap.
func Start(ctx context.Context, cfg Config) (*Tor, error) {
	t := &Tor{
		cfg:      cfg,
		log:      cfg.Logger,
		loopDone: make(chan struct{}),
		eventsCh: make(chan control.Event, 256),
		subs:     map[chan control.Event]struct{}{},
		logTail:  newTailBuffer(20),
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if cfg.ControlAddr != "" {
		err = t.attach(ctx)
	} else {
		err = t.startManaged(ctx)
	}
	if err != nil {
		t.shutdown()
		return nil, err
	}
	t.loopStarted = true
	go t.eventLoop()
	return t, nil
}

// SocksAddr returns the address of tor's SOCKS listener.
func (t *Tor) SocksAddr() (string, error) { return t.socksAddr() }

// ControlAddr returns the address of tor's control port.
func (t *Tor) ControlAddr() string { return t.caddr }

// Managed reports whether this process started the tor (else it attached).
func (t *Tor) Managed() bool { return t.proc != nil }

// PID returns the process ID of a managed tor; 0 when attached.
func (t *Tor) PID() int {
	if t.proc == nil {
		return 0
	}
	return t.proc.Process.Pid
}

func (t *Tor) attach(ctx context.Context) error {
	if err := checkControlAddr(t.cfg.ControlAddr); err != nil {
		return err
	}
	var err error
	t.caddr = t.cfg.ControlAddr
	if t.ctrl, err = t.dialControl(ctx, t.cfg.ControlAddr); err != nil {
		return err
	}
	if t.events, err = t.dialControl(ctx, t.cfg.ControlAddr); err != nil {
		return err
	}
	return t.afterConnect()
}

func (t *Tor) startManaged(ctx context.Context) error {
	if t.cfg.DataDir == "" {
		return errors.New("start tor: no data directory")
	}
	torPath := t.cfg.TorPath
	if torPath == "" {
		torPath = "tor"
	}
	exe, err := lookPath(torPath)
	if err != nil {
		return fmt.Errorf("start tor: %w (%s: %v)", ErrNoTor, torPath, errors.Unwrap(err))
	}
	dir, err := filepath.Abs(t.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("start tor: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return fmt.Errorf("start tor: %w", err)
	}
	portFile := filepath.Join(dir, "control-port")
	if err := os.Remove(portFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("start tor: %w", err)
	}
	torrc, err := buildTorrc(torrcParams{
		DataDirectory:   filepath.Join(dir, "data"),
		ControlPortFile: portFile,
		CookieFile:      filepath.Join(dir, "data", "control_auth_cookie"),
		OwnerPID:        os.Getpid(),
		Bridges:         t.cfg.Bridges,
		Extra:           t.cfg.Torrc,
	})
	if err != nil {
		return fmt.Errorf("start tor: %w", err)
	}
	torrcPath := filepath.Join(dir, "torrc")
	defaultsPath := filepath.Join(dir, "torrc-defaults")
	if err := os.WriteFile(torrcPath, []byte(torrc), 0o600); err != nil {
		return fmt.Errorf("start tor: %w", err)
	}
	if err := os.WriteFile(defaultsPath, nil, 0o600); err != nil {
		return fmt.Errorf("start tor: %w", err)
	}
	// -f and --defaults-torrc keep /etc/tor/torrc (and a system tor's
	// settings) out of our process.
	cmd := exec.Command(exe, "-f", torrcPath, "--defaults-torrc", defaultsPath, "--hush")
	cmd.Stdout = t.logTail
	cmd.Stderr = t.logTail
	cmd.SysProcAttr = childProcAttr()
	t.logTail.onLine = func(l string) { t.log.Debug("tor", "line", l) }
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start tor: %w", err)
	}
	t.proc = cmd
	t.procDone = make(chan struct{})
	go func() {
		t.procErr = cmd.Wait()
		close(t.procDone)
	}()

	addr, err := t.waitControlPort(ctx, portFile)
	if err != nil {
		return err
	}
	t.caddr = addr
	if t.ctrl, err = t.dialControl(ctx, addr); err != nil {
		return err
	}
	// Tor exits as soon as this connection closes, even if we are killed.
	if err := t.ctrl.TakeOwnership(); err != nil {
		return fmt.Errorf("start tor: take ownership: %w", err)
	}
	if _, err := t.ctrl.SendRequest("RESETCONF __OwningControllerProcess"); err != nil {
		return fmt.Errorf("start tor: %w", err)
	}
	if t.events, err = t.dialControl(ctx, addr); err != nil {
		return err
	}
	return t.afterConnect()
}

// afterConnect subscribes to the events we use: bootstrap, failed
// connections to relays (orconn.go) and descriptor uploads.
func (t *Tor) afterConnect() error {
	if err := t.events.AddEventListener(t.eventsCh, control.EventCodeStatusClient, control.EventCodeORConn, control.EventCodeHSDesc); err != nil {
		return fmt.Errorf("subscribe to tor events: %w", err)
	}
	return nil
}

// socksAddr returns tor's loopback SOCKS listener, asking tor the first time
// (a tor with DisableNetwork opens it only when the network is enabled).
func (t *Tor) socksAddr() (string, error) {
	t.mu.Lock()
	a := t.socks
	t.mu.Unlock()
	if a != "" {
		return a, nil
	}
	v, err := t.GetInfo("net/listeners/socks")
	if err != nil {
		return "", fmt.Errorf("find tor socks port: %w", err)
	}
	for _, f := range strings.Fields(v) {
		f = strings.Trim(f, `"`)
		if host, _, err := net.SplitHostPort(f); err == nil && net.ParseIP(host).IsLoopback() {
			t.mu.Lock()
			t.socks = f
			t.mu.Unlock()
			return f, nil
		}
	}
	return "", errors.New("tor has no loopback SocksPort: add 'SocksPort 127.0.0.1:auto IsolateSOCKSAuth' to its torrc")
}

func (t *Tor) waitControlPort(ctx context.Context, portFile string) (string, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		if b, err := os.ReadFile(portFile); err == nil {
			// "PORT=127.0.0.1:9051", written atomically by tor.
			for _, l := range strings.Split(string(b), "\n") {
				if a, ok := strings.CutPrefix(strings.TrimSpace(l), "PORT="); ok {
					return a, nil
				}
			}
		}
		select {
		case <-t.procDone:
			return "", fmt.Errorf("start tor: tor exited (%v): %s", t.procErr, t.logTail.last())
		case <-ctx.Done():
			return "", fmt.Errorf("start tor: %w", ctx.Err())
		case <-deadline.C:
			return "", fmt.Errorf("start tor: no control port after 30s: %s", t.logTail.last())
		case <-tick.C:
		}
	}
}

// eventLoop reads the event connection until it closes and fans events out
// to subscribers without ever blocking the reader.
func (t *Tor) eventLoop() {
	defer close(t.loopDone)
	readErr := make(chan error, 1)
	go func() {
		for {
			if err := t.events.HandleNextEvent(); err != nil {
				readErr <- err
				return
			}
		}
	}()
	for {
		select {
		case ev := <-t.eventsCh:
			t.mu.Lock()
			for ch := range t.subs {
				select {
				case ch <- ev:
				default: // a slow subscriber misses events; it also polls
				}
			}
			t.mu.Unlock()
		case err := <-readErr:
			t.log.Debug("tor event loop ended", "err", err)
			t.mu.Lock()
			closing := t.closed
			t.mu.Unlock()
			var lost error
			if !closing {
				lost = t.lostReason(err)
				t.log.Warn("tor went away", "err", lost)
			}
			t.mu.Lock()
			if !t.closed {
				t.lostErr = lost
			}
			for ch := range t.subs {
				close(ch)
			}
			t.subs = nil
			t.mu.Unlock()
			// Drain so a reader blocked on the full channel can finish.
			for {
				select {
				case <-t.eventsCh:
				default:
					return
				}
			}
		}
	}
}

// Done is closed when the connection to tor ends: Close was called, or tor
// went away (a managed tor that exited, an attached one stopped or its
// control port closed). Err then says why.
func (t *Tor) Done() <-chan struct{} { return t.loopDone }

// Err returns why tor went away once Done is closed: nil after Close.
func (t *Tor) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lostErr
}

// lostReason explains the end of the event connection (read error err)
// that no Close asked for.
func (t *Tor) lostReason(err error) error {
	if t.proc == nil {
		return fmt.Errorf("lost the control connection to tor at %s: %w", t.caddr, err)
	}
	select {
	case <-t.procDone:
		return fmt.Errorf("tor exited (%v)%s", t.procErr, t.exitNote())
	case <-time.After(2 * time.Second):
		return fmt.Errorf("lost the control connection to tor: %w", err)
	}
}

// subscribe returns a channel of every event tor sends from now on; it is
// closed when tor goes away. cancel must be called.
func (t *Tor) subscribe() (<-chan control.Event, func()) {
	ch := make(chan control.Event, 1024)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.subs == nil {
		close(ch)
		return ch, func() {}
	}
	t.subs[ch] = struct{}{}
	return ch, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if _, ok := t.subs[ch]; ok {
			delete(t.subs, ch)
			close(ch)
		}
	}
}

// request sends one command on the command connection.
func (t *Tor) request(format string, args ...any) (*control.Response, error) {
	t.ctrlMu.Lock()
	defer t.ctrlMu.Unlock()
	return t.ctrl.SendRequest(format, args...)
}

// GetInfo returns the value of one GETINFO key.
func (t *Tor) GetInfo(key string) (string, error) {
	t.ctrlMu.Lock()
	defer t.ctrlMu.Unlock()
	kv, err := t.ctrl.GetInfo(key)
	if err != nil {
		return "", fmt.Errorf("getinfo %s: %w", key, err)
	}
	for _, v := range kv {
		if v.Key == key {
			return v.Val, nil
		}
	}
	return "", fmt.Errorf("getinfo %s: no value", key)
}

// Close deletes our onion services and, for a managed tor, stops it.
func (t *Tor) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	return t.shutdown()
}

func (t *Tor) shutdown() error {
	var errs []error
	if t.ctrl != nil {
		if t.proc != nil {
			// Owned tor: closing the connection makes it exit; HALT is quicker.
			t.request("SIGNAL HALT") //nolint:errcheck // tor may close first
		}
		t.ctrl.Close()
	}
	if t.events != nil {
		t.events.Close()
	}
	if t.loopStarted {
		select {
		case <-t.loopDone:
		case <-time.After(5 * time.Second):
			errs = append(errs, errors.New("close tor: event loop did not stop"))
		}
	}
	if t.proc != nil {
		if t.ctrl == nil { // never reached its control port: nothing to ask
			t.proc.Process.Kill()
		}
		select {
		case <-t.procDone:
		case <-time.After(5 * time.Second):
			t.proc.Process.Kill()
			<-t.procDone
		}
	}
	return errors.Join(errs...)
}
