package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	bridgenode "github.com/hydre-p2p/hydre/bridge/node"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm"
)

func runBridgeServe(ctx context.Context, g *globals, fs flags, args []string) error {
	var cf clientFlags
	cf.register(fs.FlagSet)
	var limits nodeLimits
	limits.register(fs.FlagSet)
	var peers stringsFlag
	fs.Var(&peers, "peer", "also try the BitTorrent peer at `ip:port` for every request, e.g. your own seedbox (repeatable)")
	var auth stringsFlag
	fs.Var(&auth, "client-auth", "only users holding the private half of this x25519 `PUBKEY` may connect (repeatable)")
	if err := fs.parse(args); err != nil {
		return err
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
	ncfg := bridgenode.Config{Leech: cfg, Engine: n.Engine, Transport: n.Tor, Service: svc,
		StateDir: bridgeDir(g), Peers: peers, Logger: g.Logger}
	limits.apply(&ncfg)
	bn, err := bridgenode.New(ctx, ncfg)
	if err != nil {
		return err
	}
	defer bn.Close()
	if g.JSON {
		json.NewEncoder(g.Stdout).Encode(map[string]string{"address": bn.Address()})
	} else {
		fmt.Fprintf(g.Stdout, "%s\n", bn.Address())
	}
	statusPath := filepath.Join(bridgeDir(g), "status.json")
	defer os.Remove(statusPath)
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- bn.Serve(serveCtx) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-served:
			return err
		case <-n.Engine.TransportLost(): // exit non-zero: a supervisor starts it again
			return torLost(ctx, n.Engine)
		case <-tick.C:
			st := bridgeStatus{PID: os.Getpid(), Updated: time.Now().UTC(), Counters: bn.Client().Counters()}
			if err := writeJSONFile(statusPath, st); err != nil {
				g.Logger.Warn("write bridge status", "err", err)
			}
		}
	}
}
