package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hydre-p2p/hydre/onion"
)

// DefaultRelays is the number of plain relays besides the three authorities
// when Options.Relays is 0: with 2, every bring-up measured served onion
// services (3 authorities + 1 relay failed once in three tries).
const DefaultRelays = 2

// DefaultMiddleRelays is the number of plain relays when
// Options.LimitMiddlesOnly is set and Options.Relays is 0. Onion-service
// circuits then take every middle hop and the rendezvous or introduction
// point from the plain relays, all distinct: 2 relays cannot build them,
// 3 is the minimum (MinMiddleRelays), 4 leaves tor a choice.
const DefaultMiddleRelays = 4

// DefaultLatency is a one-way delay per link (Options.Latency) that
// brings the round trip through an onion-service circuit close to the
// real network's: see README.md, "A private Tor network".
const DefaultLatency = 35 * time.Millisecond

// MinMiddleRelays is the fewest plain relays LimitMiddlesOnly accepts.
const MinMiddleRelays = 3

// stateFile is the file in Options.Dir that describes a network to Open.
const stateFile = "testnet.json"

// errNodeExited marks a start that failed because a node process died.
var errNodeExited = errors.New("node exited")

// errProbeFailed marks a start whose nodes ran but whose probe client could
// not reach a fresh onion service through them. It is not retried: the
// stalls once seen there came from the authorities' voting schedule (a
// round a minute; now every 10 s until the network is usable), and a
// failure now is a bug to read in the nodes' logs.
var errProbeFailed = errors.New("probe failed")

// ErrNotRunning is returned by Open for a directory without a live network.
var ErrNotRunning = errors.New("no private tor network running there")

// Options describe a network to start.
type Options struct {
	// Dir holds the network's keys, logs and state; created if missing.
	Dir string
	// Relays is the number of plain relays; 0 means DefaultRelays, or
	// DefaultMiddleRelays with LimitMiddlesOnly.
	Relays int
	// RelayBandwidth rate-limits relays (RelayBandwidthRate/Burst) in
	// bytes per second; 0 means unlimited. Tor's minimum is 76800.
	RelayBandwidth int64
	// LimitMiddlesOnly applies RelayBandwidth only to the plain relays and
	// makes every member use the (unlimited) authorities as guards and the
	// plain relays as middles, so the bottleneck is the middle hops, as on
	// the real network where guards are among the fastest relays. Each tor
	// of TorConfig takes one authority as its guard, in turn (from a random
	// one in a process that uses Open), so that the guards share the load
	// evenly, as the real network's many guards do on average. It needs at
	// least MinMiddleRelays relays. Without it every relay is limited and
	// the client's and the service's guards cap everything.
	LimitMiddlesOnly bool
	// Vanguards, with LimitMiddlesOnly, gives each tor of TorConfig this
	// many plain relays, drawn at random, as the layer-2 hops of all its
	// onion-service circuits, as tor's default vanguards-lite keeps 4 for
	// itself. 0 names every plain relay, so that each circuit draws its
	// layer 2 among all of them.
	Vanguards int
	// Latency delays every connection between tors by this much each way:
	// a delay proxy sits on the advertised ORPort of every authority and
	// relay (tor listens on another, unadvertised), so each link of a
	// circuit, client and service to their guards included, has this
	// one-way latency, and a round trip through an onion-service circuit
	// (7 links) takes at least 14 times it. Directory fetches from the
	// authorities' DirPorts are not delayed. 0: no proxies. See
	// DefaultLatency for a value close to the real network.
	Latency time.Duration
	// Jitter, with Latency, draws each chunk's delay uniformly from
	// [Latency-Jitter, Latency+Jitter] (bytes keep their order); at most
	// Latency.
	Jitter time.Duration
	// DelayCommand, with Detach and Latency, is the program and arguments
	// of a process that serves the delay proxies after this one exits by
	// calling ServeDelays; Start appends the network's directory.
	// "hydre testnet up" passes its own "hydre testnet delays".
	DelayCommand []string
	// Detach leaves the tor processes running after this process exits
	// (hydre testnet up); Stop or "hydre testnet down" ends them. Without it
	// they die with this process.
	Detach bool
	// TorPath is the tor program; "" finds tor on PATH. tor-gencert is
	// looked up next to it, then on PATH.
	TorPath string
	// Logger receives progress; nil is quiet.
	Logger *slog.Logger
}

