package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
)

// publicDHTRouters are the well-known DHT entry points used when --dht is
// not given (the bridge only sends them get_peers).
const publicDHTRouters = "router.bittorrent.com:6881,dht.transmissionbt.com:6881,router.utorrent.com:6881"

func runBridge(ctx context.Context, g *globals, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprintf(g.Stderr, "Usage: hydre bridge fetch|status [options]\n\n"+
			"fetch leeches a magnet link or .torrent file with the discreet BitTorrent client:\n"+
			"it announces nowhere, uploads nothing, answers no one and avoids spy peers.\n"+
			"status shows the counters of the fetch running on this data directory.\n"+
			"Run 'hydre bridge fetch -h' for its options.\n")
		if len(args) == 0 {
			return usageError{"missing subcommand (fetch or status)"}
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "fetch":
		return runBridgeFetch(ctx, g, args[1:])
	case "status":
		return runBridgeStatus(g, args[1:])
	default:
		return usageError{fmt.Sprintf("unknown subcommand %q (want fetch or status)", args[0])}
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
	fs := newFlagSet(g, "bridge fetch", "[options] MAGNET|FILE.torrent",
		"Leech a torrent discreetly into --dir and print where it is.")
	dir := fs.String("dir", "", "download into `DIR` (default: <data-dir>/bridge/downloads)")
	dhtNodes := fs.String("dht", publicDHTRouters, "comma-separated `host:port` DHT nodes to start look-ups from")
	noDHT := fs.Bool("no-dht", false, "no DHT look-up: use only --peer and the magnet's x.pe peers")
	var peers stringList
	fs.Var(&peers, "peer", "also try the peer at `ip:port` (repeatable)")
	blocklist := fs.String("blocklist", "", "PeerGuardian .p2p or eMule .dat `FILE`; spies found are appended (default: <data-dir>/bridge/blocklist.p2p)")
	fpName := fs.String("fingerprint", "transmission", "client to pass for: transmission or qbittorrent")
	noSpy := fs.Bool("no-spy-finder", false, "skip the decoy walks that catch spy DHT nodes")
	trustRef := fs.Bool("trust-referrers", false, "block only DHT nodes caught lying, not the nodes that led to them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"want exactly one magnet link or .torrent file"}
	}
	fp, ok := bridge.Fingerprints[*fpName]
	if !ok {
		return usageError{fmt.Sprintf("unknown --fingerprint %q (want transmission or qbittorrent)", *fpName)}
	}
	if *dir == "" {
		*dir = filepath.Join(bridgeDir(g), "downloads")
	}
	if *blocklist == "" {
		*blocklist = filepath.Join(bridgeDir(g), "blocklist.p2p")
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("create download dir: %w", err)
	}
	if err := os.MkdirAll(bridgeDir(g), 0o700); err != nil {
		return fmt.Errorf("create bridge dir: %w", err)
	}
	bl, err := bridge.NewBlocklist(*blocklist)
	if err != nil {
		return err
	}
	cfg := bridge.Config{DataDir: *dir, Logger: g.Logger, Fingerprint: fp, Blocklist: bl,
		Spy: bridge.SpyConfig{Disabled: *noSpy, TrustReferrers: *trustRef}}
	if !*noDHT {
		for _, n := range strings.Split(*dhtNodes, ",") {
			if n = strings.TrimSpace(n); n != "" {
				cfg.DHTBootstrap = append(cfg.DHTBootstrap, n)
			}
		}
	}
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
	for {
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
			st.Torrent.Path = filepath.Join(*dir, t.Name())
		}
		if err := writeJSONFile(statusPath, st); err != nil {
			g.Logger.Warn("write bridge status", "err", err)
		}
		if st.Torrent.Done {
			if g.JSON {
				return json.NewEncoder(g.Stdout).Encode(st)
			}
			fmt.Fprintf(g.Stdout, "%s\n", st.Torrent.Path)
			return nil
		}
		if !g.JSON {
			fmt.Fprintf(g.Stderr, "\r%s: %s of %s, %d peers   ", orDash(st.Torrent.Name),
				mib(st.Torrent.Completed), mib(st.Torrent.Size), st.Counters.Peers)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.Done():
		case <-tick.C:
		}
	}
}

func runBridgeStatus(g *globals, args []string) error {
	fs := newFlagSet(g, "bridge status", "", "Show the counters of the 'hydre bridge fetch' running on this data directory.")
	if err := fs.Parse(args); err != nil {
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
