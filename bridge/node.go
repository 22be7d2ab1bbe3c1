package bridge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm"
)

// The bridge request protocol, spoken over an onion service connection
// (docs/bridge.md):
//
//	user -> node: "hydre-bridge 1 <magnet>\n"            (one line, at most 4 KiB)
//	node -> user: "wait <verified> <size>\n"              (every 2 s while leeching; size 0 until known)
//	              then "link <hydre link>\n" or "error <reason>\n", and the node closes.
//
// or, to stream the data while the node leeches it (stream.go):
//
//	user -> node: "hydre-bridge 1 stream <first piece> <magnet>\n"
//	node -> user: "info <n>\n" and the n bytes of the info dictionary, then the
//	              torrent's data from the first piece to the end, then the
//	              "link"/"error" line.
const (
	bridgeProto     = "hydre-bridge 1 "
	maxRequestLine  = 4 << 10
	progressEvery   = 2 * time.Second
	defaultCacheTTL = 180 * 24 * time.Hour // Torrage kept entries six months
)

// NodeConfig configures a hidden bridge node.
type NodeConfig struct {
	// Client leeches; its limits (MaxTorrents, MaxSize) apply to requests.
	Client *Client
	// Engine seals and shares each finished download as hydre content.
	Engine *swarm.Engine
	// Transport and Service give the onion service users connect to
	// (Service.ClientAuth restricts it to chosen users).
	Transport onion.Transport
	Service   onion.ServiceConfig
	// StateDir holds the cache of links by info-hash (secret: 0600).
	StateDir string
	// CacheTTL is how long a content stays shared after it was last asked
	// for; 0 is six months. Expired contents are removed with their data
	// at start and then at least hourly.
	CacheTTL time.Duration
	// DiskQuota bounds the bytes of torrent data the node keeps (finished
	// contents plus the fetches in progress); 0: no limit. A fetch that
	// does not fit evicts expired contents, then the least recently asked
	// for; if it still does not fit it is refused with ErrNoSpace before
	// any piece is requested.
	DiskQuota int64
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
	cfg NodeConfig
	log *slog.Logger
	l   onion.Listener

	mu       sync.Mutex
	cache    map[string]cachedLink // by hex info-hash
	inflight map[string]*fetchCall
	reserved map[string]int64 // bytes held by admitted fetches in progress, by hex info-hash
	saveMu   sync.Mutex       // serializes writes of links.json
	wg       sync.WaitGroup
}

type fetchCall struct {
	done chan struct{}
	link string
	err  error
}

// NewNode opens the node's onion service.
func NewNode(ctx context.Context, cfg NodeConfig) (*Node, error) {
	if cfg.Client == nil || cfg.Engine == nil || cfg.Transport == nil || cfg.StateDir == "" {
		return nil, errors.New("new bridge node: client, engine, transport and state dir are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = defaultCacheTTL
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("new bridge node: %w", err)
	}
	if _, err := parsePeers(cfg.Peers); err != nil {
		return nil, fmt.Errorf("new bridge node: %w", err)
	}
	n := &Node{cfg: cfg, log: cfg.Logger, cache: map[string]cachedLink{}, inflight: map[string]*fetchCall{},
		reserved: map[string]int64{}}
	if err := n.loadCache(); err != nil {
		return nil, err
	}
	n.expire()
	n.removeOrphans()
	cfg.Client.mu.Lock()
	cfg.Client.admit = n.admit
	cfg.Client.mu.Unlock()
	l, err := cfg.Transport.Listen(ctx, cfg.Service)
	if err != nil {
		return nil, fmt.Errorf("listen for bridge requests: %w", err)
	}
	n.l = l
	return n, nil
}

// Address returns the node's onion address ("<56>.onion:port").
func (n *Node) Address() string { return n.l.Address() }

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

func (n *Node) handle(ctx context.Context, c net.Conn) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReaderSize(io.LimitReader(c, maxRequestLine), maxRequestLine).ReadString('\n')
	if err != nil {
		fmt.Fprintf(c, "error bad request\n")
		return
	}
	c.SetReadDeadline(time.Time{})
	magnet, ok := strings.CutPrefix(strings.TrimSpace(line), strings.TrimSpace(bridgeProto)+" ")
	if rest, stream := strings.CutPrefix(magnet, "stream "); ok && stream {
		n.handleStream(ctx, c, rest)
		return
	}
	if !ok || !strings.HasPrefix(magnet, "magnet:") {
		fmt.Fprintf(c, "error want a magnet link\n")
		return
	}
	m, err := metainfo.ParseMagnetUri(magnet)
	if err != nil {
		fmt.Fprintf(c, "error bad magnet link\n")
		return
	}
	link, err := n.fetch(ctx, m, func(done, size int64) error {
		_, err := fmt.Fprintf(c, "wait %d %d\n", done, size)
		return err
	})
	if err != nil {
		n.log.Info("bridge request failed", "info_hash", m.InfoHash.HexString(), "err", err)
		fmt.Fprintf(c, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	fmt.Fprintf(c, "link %s\n", link)
}

// startFetch returns the cached link for m, or the running fetch of m,
// starting it if needed: concurrent requests for one info-hash share it.
func (n *Node) startFetch(ctx context.Context, m metainfo.Magnet) (string, *fetchCall) {
	key := m.InfoHash.HexString()
	n.mu.Lock()
	if cl, ok := n.cache[key]; ok {
		cl.LastAsked = time.Now().UTC()
		n.cache[key] = cl
		n.mu.Unlock()
		n.saveCache()
		return cl.Link, nil
	}
	call, running := n.inflight[key]
	if !running {
		call = &fetchCall{done: make(chan struct{})}
		n.inflight[key] = call
	}
	n.mu.Unlock()
	if !running {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			var path string
			var size int64
			call.link, path, size, call.err = n.leechAndShare(ctx, "magnet:?xt=urn:btih:"+key+dnParam(m))
			n.mu.Lock()
			delete(n.inflight, key)
			delete(n.reserved, key)
			if call.err == nil {
				n.cache[key] = cachedLink{Link: call.link, LastAsked: time.Now().UTC(), ID: n.idOf(call.link),
					Path: path, Size: size}
			}
			n.mu.Unlock()
			if call.err == nil {
				n.saveCache()
			}
			close(call.done)
		}()
	}
	return "", call
}

// fetch returns the link for m, from the cache or by leeching and sharing,
// reporting progress meanwhile.
func (n *Node) fetch(ctx context.Context, m metainfo.Magnet, progress func(done, size int64) error) (string, error) {
	link, call := n.startFetch(ctx, m)
	if call == nil {
		return link, nil
	}
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case <-call.done:
			return call.link, call.err
		case <-ctx.Done():
			return "", ctx.Err()
		case <-tick.C:
			done, size := n.progressOf(m.InfoHash)
			if err := progress(done, size); err != nil {
				return "", fmt.Errorf("requester gone: %w", err)
			}
		}
	}
}

