package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
	"github.com/hydre-p2p/hydre/bridge/node"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm"
	"github.com/hydre-p2p/hydre/swarm/stream"
)

// publicDHTRouters are the well-known DHT entry points used when --dht is
// not given (the bridge only sends them get_peers).
const publicDHTRouters = "router.bittorrent.com:6881,dht.transmissionbt.com:6881,router.utorrent.com:6881"

func runBridge(ctx context.Context, g *globals, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprintf(g.Stderr, "Usage: hydre bridge fetch|serve|request|status [options]\n\n"+
			"fetch leeches a magnet link or .torrent file with the discreet BitTorrent client:\n"+
			"it announces nowhere, uploads nothing, answers no one and avoids spy peers.\n"+
			"serve runs a hidden bridge node: an onion service that leeches magnets for hydre\n"+
			"users and answers with a hydre link. request asks such a node for a magnet.\n"+
			"status shows the counters of the fetch or node running on this data directory.\n"+
			"fetch exposes this computer's IP address to BitTorrent DHT nodes and peers; through a\n"+
			"bridge node ('hydre get MAGNET --bridge ONION') only the node's address is seen.\n"+
			"Run 'hydre bridge <subcommand> -h' for options.\n")
		if len(args) == 0 {
			return usageError{"missing subcommand (fetch, serve, request or status)"}
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "fetch":
		return runBridgeFetch(ctx, g, args[1:])
	case "serve":
		return runBridgeServe(ctx, g, args[1:])
	case "request":
		return runBridgeRequest(ctx, g, args[1:])
	case "status":
		return runBridgeStatus(g, args[1:])
	default:
		return usageError{fmt.Sprintf("unknown subcommand %q (want fetch, serve, request or status)", args[0])}
	}
}

// bridgeStatus is what a running fetch writes for 'hydre bridge status'.
type bridgeStatus struct {
	PID      int             `json:"pid"`
	Updated  time.Time       `json:"updated"`
	Torrent  bridgeTorrent   `json:"torrent"`
	Counters bridge.Counters `json:"counters"`
}

type bridgeTorrent struct {
	InfoHash  string `json:"info_hash"`
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	Completed int64  `json:"completed"`
	Done      bool   `json:"done"`
	Path      string `json:"path,omitempty"`
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func bridgeDir(g *globals) string { return filepath.Join(g.DataDir, "bridge") }

func runBridgeFetch(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet(g, "bridge fetch", "[options] [--stream [--player P]] MAGNET|FILE.torrent",
		"Leech a torrent discreetly into --dir and print where it is.\n"+
			"With --stream, its (largest) file plays while it arrives: a local address is printed, a\n"+
			"player started on it, and both are served until interrupted.\n"+
			"This computer talks to BitTorrent itself: the DHT nodes asked for peers and the peers it\n"+
			"downloads from see its IP address (and that it wants this torrent). To stay hidden, ask a\n"+
			"hidden bridge node instead: 'hydre get MAGNET --bridge ONION'.")
	dir := fs.String("dir", "", "download into `DIR` (default: <data-dir>/bridge/downloads)")
	var cf clientFlags
	cf.register(fs)
	var peers stringList
	fs.Var(&peers, "peer", "also try the peer at `ip:port` (repeatable)")
	maxSize := sizeFlag(defaultFetchMaxSize)
	fs.Var(&maxSize, "max-size", "refuse torrents over `SIZE` (bytes, or with a K, M, G or T suffix; 0: no limit)")
	keepFree := sizeFlag(0)
	fs.Var(&keepFree, "keep-free", "refuse torrents that would leave less than `SIZE` free on the disk of --dir (0: 512M)")
	streamIt := fs.Bool("stream", false, "play the torrent's (largest) file on a local address while it arrives")
	player := fs.String("player", stream.PlayerAuto, "with --stream, the player to start: auto, mpv, vlc or none")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"want exactly one magnet link or .torrent file"}
	}
	if err := checkPlayer(*player); err != nil {
		return err
	}
	if *dir == "" {
		*dir = filepath.Join(bridgeDir(g), "downloads")
	}
	cfg, err := cf.config(g, *dir)
	if err != nil {
		return err
	}
	cfg.MaxSize = int64(maxSize)
	cfg.KeepFree = int64(keepFree)
	c, err := bridge.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	t, err := c.Add(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	if err := t.AddPeers(peers...); err != nil {
		return usageError{err.Error()}
	}
	statusPath := filepath.Join(bridgeDir(g), "status.json")
	defer os.Remove(statusPath)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var stopStream func()
	defer func() {
		if stopStream != nil {
			stopStream()
		}
	}()
	for {
		if *streamIt && stopStream == nil && t.HasInfo() {
			if stopStream, err = serveTorrent(ctx, g, t, *player); err != nil {
				return err
			}
		}
		st := bridgeStatus{PID: os.Getpid(), Updated: time.Now().UTC(), Counters: c.Counters(),
			Torrent: bridgeTorrent{InfoHash: t.InfoHash(), Name: t.Name()}}
		select {
		case <-t.Done():
			st.Torrent.Done = true
		default:
		}
		if t.HasInfo() {
			st.Torrent.Size = t.Length()
			st.Torrent.Completed = t.BytesCompleted()
			st.Torrent.Path = t.DiskPath()
		}
		if err := writeJSONFile(statusPath, st); err != nil {
			g.Logger.Warn("write bridge status", "err", err)
		}
		if st.Torrent.Done {
			if g.JSON {
				err = json.NewEncoder(g.Stdout).Encode(st)
			} else {
				fmt.Fprintf(g.Stdout, "%s\n", st.Torrent.Path)
			}
			if err == nil && stopStream != nil {
				if !g.JSON {
					fmt.Fprintf(g.Stderr, "Complete; still serving it to the player until interrupted.\n")
				}
				<-ctx.Done()
			}
			return err
		}
		if !g.JSON {
			fmt.Fprintf(g.Stderr, "\r%s: %s of %s, %d peers   ", orDash(st.Torrent.Name),
				mib(st.Torrent.Completed), mib(st.Torrent.Size), st.Counters.Peers)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.Failed():
			if !g.JSON {
				fmt.Fprintln(g.Stderr)
			}
			return t.Err()
		case <-t.Done():
		case <-tick.C:
		}
	}
}

