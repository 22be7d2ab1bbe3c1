package bridge

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	// for; 0 is six months.
	CacheTTL time.Duration
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
	wg       sync.WaitGroup
}

type cachedLink struct {
	Link      string    `json:"link"` // secret
	ID        string    `json:"id"`
	LastAsked time.Time `json:"last_asked"`
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
	n := &Node{cfg: cfg, log: cfg.Logger, cache: map[string]cachedLink{}, inflight: map[string]*fetchCall{}}
	if err := n.loadCache(); err != nil {
		return nil, err
	}
	n.expire()
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
			call.link, call.err = n.leechAndShare(ctx, "magnet:?xt=urn:btih:"+key+dnParam(m))
			n.mu.Lock()
			delete(n.inflight, key)
			if call.err == nil {
				n.cache[key] = cachedLink{Link: call.link, LastAsked: time.Now().UTC(), ID: n.idOf(call.link)}
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

func (n *Node) leechAndShare(ctx context.Context, magnet string) (string, error) {
	t, err := n.cfg.Client.Add(ctx, magnet)
	if err != nil {
		return "", err
	}
	defer t.Drop()
	if err := t.WaitInfo(ctx); err != nil {
		return "", err
	}
	files := t.Files()
	if len(files) != 1 {
		return "", fmt.Errorf("torrents of %d files are not served yet", len(files))
	}
	select {
	case <-t.Done():
	case <-ctx.Done():
		return "", ctx.Err()
	}
	path := filepath.Join(t.Dir(), filepath.FromSlash(files[0].Path))
	st, err := n.cfg.Engine.Share(ctx, path, swarm.ShareOptions{})
	if err != nil {
		return "", fmt.Errorf("share fetched data: %w", err)
	}
	return st.Link, nil
}

func (n *Node) idOf(link string) string {
	l, err := hcrypto.ParseLink(link)
	if err != nil {
		return ""
	}
	return l.ID.String()
}

func (n *Node) cachePath() string { return filepath.Join(n.cfg.StateDir, "links.json") }

func (n *Node) loadCache() error {
	b, err := os.ReadFile(n.cachePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read bridge link cache: %w", err)
	}
	if err := json.Unmarshal(b, &n.cache); err != nil {
		return fmt.Errorf("read bridge link cache: %w", err)
	}
	for k := range n.cache {
		if _, err := hex.DecodeString(k); err != nil || len(k) != 40 {
			delete(n.cache, k)
		}
	}
	return nil
}

func (n *Node) saveCache() {
	n.mu.Lock()
	b, err := json.Marshal(n.cache)
	n.mu.Unlock()
	if err != nil {
		return
	}
	tmp := n.cachePath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err == nil {
		err = os.Rename(tmp, n.cachePath())
		if err != nil {
			n.log.Warn("save bridge link cache", "err", err)
		}
	}
}

// expire stops sharing (and deletes) contents not asked for within CacheTTL.
func (n *Node) expire() {
	n.mu.Lock()
	var old []cachedLink
	for k, cl := range n.cache {
		if time.Since(cl.LastAsked) > n.cfg.CacheTTL {
			old = append(old, cl)
			delete(n.cache, k)
		}
	}
	n.mu.Unlock()
	for _, cl := range old {
		id, err := hcrypto.ParseContentID(cl.ID)
		if err != nil {
			continue
		}
		if err := n.cfg.Engine.Remove(id, true); err != nil {
			n.log.Warn("expire bridge content", "err", err)
		}
	}
	if len(old) > 0 {
		n.saveCache()
	}
}

// Request asks the bridge node at addr for magnet and returns the hydre
// link it answers with; progress, if not nil, gets the node's leech
// progress (size is 0 until the node has the metadata).
func Request(ctx context.Context, tr onion.Transport, addr, magnet string, progress func(done, size int64)) (string, error) {
	if !strings.HasPrefix(magnet, "magnet:") || len(magnet) > maxRequestLine-len(bridgeProto)-1 || strings.ContainsAny(magnet, "\r\n") {
		return "", errors.New("bridge request: want a magnet link of at most 4 KiB")
	}
	c, err := tr.Dial(ctx, addr, onion.DialOptions{Isolation: "bridge"})
	if err != nil {
		return "", fmt.Errorf("bridge request: dial node: %w", err)
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
