package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm"
)

const (
	protoPrefix    = "hydre-bridge 1 "
	maxRequestLine = 4 << 10
	progressEvery  = 2 * time.Second
	// The defaults of a node's limits; docs/bridge.md says why each.
	defaultCacheTTL    = 30 * 24 * time.Hour
	defaultMaxFiles    = 100
	defaultMaxContents = 256
	defaultDiskQuota   = 64 << 30
	defaultMaxSize     = 8 << 30
	defaultMaxFetches  = 4
	// defaultMetadataTimeout bounds the wait for a torrent's metadata: a
	// torrent that anyone seeds gives it within seconds to a minute.
	defaultMetadataTimeout = 3 * time.Minute
	// defaultWriteTimeout bounds each write to a requester: a reader that
	// takes nothing for that long (a stalled or paused player) is dropped.
	defaultWriteTimeout = 2 * time.Minute
	// sequentialReadahead is how far ahead of the in-order position a
	// node's leech asks for pieces first.
	sequentialReadahead = 4 << 20
	// spareIdentities is how many onion identities the node has its
	// engine keep published ahead of time (Engine.KeepSpareIdentities), so
	// that a new content is reachable the moment its link goes out: two,
	// for two requests within the few seconds tor takes to publish the
	// next one. docs/bridge.md says why this keeps contents unlinkable.
	spareIdentities = 2
)

// Config configures a hidden bridge node.
type Config struct {
	// Leech configures the node's discreet client; its limits apply to
	// requests: MaxTorrents (fetches at once) 0 is 4 here, MaxSize 0 is
	// 8 GiB here, and a negative value is no limit. New sets its Admit to
	// the node's checks and its DirPerInfoHash (two torrents never share a
	// file).
	Leech bridge.Config
	// Engine seals and shares each finished download as hydre content.
	Engine *swarm.Engine
	// Transport and Service give the onion service users connect to
	// (Service.ClientAuth restricts it to chosen users).
	Transport onion.Transport
	Service   onion.ServiceConfig
	// StateDir holds the cache of links by info-hash (secret: 0600).
	StateDir string
	// CacheTTL is how long a content stays shared after it was last asked
	// for; 0 is 30 days. Expired contents are removed with their data at
	// start and then at least hourly.
	CacheTTL time.Duration
	// DiskQuota bounds the bytes of torrent data the node keeps (finished
	// contents plus the fetches in progress); 0 is 64 GiB, negative no
	// limit. A fetch that does not fit evicts expired contents, then the
	// least recently asked for; if it still does not fit it is refused
	// with ErrNoSpace before any piece is requested.
	DiskQuota int64
	// MaxContents bounds the contents the node shares at once, one per
	// cached torrent (a multi-file torrent is one collection), each with an
	// onion service of its own unless the engine uses one identity; 0 is
	// 256, negative no limit. A
	// fetch that does not fit evicts as DiskQuota does, else is refused
	// with ErrTooManyContents.
	MaxContents int
	// MaxFiles bounds the files of a torrent the node fetches (shared as
	// one collection); 0 is 100, and never more than MaxContents. A
	// torrent of more files is refused with ErrTooManyFiles before any
	// piece is requested.
	MaxFiles int
	// MetadataTimeout bounds the wait for a torrent's metadata; 0 is 3
	// minutes. A requester then gets ErrNoMetadata and the slot is freed:
	// an info-hash that no one seeds, or of no torrent at all, holds a
	// slot of Leech.MaxTorrents no longer than this.
	MetadataTimeout time.Duration
	// WriteTimeout bounds each write to a requester (progress lines, the
	// answer, a stream's data); 0 is 2 minutes. A requester that reads
	// nothing for that long is dropped, and its slot freed.
	WriteTimeout time.Duration
	// Peers are "ip:port" BitTorrent peers tried for every request besides
	// the DHT (an operator's own seedbox, say). A requester's own x.pe
	// peers are never used.
	Peers []string
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
}