// defaultFetchMaxSize is fetch's --max-size: larger than nearly any real
// torrent, far below what a hostile one may claim.
const defaultFetchMaxSize = 256 << 30

// serveTorrent plays t's largest file through the local stream server.
func serveTorrent(ctx context.Context, g *globals, t *bridge.Torrent, player string) (func(), error) {
	f := largestFile(t.Files())
	name := path.Base(f.Path)
	return serveMedia(ctx, g, name, player, func(ctx context.Context) (stream.Media, error) {
		r := t.NewReader(ctx, 8<<20)
		if _, err := r.Seek(f.Offset, io.SeekStart); err != nil {
			r.Close()
			return nil, fmt.Errorf("read the torrent: %w", err)
		}
		return node.NewSection(r, f.Offset, f.Length, name), nil
	})
}

func runBridgeStatus(g *globals, args []string) error {
	fs := newFlagSet(g, "bridge status", "", "Show the counters of the 'hydre bridge fetch' running on this data directory.")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	b, err := os.ReadFile(filepath.Join(bridgeDir(g), "status.json"))
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("no bridge fetch running on this data directory")
	}
	if err != nil {
		return fmt.Errorf("read bridge status: %w", err)
	}
	var st bridgeStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("read bridge status: %w", err)
	}
	if g.JSON {
		return json.NewEncoder(g.Stdout).Encode(st)
	}
	age := time.Since(st.Updated).Round(time.Second)
	stale := ""
	if age > 5*time.Second {
		stale = fmt.Sprintf(" (stale: last update %v ago; is the fetch still running?)", age)
	}
	c := st.Counters
	fmt.Fprintf(g.Stdout, "torrent     %s %s%s\n", st.Torrent.InfoHash, orDash(st.Torrent.Name), stale)
	fmt.Fprintf(g.Stdout, "progress    %s of %s (done: %v)\n", mib(st.Torrent.Completed), mib(st.Torrent.Size), st.Torrent.Done)
	fmt.Fprintf(g.Stdout, "peers       %d\ndownloaded  %s\n", c.Peers, mib(c.BytesDownloaded))
	fmt.Fprintf(g.Stdout, "discretion (must stay 0): uploaded %d B, adverts %d, announces %d, queries answered %d, incoming accepted %d\n",
		c.BytesUploaded, c.AdvertsSent, c.AnnouncesSent, c.QueriesAnswered, c.IncomingAccepted)
	fmt.Fprintf(g.Stdout, "stopped by filters: %d messages, %d announces, %d inbound dht queries; %d stalled peers dropped; %d spies found\n",
		c.MessagesSuppressed, c.AnnouncesStopped, c.DHTQueriesDropped, c.StalledPeersDropped, c.SpiesFound)
	return nil
}