// Network is a running private network.
type Network struct {
	dir   string
	st    state
	log   *slog.Logger
	procs []*exec.Cmd // nil for a network reached through Open
	done  []chan struct{}
	// delays are the in-process delay proxies of a network with a
	// latency that is not detached.
	delays []*delayProxy

	owner     bool // this process started the network
	closeOnce sync.Once
	closeErr  error

	guards atomic.Uint64 // TorConfig calls so far: the next one's guard
}

// state is what Open needs, saved as JSON in the network directory.
type state struct {
	Nodes            []*node       `json:"nodes"`
	LimitMiddlesOnly bool          `json:"limitMiddlesOnly,omitempty"`
	RelayBandwidth   int64         `json:"relayBandwidth,omitempty"`
	Vanguards        int           `json:"vanguards,omitempty"`
	Latency          time.Duration `json:"latencyNs,omitempty"`
	Jitter           time.Duration `json:"jitterNs,omitempty"`
	TorPath          string        `json:"torPath"`
	UsableAfter      time.Duration `json:"usableAfterNs"`
}

func (s *state) authorities() []*node {
	var out []*node
	for _, n := range s.Nodes {
		if n.Authority {
			out = append(out, n)
		}
	}
	return out
}

// Start brings up a network in opts.Dir and returns once a client has
// bootstrapped through it and a fresh onion service answered. On error
// nothing is left running.
func Start(ctx context.Context, opts Options) (*Network, error) {
	begin := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Dir == "" {
		return nil, errors.New("start testnet: no directory")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("start testnet: %w", err)
	}
	if nw, err := Open(dir); err == nil {
		nw.Close()
		return nil, fmt.Errorf("start testnet: a network is already running in %s", dir)
	}
	torPath, gencert, err := findPrograms(opts.TorPath)
	if err != nil {
		return nil, fmt.Errorf("start testnet: %w", err)
	}
	relays := opts.Relays
	switch {
	case relays <= 0 && opts.LimitMiddlesOnly:
		relays = DefaultMiddleRelays
	case relays <= 0:
		relays = DefaultRelays
	case opts.LimitMiddlesOnly && relays < MinMiddleRelays:
		return nil, fmt.Errorf("start testnet: LimitMiddlesOnly needs at least %d relays (onion-service circuits take 3 distinct middles), got %d", MinMiddleRelays, relays)
	}
	if opts.Vanguards < 0 || opts.Vanguards > 0 && (!opts.LimitMiddlesOnly || opts.Vanguards > relays) {
		return nil, fmt.Errorf("start testnet: Vanguards %d needs LimitMiddlesOnly and at most the %d relays", opts.Vanguards, relays)
	}
	if opts.Latency < 0 || opts.Jitter < 0 || opts.Jitter > opts.Latency {
		return nil, fmt.Errorf("start testnet: want 0 <= jitter (%v) <= latency (%v)", opts.Jitter, opts.Latency)
	}
	for attempt := 1; ; attempt++ {
		nw := &Network{dir: dir, log: log, owner: true, st: state{TorPath: torPath, LimitMiddlesOnly: opts.LimitMiddlesOnly,
			RelayBandwidth: opts.RelayBandwidth, Vanguards: opts.Vanguards, Latency: opts.Latency, Jitter: opts.Jitter}}
		err := nw.launch(ctx, opts, relays, gencert, begin)
		if err == nil {
			log.Info("testnet usable", "after", nw.st.UsableAfter.Round(time.Millisecond), "relays", relays)
			return nw, nil
		}
		// A node that dies at once has usually lost its port to another
		// program between our choice and its bind: try again with others.
		if attempt == 2 || !retryStart(err) || ctx.Err() != nil {
			return nil, fmt.Errorf("start testnet: %w", err)
		}
		log.Warn("testnet start failed; retrying with new keys and ports", "err", err)
	}
}