// Node is a hidden bridge node: it accepts magnet links from hydre users,
// leeches them with the discreet client and answers with a hydre link to
// the same data, shared by the node's engine.
type Node struct {
	cfg    Config
	log    *slog.Logger
	client *bridge.Client
	l      onion.Listener

	mu       sync.Mutex
	cache    map[string]cachedLink // by hex info-hash
	inflight map[string]*fetchCall
	reserved map[string]reservation // held by admitted fetches in progress, by hex info-hash
	saveMu   sync.Mutex             // serializes writes of links.json
	wg       sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// New starts the node's discreet client and opens its onion service. The
// caller runs Serve, then Close.
func New(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Leech.DataDir == "" || cfg.Engine == nil || cfg.Transport == nil || cfg.StateDir == "" {
		return nil, errors.New("new bridge node: leech data dir, engine, transport and state dir are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = defaultCacheTTL
	}
	cfg.DiskQuota = orDefault(cfg.DiskQuota, defaultDiskQuota)
	cfg.MaxContents = orDefault(cfg.MaxContents, defaultMaxContents)
	cfg.Leech.MaxSize = orDefault(cfg.Leech.MaxSize, defaultMaxSize)
	cfg.Leech.MaxTorrents = orDefault(cfg.Leech.MaxTorrents, defaultMaxFetches)
	if cfg.MaxFiles <= 0 {
		cfg.MaxFiles = defaultMaxFiles
	}
	if cfg.MaxContents > 0 {
		cfg.MaxFiles = min(cfg.MaxFiles, cfg.MaxContents)
	}
	if cfg.MetadataTimeout <= 0 {
		cfg.MetadataTimeout = defaultMetadataTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = defaultWriteTimeout
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("new bridge node: %w", err)
	}
	if _, err := parsePeers(cfg.Peers); err != nil {
		return nil, fmt.Errorf("new bridge node: %w", err)
	}
	n := &Node{cfg: cfg, log: cfg.Logger, cache: map[string]cachedLink{}, inflight: map[string]*fetchCall{},
		reserved: map[string]reservation{}}
	n.cfg.Leech.DirPerInfoHash = true
	n.cfg.Leech.Admit = n.admit
	if err := n.loadCache(); err != nil {
		return nil, err
	}
	c, err := bridge.New(ctx, n.cfg.Leech)
	if err != nil {
		return nil, fmt.Errorf("new bridge node: %w", err)
	}
	n.client = c
	n.expire()
	n.removeOrphans()
	// Published beside the node's own service, not after it.
	cfg.Engine.KeepSpareIdentities(spareIdentities)
	l, err := cfg.Transport.Listen(ctx, cfg.Service)
	if err != nil {
		cfg.Engine.KeepSpareIdentities(0) // a node that failed to start publishes nothing more
		c.Close()
		return nil, fmt.Errorf("listen for bridge requests: %w", err)
	}
	n.l = l
	return n, nil
}

// Address returns the node's onion address ("<56>.onion:port").
func (n *Node) Address() string { return n.l.Address() }

// Client returns the node's discreet client (its Counters, its Blocklist).
func (n *Node) Client() *bridge.Client { return n.client }

// Serve answers requests until ctx ends, then waits for the requests in
// progress to stop.
func (n *Node) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { n.l.Close() })
	defer stop()
	defer n.wg.Wait()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.expireEvery(ctx)
	}()
	n.resumeGrowing(ctx)
	for {
		c, err := n.l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept bridge request: %w", err)
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.handle(ctx, c)
		}()
	}
}

// Close closes the onion service and the discreet client; call it after
// Serve returned (or instead of Serve).
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.l.Close()
		n.closeErr = n.client.Close()
	})
	return n.closeErr
}

// inUse reports the hex info-hashes of the torrents the client leeches or
// reads: their data stays on disk.
func (n *Node) inUse() map[string]bool {
	ts := n.client.Torrents()
	out := make(map[string]bool, len(ts))
	for _, t := range ts {
		out[t.InfoHash()] = true
	}
	return out
}

// torrentDir is where the data of the torrent of hex info-hash key is.
func (n *Node) torrentDir(key string) string { return filepath.Join(n.cfg.Leech.DataDir, key) }

// orDefault returns def for 0, 0 (no limit) for a negative v, else v.
func orDefault[T int | int64](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// parsePeers checks "ip:port" peer addresses.
func parsePeers(addrs []string) ([]netip.AddrPort, error) {
	out := make([]netip.AddrPort, 0, len(addrs))
	for _, a := range addrs {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			return nil, fmt.Errorf("peer %q: %w", a, err)
		}
		out = append(out, ap)
	}
	return out, nil
}