func writeJSONFile(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clientFlags are the options of the discreet client shared by fetch and
// serve.
type clientFlags struct {
	dht, blocklist, fingerprint  string
	noDHT, noSpy, trustReferrers bool
}

func (cf *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&cf.dht, "dht", publicDHTRouters, "comma-separated `host:port` DHT nodes to start look-ups from")
	fs.BoolVar(&cf.noDHT, "no-dht", false, "no DHT look-up: use only --peer and the magnet's x.pe peers")
	fs.StringVar(&cf.blocklist, "blocklist", "", "PeerGuardian .p2p or eMule .dat `FILE`; spies found are appended (default: <data-dir>/bridge/blocklist.p2p)")
	fs.StringVar(&cf.fingerprint, "fingerprint", "transmission", "client to pass for: transmission or qbittorrent")
	fs.BoolVar(&cf.noSpy, "no-spy-finder", false, "skip the decoy walks that catch spy DHT nodes")
	fs.BoolVar(&cf.trustReferrers, "trust-referrers", false, "block only DHT nodes caught lying, not the nodes that led to them")
}

// config builds the client configuration, creating dataDir and the bridge
// directory.
func (cf *clientFlags) config(g *globals, dataDir string) (bridge.Config, error) {
	fp, ok := bridge.Fingerprints[cf.fingerprint]
	if !ok {
		return bridge.Config{}, usageError{fmt.Sprintf("unknown --fingerprint %q (want transmission or qbittorrent)", cf.fingerprint)}
	}
	if cf.blocklist == "" {
		cf.blocklist = filepath.Join(bridgeDir(g), "blocklist.p2p")
	}
	for _, d := range []string{dataDir, bridgeDir(g)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return bridge.Config{}, fmt.Errorf("create %s: %w", d, err)
		}
	}
	bl, err := bridge.NewBlocklist(cf.blocklist)
	if err != nil {
		return bridge.Config{}, err
	}
	cfg := bridge.Config{DataDir: dataDir, Logger: g.Logger, Fingerprint: fp, Blocklist: bl,
		Spy: bridge.SpyConfig{Disabled: cf.noSpy, TrustReferrers: cf.trustReferrers}}
	if !cf.noDHT {
		for _, n := range strings.Split(cf.dht, ",") {
			if n = strings.TrimSpace(n); n != "" {
				cfg.DHTBootstrap = append(cfg.DHTBootstrap, n)
			}
		}
	}
	return cfg, nil
}

func runBridgeServe(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet(g, "bridge serve", "[options]",
		"Run a hidden bridge node: an onion service (its address is printed) that leeches the\n"+
			"magnet links hydre users send it with the discreet client, and answers each with a\n"+
			"hydre link per file of the torrent, shared by this node. Users ask with\n"+
			"'hydre get MAGNET --bridge ADDRESS' or 'hydre bridge request ADDRESS MAGNET'.")
	var cf clientFlags
	cf.register(fs)
	var limits nodeLimits
	limits.register(fs)
	var peers stringList
	fs.Var(&peers, "peer", "also try the BitTorrent peer at `ip:port` for every request, e.g. your own seedbox (repeatable)")
	var auth stringList
	fs.Var(&auth, "client-auth", "only users holding the private half of this x25519 `PUBKEY` may connect (repeatable)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	if err := limits.check(); err != nil {
		return err
	}
	for _, p := range peers {
		if _, err := netip.ParseAddrPort(p); err != nil {
			return usageError{fmt.Sprintf("--peer %q: want ip:port", p)}
		}
	}
	svc := onion.ServiceConfig{}
	for _, a := range auth {
		k, err := onion.ParseClientPublicKey(a)
		if err != nil {
			return usageError{fmt.Sprintf("--client-auth: %v", err)}
		}
		svc.ClientAuth = append(svc.ClientAuth, k)
	}
	cfg, err := cf.config(g, filepath.Join(bridgeDir(g), "cache"))
	if err != nil {
		return err
	}
	cfg.MetadataDir = filepath.Join(bridgeDir(g), "metadata")
	ncfg := node.Config{Leech: cfg, Service: svc, StateDir: bridgeDir(g), Peers: peers, Logger: g.Logger}
	limits.apply(&ncfg)
	key, err := onion.LoadOrCreateKey(filepath.Join(bridgeDir(g), "service.key"))
	if err != nil {
		return err
	}
	svc.Key = key
	tor, err := g.startTor(ctx, !g.JSON)
	if err != nil {
		return err
	}
	defer tor.Close()
	e, err := swarm.Open(ctx, swarm.Config{DataDir: filepath.Join(g.DataDir, "swarm"), Transport: tor,
		Logger: g.Logger, DownloadDir: filepath.Join(bridgeDir(g), "downloads"), Reshare: true})
	if err != nil {
		return fmt.Errorf("open the engine: %w", err)
	}
	defer e.Close()
	ncfg.Engine, ncfg.Transport = e, tor
	n, err := node.New(ctx, ncfg)
	if err != nil {
		return err
	}
	defer n.Close()
	if g.JSON {
		json.NewEncoder(g.Stdout).Encode(map[string]string{"address": n.Address()})
	} else {
		fmt.Fprintf(g.Stdout, "%s\n", n.Address())
	}
	statusPath := filepath.Join(bridgeDir(g), "status.json")
	defer os.Remove(statusPath)
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- n.Serve(serveCtx) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-served:
			return err
		case <-e.TransportLost(): // exit non-zero: a supervisor starts it again
			return torLost(e)
		case <-tick.C:
			st := bridgeStatus{PID: os.Getpid(), Updated: time.Now().UTC(), Counters: n.Client().Counters()}
			if err := writeJSONFile(statusPath, st); err != nil {
				g.Logger.Warn("write bridge status", "err", err)
			}
		}
	}
}