// retryStart reports whether a failed bring-up may succeed with new keys
// and ports.
func retryStart(err error) bool {
	return errors.Is(err, errNodeExited)
}

// launch makes keys and starts the nodes on fresh ports, then probes.
func (nw *Network) launch(ctx context.Context, opts Options, relays int, gencert string, begin time.Time) error {
	// A fresh start: old keys would not match the new ports.
	for _, sub := range []string{"nodes", "probe", stateFile} {
		if err := os.RemoveAll(filepath.Join(nw.dir, sub)); err != nil {
			return err
		}
	}
	nodes := 3 + relays
	listen := 0 // the ports tors listen on behind delay proxies
	if nw.st.delayed() {
		listen = nodes
	}
	ports, err := freePorts(3 + nodes + listen)
	if err != nil {
		return err
	}
	for i := range 3 {
		nw.st.Nodes = append(nw.st.Nodes, &node{Name: fmt.Sprintf("auth%d", i), Authority: true,
			ORPort: ports[2*i], DirPort: ports[2*i+1], Limited: !opts.LimitMiddlesOnly})
	}
	for i := range relays {
		nw.st.Nodes = append(nw.st.Nodes, &node{Name: fmt.Sprintf("relay%d", i), ORPort: ports[6+i], Limited: true})
	}
	if listen > 0 {
		for i, n := range nw.st.Nodes {
			n.ListenPort = ports[3+nodes+i]
		}
	}
	if err := nw.genKeys(ctx, gencert); err != nil {
		return err
	}
	nw.log.Info("testnet keys ready", "elapsed", time.Since(begin))
	if err := nw.writeState(); err != nil {
		return err
	}
	if err := nw.startDelays(ctx, opts); err != nil {
		return err
	}
	if err := nw.startNodes(opts); err != nil {
		nw.Close()
		return err
	}
	if err := nw.probe(ctx, opts); err != nil {
		nw.Close()
		return err
	}
	nw.st.UsableAfter = time.Since(begin)
	if err := nw.writeState(); err != nil {
		nw.Close()
		return err
	}
	return nil
}

func findPrograms(torPath string) (tor, gencert string, err error) {
	if torPath == "" {
		torPath = "tor"
	}
	tor, err = exec.LookPath(torPath)
	if err != nil {
		return "", "", fmt.Errorf("%w (%v)", onion.ErrNoTor, err)
	}
	gencert = filepath.Join(filepath.Dir(tor), "tor-gencert")
	if _, err := os.Stat(gencert); err != nil {
		if gencert, err = exec.LookPath("tor-gencert"); err != nil {
			return "", "", fmt.Errorf("tor-gencert not found (it comes with Debian's tor package: sudo apt-get install tor): %w", err)
		}
	}
	return tor, gencert, nil
}

