package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm"
)

func runBridgeServe(ctx context.Context, g *globals, args []string) error {
	fs := newFlagSet(g, "bridge serve", "[options]",
		"Run a hidden bridge node: an onion service (its address is printed) that leeches the\n"+
			"magnet links hydre users send it with the discreet client, and answers each with a\n"+
			"hydre link per file of the torrent, shared by this node. Users ask with\n"+
			"'hydre get MAGNET --bridge ADDRESS' or 'hydre bridge request ADDRESS MAGNET'.")
	var cf clientFlags
	cf.register(fs)
	var maxSize, quota sizeFlag
	fs.Var(&maxSize, "max-size", "refuse torrents over `SIZE` (bytes, or with a K, M, G or T suffix; 0: no limit)")
	fs.Var(&quota, "disk-quota", "keep at most `SIZE` of torrent data, evicting the least recently asked for (0: no limit)")
	maxFetches := fs.Int("max-fetches", 4, "torrents leeched at once (0: no limit)")
	maxFiles := fs.Int("max-files", 100, "refuse torrents of more than `N` files (each file is shared as a content of its own)")
	cacheDays := fs.Int("cache-days", 180, "stop sharing and delete a content not asked for in `DAYS`")
	var peers stringsFlag
	fs.Var(&peers, "peer", "also try the BitTorrent peer at `ip:port` for every request, e.g. your own seedbox (repeatable)")
	var auth stringsFlag
	fs.Var(&auth, "client-auth", "only users holding the private half of this x25519 `PUBKEY` may connect (repeatable)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	if *maxFetches < 0 || *cacheDays <= 0 || *maxFiles <= 0 {
		return usageError{"--max-fetches must be >= 0, --cache-days and --max-files > 0"}
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
	cfg.DirPerInfoHash = true
	cfg.MetadataDir = filepath.Join(bridgeDir(g), "metadata")
	cfg.MaxSize = int64(maxSize)
	cfg.MaxTorrents = *maxFetches
	key, err := onion.LoadOrCreateKey(filepath.Join(bridgeDir(g), "service.key"))
	if err != nil {
		return err
	}
	svc.Key = key
	n, err := g.startCLINode(ctx, &swarm.Config{DataDir: g.engineDir(),
		DownloadDir: filepath.Join(bridgeDir(g), "downloads"), Reshare: true}, !g.JSON)
	if err != nil {
		return err
	}
	defer n.Close()
	e, tor := n.Engine, n.Tor
	c, err := bridge.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	node, err := bridge.NewNode(ctx, bridge.NodeConfig{Client: c, Engine: e, Transport: tor, Service: svc,
		StateDir: bridgeDir(g), CacheTTL: time.Duration(*cacheDays) * 24 * time.Hour, DiskQuota: int64(quota),
		MaxFiles: *maxFiles, Peers: peers, Logger: g.Logger})
	if err != nil {
		return err
	}
	if g.JSON {
		json.NewEncoder(g.Stdout).Encode(map[string]string{"address": node.Address()})
	} else {
		fmt.Fprintf(g.Stdout, "%s\n", node.Address())
	}
	statusPath := filepath.Join(bridgeDir(g), "status.json")
	defer os.Remove(statusPath)
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- node.Serve(serveCtx) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-served:
			return err
		case <-e.TransportLost(): // exit non-zero: a supervisor starts it again
			return torLost(ctx, e)
		case <-tick.C:
			st := bridgeStatus{PID: os.Getpid(), Updated: time.Now().UTC(), Counters: c.Counters()}
			if err := writeJSONFile(statusPath, st); err != nil {
				g.Logger.Warn("write bridge status", "err", err)
			}
		}
	}
}