func runBridgeRequest(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet(g, "bridge request", "[--stream [--player P | -o FILE]] ADDRESS MAGNET",
		"Ask the hidden bridge node at ADDRESS (\"<56 chars>.onion:port\") to fetch MAGNET, and print\n"+
			"the hydre link it answers with ('hydre get LINK' then downloads it over hydre); for a\n"+
			"torrent of several files, one line per file: its link, a tab, its path in the torrent.\n"+
			"With --stream the data comes back while the node leeches it, each piece checked\n"+
			"against the torrent's hashes, written to -o FILE or to stdout (e.g. '| mpv -');\n"+
			"the link is then printed on stderr at the end. With --stream --player P it is served\n"+
			"instead on a local address (printed) that a player, started on it, can seek in.")
	streamIt := fs.Bool("stream", false, "stream the data as the node leeches it")
	output := fs.String("o", "-", "with --stream, write the data to `FILE` (- is stdout)")
	player := fs.String("player", "", "with --stream, serve on a local address and start this player (auto, mpv, vlc or none)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *player != "" {
		if err := checkPlayer(*player); err != nil {
			return err
		}
		if !*streamIt {
			return usageError{"--player goes with --stream"}
		}
	}
	if fs.NArg() != 2 {
		return usageError{"want a bridge address and a magnet link"}
	}
	if _, _, err := onion.ParseAddress(fs.Arg(0)); err != nil {
		return usageError{fmt.Sprintf("bridge address: %v", err)}
	}
	tor, err := g.startTor(ctx, !g.JSON && !*streamIt)
	if err != nil {
		return err
	}
	defer tor.Close()
	if *streamIt && *player != "" {
		return playFromBridge(ctx, g, tor, fs.Arg(0), fs.Arg(1), *player)
	}
	if *streamIt {
		s, err := node.OpenStream(ctx, tor, fs.Arg(0), fs.Arg(1))
		if err != nil {
			return err
		}
		defer s.Close()
		var w io.Writer = g.Stdout
		if *output != "-" {
			f, err := os.Create(*output)
			if err != nil {
				return fmt.Errorf("create output: %w", err)
			}
			defer f.Close()
			w = f
		}
		if _, err := io.Copy(w, s); err != nil {
			return fmt.Errorf("stream from bridge: %w", err)
		}
		printAnswer(g.Stderr, s.Links())
		return nil
	}
	files, err := node.RequestRetry(ctx, tor, fs.Arg(0), fs.Arg(1), func(done, size int64) {
		if !g.JSON {
			fmt.Fprintf(g.Stderr, "\rbridge: %s of %s   ", mib(done), mib(size))
		}
	})
	if err != nil {
		return err
	}
	if g.JSON {
		type file struct {
			Path string `json:"path,omitempty"`
			Link string `json:"link"`
		}
		out := struct {
			Link  string `json:"link,omitempty"` // a single-file torrent's
			Files []file `json:"files"`
		}{}
		for _, f := range files {
			out.Files = append(out.Files, file{f.Path, f.Link})
		}
		if len(files) == 1 && files[0].Path == "" {
			out.Link = files[0].Link
		}
		return json.NewEncoder(g.Stdout).Encode(out)
	}
	printAnswer(g.Stdout, files)
	return nil
}

