package node

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

// TestNodeDefaults checks the limits a node starts with: safe defaults for
// zero values (docs/bridge.md says why each), no limit for negative ones,
// and never more files per torrent than contents in all.
func TestNodeDefaults(t *testing.T) {
	tr := memnet.New().Node("bridge")
	e := openEngine(t, tr, "bridge")
	const none = 0
	for _, tc := range []struct {
		name string
		in   Config
		want Config // the fields checked
	}{
		{"defaults", Config{},
			Config{Leech: bridge.Config{MaxSize: 8 << 30, MaxTorrents: 4}, DiskQuota: 64 << 30, MaxContents: 256, MaxFiles: 100,
				CacheTTL: 30 * 24 * time.Hour, MetadataTimeout: 3 * time.Minute, WriteTimeout: 2 * time.Minute}},
		{"no limits", Config{Leech: bridge.Config{MaxSize: -1, MaxTorrents: -1}, DiskQuota: -1, MaxContents: -1, MaxFiles: 5000},
			Config{Leech: bridge.Config{MaxSize: none, MaxTorrents: none}, DiskQuota: none, MaxContents: none, MaxFiles: 5000,
				CacheTTL: 30 * 24 * time.Hour, MetadataTimeout: 3 * time.Minute, WriteTimeout: 2 * time.Minute}},
		{"files within contents", Config{MaxContents: 10, MaxFiles: 50, CacheTTL: time.Hour, MetadataTimeout: time.Second, WriteTimeout: time.Second},
			Config{Leech: bridge.Config{MaxSize: 8 << 30, MaxTorrents: 4}, DiskQuota: 64 << 30, MaxContents: 10, MaxFiles: 10,
				CacheTTL: time.Hour, MetadataTimeout: time.Second, WriteTimeout: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := tc.in
			cfg.Leech.DataDir = filepath.Join(dir, "leech")
			cfg.Leech = leechConfig(t, cfg.Leech)
			cfg.Engine, cfg.Transport, cfg.StateDir = e, tr, filepath.Join(dir, "node")
			n, err := New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			got, want := n.cfg, tc.want
			if got.Leech.MaxSize != want.Leech.MaxSize || got.Leech.MaxTorrents != want.Leech.MaxTorrents ||
				got.DiskQuota != want.DiskQuota || got.MaxContents != want.MaxContents || got.MaxFiles != want.MaxFiles ||
				got.CacheTTL != want.CacheTTL || got.MetadataTimeout != want.MetadataTimeout || got.WriteTimeout != want.WriteTimeout {
				t.Errorf("limits:\n got MaxSize %d MaxTorrents %d DiskQuota %d MaxContents %d MaxFiles %d CacheTTL %v metadata %v write %v\nwant MaxSize %d MaxTorrents %d DiskQuota %d MaxContents %d MaxFiles %d CacheTTL %v metadata %v write %v",
					got.Leech.MaxSize, got.Leech.MaxTorrents, got.DiskQuota, got.MaxContents, got.MaxFiles, got.CacheTTL, got.MetadataTimeout, got.WriteTimeout,
					want.Leech.MaxSize, want.Leech.MaxTorrents, want.DiskQuota, want.MaxContents, want.MaxFiles, want.CacheTTL, want.MetadataTimeout, want.WriteTimeout)
			}
		})
	}
}