func (nw *Network) genKeys(ctx context.Context, gencert string) error {
	errs := make([]error, len(nw.st.Nodes))
	var wg sync.WaitGroup
	for i, n := range nw.st.Nodes {
		wg.Go(func() {
			if n.Authority {
				if errs[i] = genAuthorityKeys(ctx, gencert, nw.dir, n); errs[i] != nil {
					return
				}
			}
			errs[i] = genRelayKeys(n, nw.dir)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (nw *Network) writeState() error {
	b, err := json.MarshalIndent(nw.st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(nw.dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(nw.dir, stateFile))
}

// Open returns the network running in dir, started by another process with
// Options.Detach (hydre testnet up). Close on it releases the handle only.
func Open(dir string) (*Network, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open testnet: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open testnet %s: %w (start one with 'hydre testnet up %s')", dir, ErrNotRunning, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("open testnet: %w", err)
	}
	nw := &Network{dir: dir, log: slog.New(slog.DiscardHandler)}
	if err := json.Unmarshal(b, &nw.st); err != nil {
		return nil, fmt.Errorf("open testnet %s: %w", dir, err)
	}
	if nw.st.UsableAfter == 0 {
		return nil, fmt.Errorf("open testnet %s: %w (it is still starting or failed to start)", dir, ErrNotRunning)
	}
	for _, n := range nw.st.Nodes {
		if _, alive := nodePID(nw.dir, n); !alive {
			return nil, fmt.Errorf("open testnet %s: %w (%s is not running)", dir, ErrNotRunning, n.Name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, delaysPIDFile)); err == nil {
		if _, alive := delaysPID(dir); !alive {
			return nil, fmt.Errorf("open testnet %s: %w (its delay proxies are not running)", dir, ErrNotRunning)
		}
	}
	// Each process that opens the network starts its turn of guards at a
	// random authority, so that separate hydre processes do not all take
	// the first one.
	nw.guards.Store(rand.Uint64())
	return nw, nil
}

// ID names this bring-up of the network: it changes at every Start, with
// the authorities' keys. Clients keep their data per ID, since a tor that
// knew another network's relays would first try them.
func (nw *Network) ID() string {
	for _, n := range nw.st.Nodes {
		if n.Authority && len(n.V3Ident) >= 12 {
			return strings.ToLower(n.V3Ident[:12])
		}
	}
	return "unknown"
}

// Dir returns the network's directory.
func (nw *Network) Dir() string { return nw.dir }

// UsableAfter returns how long Start took from nothing to a bootstrapped
// client reaching a fresh onion service.
func (nw *Network) UsableAfter() time.Duration { return nw.st.UsableAfter }

// TorConfig returns the configuration of a managed tor, with its data in
// dataDir, that joins this network as a client and onion-service host.
// With Options.LimitMiddlesOnly, each call takes the next authority as
// that tor's guard; with Options.Vanguards, it also draws that tor's own
// layer-2 relays.
func (nw *Network) TorConfig(dataDir string) onion.Config {
	auths := nw.st.authorities()
	lines := commonTorrc(auths)
	if nw.st.LimitMiddlesOnly && len(auths) > 0 {
		var middles []string
		for _, n := range nw.st.Nodes {
			if !n.Authority {
				middles = append(middles, n.Fingerprint)
			}
		}
		guard := auths[(nw.guards.Add(1)-1)%uint64(len(auths))].Fingerprint
		layer2 := middles
		if v := nw.st.Vanguards; v > 0 && v < len(middles) {
			layer2 = nil
			for _, i := range rand.Perm(len(middles))[:v] {
				layer2 = append(layer2, middles[i])
			}
		}
		lines = append(lines,
			"EntryNodes "+guard,
			"MiddleNodes "+strings.Join(middles, ","),
			"HSLayer2Nodes "+strings.Join(layer2, ","),
		)
	}
	return onion.Config{
		TorPath:          nw.st.TorPath,
		DataDir:          dataDir,
		Torrc:            lines,
		BootstrapTimeout: 90 * time.Second,
	}
}

// Close stops the network if this process started it; for a network from
// Open it does nothing (use Stop).
func (nw *Network) Close() error {
	nw.closeOnce.Do(func() {
		if !nw.owner {
			return
		}
		nw.closeErr = stopNodes(nw.dir, nw.st.Nodes, nw.procs, nw.done)
		nw.closeDelays()
		stopDelays(nw.dir)
		os.Remove(filepath.Join(nw.dir, stateFile))
	})
	return nw.closeErr
}

// Stop ends every process of the network in dir, started by any process,
// through the pid files tor wrote; it waits for them to exit.
func Stop(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("stop testnet: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stop testnet %s: %w", dir, ErrNotRunning)
	}
	if err != nil {
		return fmt.Errorf("stop testnet: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("stop testnet %s: %w", dir, err)
	}
	err = stopNodes(dir, st.Nodes, nil, nil)
	stopDelays(dir)
	if err != nil {
		return fmt.Errorf("stop testnet: %w", err)
	}
	return os.Remove(filepath.Join(dir, stateFile))
}
