package main

import (
	"flag"
	"time"

	"github.com/hydre-p2p/hydre/bridge/node"
)

// nodeLimits are the limits of 'hydre bridge serve': what one node spends
// on strangers' requests. The defaults are those of package bridge/node;
// docs/bridge.md says why each. On the command line 0 means no limit.
type nodeLimits struct {
	maxSize, quota                sizeFlag
	maxFetches, maxFiles, maxCont int
	cacheDays                     int
	metadataWait, writeWait       time.Duration
}

// Defaults shown by -h and used when a flag is not given.
const (
	defaultNodeMaxSize   = 8 << 30
	defaultNodeQuota     = 64 << 30
	defaultNodeFetches   = 4
	defaultNodeFiles     = 100
	defaultNodeContents  = 256
	defaultNodeCacheDays = 30
	defaultNodeMetadata  = 3 * time.Minute
	defaultNodeWrite     = 2 * time.Minute
)

func (l *nodeLimits) register(fs *flag.FlagSet) {
	l.maxSize, l.quota = defaultNodeMaxSize, defaultNodeQuota
	fs.Var(&l.maxSize, "max-size", "refuse torrents over `SIZE` (bytes, or with a K, M, G or T suffix; 0: no limit)")
	fs.Var(&l.quota, "disk-quota", "keep at most `SIZE` of torrent data, evicting the least recently asked for (0: no limit)")
	fs.IntVar(&l.maxFetches, "max-fetches", defaultNodeFetches, "torrents leeched at once (0: no limit)")
	fs.IntVar(&l.maxFiles, "max-files", defaultNodeFiles, "refuse torrents of more than `N` files (each file is shared as a content of its own)")
	fs.IntVar(&l.maxCont, "max-contents", defaultNodeContents,
		"share at most `N` contents at once, one per file of every cached torrent, each an onion service (0: no limit)")
	fs.IntVar(&l.cacheDays, "cache-days", defaultNodeCacheDays, "stop sharing and delete a content not asked for in `DAYS`")
	fs.DurationVar(&l.metadataWait, "metadata-timeout", defaultNodeMetadata, "give up a torrent whose metadata no peer gave within `D`")
	fs.DurationVar(&l.writeWait, "write-timeout", defaultNodeWrite, "drop a requester that reads nothing for `D`")
}

// check validates the values given.
func (l *nodeLimits) check() error {
	if l.maxFetches < 0 || l.maxCont < 0 || l.cacheDays <= 0 || l.maxFiles <= 0 || l.metadataWait <= 0 || l.writeWait <= 0 {
		return usageError{"--max-fetches and --max-contents must be >= 0; --cache-days, --max-files, --metadata-timeout and --write-timeout > 0"}
	}
	return nil
}

// apply sets the limits in cfg (the node's "no limit" is negative).
func (l *nodeLimits) apply(cfg *node.Config) {
	noLimit := func(v int64) int64 {
		if v == 0 {
			return -1
		}
		return v
	}
	cfg.Leech.MaxSize = noLimit(int64(l.maxSize))
	cfg.Leech.MaxTorrents = int(noLimit(int64(l.maxFetches)))
	cfg.DiskQuota = noLimit(int64(l.quota))
	cfg.MaxContents = int(noLimit(int64(l.maxCont)))
	cfg.MaxFiles = l.maxFiles
	cfg.CacheTTL = time.Duration(l.cacheDays) * 24 * time.Hour
	cfg.MetadataTimeout = l.metadataWait
	cfg.WriteTimeout = l.writeWait
}
