package node

import (
	"net"
	"net/netip"
	"testing"

	"github.com/hydre-p2p/hydre/bridge"
	"github.com/hydre-p2p/hydre/bridge/internal/btlab"
)

// leechConfig completes the configuration of a test node's discreet
// client: its data in a temporary folder unless given, its logs in the
// test's, and nothing but loopback reached.
func leechConfig(t testing.TB, cfg bridge.Config) bridge.Config {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = btlab.Logger(t)
	}
	cfg.DialFrom = "127.0.0.1"
	// Tests never reach a public DHT router: look-ups start from loopback
	// lab nodes only.
	for _, b := range cfg.DHTBootstrap {
		host, _, err := net.SplitHostPort(b)
		if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !ip.IsLoopback() {
			t.Fatalf("test client bootstraps its DHT from %q: only loopback addresses are allowed", b)
		}
	}
	if cfg.DHTBind == "" {
		cfg.DHTBind = "127.0.0.1:0"
	}
	cfg.AllowLocalPeers = true // the lab's peers are on 127.0.0.1
	return cfg
}

// checkDiscreet fails on any discretion counter that is not zero.
func checkDiscreet(t *testing.T, c bridge.Counters) {
	t.Helper()
	for name, v := range map[string]int64{
		"bytes uploaded": c.BytesUploaded, "adverts sent": c.AdvertsSent, "announces sent": c.AnnouncesSent,
		"queries answered": c.QueriesAnswered, "incoming accepted": c.IncomingAccepted,
	} {
		if v != 0 {
			t.Errorf("%s = %d, want 0", name, v)
		}
	}
}

// leechedBytes returns the verified bytes of the torrent c leeches (the
// tests' nodes leech one at a time), 0 when none runs.
func leechedBytes(c *bridge.Client) int64 {
	var n int64
	for _, t := range c.Torrents() {
		n = t.BytesCompleted()
	}
	return n
}