// printAnswer prints a bridge node's answer: the link of a single-file
// torrent, or a "LINK<tab>PATH" line per file of a multi-file torrent, the
// path with its control characters escaped (it is a stranger's).
func printAnswer(w io.Writer, files []node.FileLink) {
	for _, f := range files {
		if f.Path == "" {
			fmt.Fprintf(w, "%s\n", f.Link)
		} else {
			fmt.Fprintf(w, "%s\t%s\n", f.Link, f.DisplayPath())
		}
	}
}

// playFromBridge serves a bridge node's stream of magnet on a local
// address until interrupted: each request of the player opens its own
// stream from the node (a seek reconnects from the piece it needs).
func playFromBridge(ctx context.Context, g *globals, tor onion.Transport, addr, magnet, player string) error {
	first, err := node.OpenStream(ctx, tor, addr, magnet)
	if err != nil {
		return err
	}
	f := largestFile(first.Files())
	first.Close()
	name := path.Base(f.Path)
	if !g.JSON {
		fmt.Fprintf(g.Stderr, "%s: %s, streaming from the bridge node.\n", node.Printable(name), mib(f.Length))
	}
	stop, err := serveMedia(ctx, g, name, player, func(rctx context.Context) (stream.Media, error) {
		s, err := node.OpenStream(rctx, tor, addr, magnet)
		if err != nil {
			return nil, err
		}
		if _, err := s.Seek(f.Offset, io.SeekStart); err != nil {
			s.Close()
			return nil, fmt.Errorf("stream from bridge: %w", err)
		}
		return node.NewSection(s, f.Offset, f.Length, name), nil
	})
	if err != nil {
		return err
	}
	defer stop()
	<-ctx.Done()
	return nil
}

// largestFile returns the largest of a torrent's files: the video of a
// torrent that also holds subtitles or a sample.
func largestFile(files []bridge.File) bridge.File {
	var f bridge.File
	for _, x := range files {
		if x.Length > f.Length {
			f = x
		}
	}
	return f
}

// sizeFlag is a byte count given as a number with an optional K, M, G or T
// suffix (powers of 1024).
type sizeFlag int64

// String writes the size with the largest suffix that divides it.
func (f *sizeFlag) String() string {
	n := int64(*f)
	for i := len("KMGT"); i > 0; i-- {
		if n != 0 && n%(1<<(10*i)) == 0 {
			return strconv.FormatInt(n>>(10*i), 10) + "KMGT"[i-1:i]
		}
	}
	return strconv.FormatInt(n, 10)
}

func (f *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*f = sizeFlag(n)
	return nil
}

func parseSize(v string) (int64, error) {
	s := strings.ToUpper(strings.TrimSpace(v))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "IB"), "B")
	shift := 0
	if s != "" {
		if i := strings.IndexByte("KMGT", s[len(s)-1]); i >= 0 {
			shift = 10 * (i + 1)
			s = s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("bad size %q (want e.g. 500M or 20G)", v)
	}
	return n << shift, nil
}

// bridgeLinksFor turns the argument of 'hydre get' into hydre links: a
// hydre link is returned as it is; a magnet link is sent to the hidden
// bridge node at bridgeAddr, which leeches it and answers with a hydre
// link per file (its progress is shown on stderr). Tor is started for the
// request and closed before returning, so the caller can open its engine.
func bridgeLinksFor(ctx context.Context, g *globals, arg, bridgeAddr string) ([]node.FileLink, error) {
	isMagnet := strings.HasPrefix(arg, "magnet:")
	switch {
	case bridgeAddr == "" && !isMagnet:
		return []node.FileLink{{Link: arg}}, nil
	case bridgeAddr == "":
		return nil, usageError{"a magnet link is fetched through a hidden bridge node: add --bridge ONION"}
	case !isMagnet:
		return nil, usageError{"--bridge takes a magnet link, not a hydre link"}
	}
	if _, _, err := onion.ParseAddress(bridgeAddr); err != nil {
		return nil, usageError{fmt.Sprintf("--bridge: %v", err)}
	}
	tor, err := g.startTor(ctx, !g.JSON)
	if err != nil {
		return nil, fmt.Errorf("start tor: %w", err)
	}
	defer tor.Close()
	shown := false
	files, err := node.RequestRetry(ctx, tor, bridgeAddr, arg, func(done, size int64) {
		if !g.JSON {
			fmt.Fprintf(g.Stderr, "\rbridge: %s of %s   ", mib(done), mib(size))
			shown = true
		}
	})
	if shown {
		fmt.Fprintln(g.Stderr)
	}
	return files, err
}