// dnParam keeps only the display name of a user's magnet: trackers, web
// seeds and sources are never used, peers (x.pe) from a stranger neither.
func dnParam(m metainfo.Magnet) string {
	if m.DisplayName == "" {
		return ""
	}
	return "&dn=" + strings.NewReplacer("&", "", "#", "").Replace(m.DisplayName)
}

func (n *Node) progressOf(ih metainfo.Hash) (done, size int64) {
	n.cfg.Client.mu.Lock()
	defer n.cfg.Client.mu.Unlock()
	for t := range n.cfg.Client.torrents {
		if t.ih == ih && t.HasInfo() {
			return t.BytesCompleted(), t.Length()
		}
	}
	return 0, 0
}

// leechAndShare leeches magnet and shares its file on the engine; it
// returns the link, the file's path and its size. The client calls admit
// before the first piece is requested, so WaitInfo returns the node's
// refusals (too many files, disk quota).
func (n *Node) leechAndShare(ctx context.Context, magnet string) (link, path string, size int64, err error) {
	t, err := n.cfg.Client.Add(ctx, magnet)
	if err != nil {
		return "", "", 0, err
	}
	defer t.Drop()
	if err := t.AddPeers(n.cfg.Peers...); err != nil {
		return "", "", 0, err
	}
	if err := t.WaitInfo(ctx); err != nil {
		return "", "", 0, err
	}
	files := t.Files()
	if len(files) != 1 {
		return "", "", 0, multiFileError(len(files))
	}
	select {
	case <-t.Done():
	case <-ctx.Done():
		return "", "", 0, ctx.Err()
	}
	path = filepath.Join(t.Dir(), filepath.FromSlash(files[0].Path))
	st, err := n.cfg.Engine.Share(ctx, path, swarm.ShareOptions{})
	if err != nil {
		return "", "", 0, fmt.Errorf("share fetched data: %w", err)
	}
	return st.Link, path, t.Length(), nil
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

func (n *Node) idOf(link string) string {
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		return ""
	}
	return l.ID.String()
}

// ErrUnreachable is wrapped by Request and OpenStream when the node's onion
// service cannot be reached (a fresh service takes seconds to be published:
// callers may retry).
var ErrUnreachable = errors.New("bridge node unreachable")

// Request asks the bridge node at addr for magnet and returns the hydre
// link it answers with; progress, if not nil, gets the node's leech
// progress (size is 0 until the node has the metadata).
func Request(ctx context.Context, tr onion.Transport, addr, magnet string, progress func(done, size int64)) (string, error) {
	if !strings.HasPrefix(magnet, "magnet:") || len(magnet) > maxRequestLine-len(bridgeProto)-1 || strings.ContainsAny(magnet, "\r\n") {
		return "", errors.New("bridge request: want a magnet link of at most 4 KiB")
	}
	c, err := tr.Dial(ctx, addr, onion.DialOptions{Isolation: "bridge"})
	if err != nil {
		return "", fmt.Errorf("bridge request: %w: %w", ErrUnreachable, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if _, err := fmt.Fprintf(c, "%s%s\n", bridgeProto, magnet); err != nil {
		return "", fmt.Errorf("bridge request: %w", err)
	}
	r := bufio.NewReaderSize(io.LimitReader(c, 1<<20), maxRequestLine)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return "", fmt.Errorf("bridge request: node closed without an answer: %w", err)
		}
		word, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch word {
		case "wait":
			a, b, _ := strings.Cut(rest, " ")
			done, err1 := strconv.ParseInt(a, 10, 64)
			size, err2 := strconv.ParseInt(b, 10, 64)
			if err1 == nil && err2 == nil && progress != nil {
				progress(done, size)
			}
		case "link":
			if _, err := hcrypto.ParseLink(rest); err != nil {
				return "", fmt.Errorf("bridge request: node sent a bad link: %w", err)
			}
			return rest, nil
		case "error":
			return "", fmt.Errorf("bridge node: %s", rest)
		default:
			return "", errors.New("bridge request: node speaks another protocol")
		}
	}
}
