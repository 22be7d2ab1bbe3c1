package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hydre-p2p/hydre/bridge"
)

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
