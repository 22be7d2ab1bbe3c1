package bridge

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
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
//	              then the answer, or "error <reason>\n", and the node closes.
//
// The answer is "link <hydre link>\n" for a single-file torrent; for a
// torrent of several files it is one "link <hydre link> <quoted path>\n" per
// file (its path in the torrent, Go-quoted) and then "end <count>\n".
//
// or, to stream the data while the node leeches it (stream.go):
//
//	user -> node: "hydre-bridge 1 stream <first piece> <magnet>\n"
//	node -> user: "info <n>\n" and the n bytes of the info dictionary, then the
//	              torrent's data from the first piece to the end, then the
//	              answer or the "error" line.
const (
	bridgeProto     = "hydre-bridge 1 "
	maxRequestLine  = 4 << 10
	progressEvery   = 2 * time.Second
	defaultCacheTTL = 180 * 24 * time.Hour // Torrage kept entries six months
	defaultMaxFiles = 100
	// sequentialReadahead is how far ahead of the in-order position a
	// node's leech asks for pieces first.
	sequentialReadahead = 4 << 20
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
	// MaxFiles bounds the files of a torrent the node fetches (each file is
	// shared as a content, with an onion service of its own unless the
	// engine uses one identity); 0 is 100. A torrent of more files is
	// refused with ErrTooManyFiles before any piece is requested.
	MaxFiles int
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
	ready     chan struct{} // closed once files is set (the links exist), or at done
	readyOnce sync.Once
	done      chan struct{}
	files     []FileLink
	err       error
}

func (c *fetchCall) markReady() { c.readyOnce.Do(func() { close(c.ready) }) }

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
	if cfg.MaxFiles <= 0 {
		cfg.MaxFiles = defaultMaxFiles
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
	files, err := n.fetch(ctx, m, func(done, size int64) error {
		_, err := fmt.Fprintf(c, "wait %d %d\n", done, size)
		return err
	})
	if err != nil {
		n.log.Info("bridge request failed", "info_hash", m.InfoHash.HexString(), "err", err)
		fmt.Fprintf(c, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	writeAnswer(c, files)
}

// startFetch returns the cached answer for m, or the running fetch of m,
// starting it if needed: concurrent requests for one info-hash share it.
func (n *Node) startFetch(ctx context.Context, m metainfo.Magnet) ([]FileLink, *fetchCall) {
	key := m.InfoHash.HexString()
	n.mu.Lock()
	if cl, ok := n.cache[key]; ok {
		cl.LastAsked = time.Now().UTC()
		n.cache[key] = cl
		if !cl.Growing {
			n.mu.Unlock()
			n.saveCache()
			return cl.answer(), nil
		}
		// A leech whose links are out: join it, or resume it after a stop.
	}
	call, running := n.inflight[key]
	if !running {
		call = &fetchCall{ready: make(chan struct{}), done: make(chan struct{})}
		n.inflight[key] = call
	}
	n.mu.Unlock()
	if !running {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			cl, err := n.leechAndShare(ctx, "magnet:?xt=urn:btih:"+key+dnParam(m), key, call)
			n.mu.Lock()
			delete(n.inflight, key)
			delete(n.reserved, key)
			var lost cachedLink
			switch {
			case err == nil:
				cl.LastAsked = time.Now().UTC()
				if prev, ok := n.cache[key]; ok && prev.LastAsked.After(cl.LastAsked) {
					cl.LastAsked = prev.LastAsked
				}
				n.cache[key] = cl
				call.files = cl.answer()
			case ctx.Err() == nil && cl.Files != nil:
				// The links are out but the data will not come: withdraw them.
				lost = cl
				delete(n.cache, key)
			}
			// A node that stops keeps a growing entry: it resumes at start.
			call.err = err
			n.mu.Unlock()
			if lost.Files != nil {
				n.log.Warn("bridge fetch failed after its links were given out", "info_hash", key, "err", err)
				n.removeContent(key, lost)
			}
			n.saveCache()
			call.markReady()
			close(call.done)
		}()
	}
	return nil, call
}

// resumeGrowing restarts, at start, the leeches whose links were given out
// before the node stopped.
func (n *Node) resumeGrowing(ctx context.Context) {
	n.mu.Lock()
	var keys []string
	for k, cl := range n.cache {
		if cl.Growing {
			keys = append(keys, k)
		}
	}
	n.mu.Unlock()
	for _, k := range keys {
		ih, err := hex.DecodeString(k)
		if err != nil || len(ih) != 20 {
			continue
		}
		n.log.Info("resuming a bridge fetch whose links were given out", "info_hash", k)
		n.startFetch(ctx, metainfo.Magnet{InfoHash: metainfo.Hash(ih)})
	}
}

// fetch returns the answer for m, from the cache or by leeching and
// sharing, reporting progress meanwhile.
func (n *Node) fetch(ctx context.Context, m metainfo.Magnet, progress func(done, size int64) error) ([]FileLink, error) {
	files, call := n.startFetch(ctx, m)
	if call == nil {
		return files, nil
	}
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case <-call.ready:
			n.mu.Lock()
			files := call.files
			n.mu.Unlock()
			if files != nil {
				return files, nil
			}
			<-call.done
			return nil, call.err
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
			done, size := n.progressOf(m.InfoHash)
			if err := progress(done, size); err != nil {
				return nil, fmt.Errorf("requester gone: %w", err)
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

// leechAndShare leeches magnet and shares each of its files on the engine
// as a live share: the links are given out (call becomes ready) as soon as
// the metadata is known and admitted, and each chunk is added as the pieces
// under it are verified. The client calls admit before the first piece is
// requested, so WaitInfo returns the node's refusals (too many files, disk
// quota). A growing cache entry of key (the node stopped mid-leech) is
// resumed with its links.
func (n *Node) leechAndShare(ctx context.Context, magnet, key string, call *fetchCall) (cachedLink, error) {
	t, err := n.cfg.Client.Add(ctx, magnet)
	if err != nil {
		return cachedLink{}, err
	}
	defer t.Drop()
	if err := t.AddPeers(n.cfg.Peers...); err != nil {
		return cachedLink{}, err
	}
	if err := t.WaitInfo(ctx); err != nil {
		return cachedLink{}, err
	}
	files := t.Files()
	n.mu.Lock()
	prev, resuming := n.cache[key]
	n.mu.Unlock()
	var (
		cl      cachedLink
		feeders []*swarm.LiveShare
	)
	if resuming {
		cl, feeders, err = n.reattach(prev, files)
		if err != nil {
			n.log.Warn("resuming bridge fetch: sharing again under new links", "info_hash", key, "err", err)
			n.unshare(prev)
			resuming = false
		}
	}
	if !resuming {
		cl, feeders, err = n.shareLive(ctx, t, files)
		if err != nil {
			return cachedLink{}, err
		}
	}
	defer func() {
		for _, ls := range feeders {
			if ls != nil {
				if err := ls.Close(); err != nil {
					n.log.Warn("close live share", "err", err)
				}
			}
		}
	}()
	cl.Growing = true
	cl.LastAsked = time.Now().UTC()
	n.mu.Lock()
	n.cache[key] = cl
	delete(n.reserved, key) // the entry counts its files' sizes now
	call.files = cl.answer()
	n.mu.Unlock()
	n.saveCache()
	call.markReady()
	// Leech in order, a few MiB ahead: users play from the start while
	// the rest comes; a chunk is served only once every piece under it is
	// in, and pieces in random order would complete almost none early.
	seqCtx, stopSeq := context.WithCancel(ctx)
	defer stopSeq()
	r := t.NewReader(seqCtx, sequentialReadahead)
	defer r.Close()
	go io.Copy(io.Discard, r) // ends with seqCtx
	if err := n.feed(ctx, t, files, feeders); err != nil {
		return cl, err
	}
	cl.Growing = false
	return cl, nil
}

// shareLive creates a live share for each file of t.
func (n *Node) shareLive(ctx context.Context, t *Torrent, files []File) (cachedLink, []*swarm.LiveShare, error) {
	multi := t.t.Info().IsDir()
	var (
		cl      cachedLink
		feeders []*swarm.LiveShare
	)
	fail := func(err error) (cachedLink, []*swarm.LiveShare, error) {
		for _, ls := range feeders {
			ls.Close()
		}
		n.unshare(cl)
		return cachedLink{}, nil, err
	}
	for _, f := range files {
		path := filepath.Join(t.Dir(), filepath.FromSlash(f.Path))
		if rel, err := filepath.Rel(t.Dir(), path); err != nil || !filepath.IsLocal(rel) {
			return fail(fmt.Errorf("share fetched data: file path %q leaves the torrent's folder", f.Path))
		}
		// The live share needs the file now; the client writes into it in
		// place, at its full length (sparse until the pieces come: the
		// client maps files of their final size), and never truncates it.
		// The live share reads only the pieces the client verified.
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fail(fmt.Errorf("share fetched data: %w", err))
		}
		fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return fail(fmt.Errorf("share fetched data: %w", err))
		}
		if fi, err := fh.Stat(); err == nil && fi.Size() != f.Length {
			err = fh.Truncate(f.Length)
			if err != nil {
				fh.Close()
				return fail(fmt.Errorf("share fetched data: %w", err))
			}
		}
		fh.Close()
		ls, err := n.cfg.Engine.ShareLive(ctx, path, swarm.LiveOptions{Size: f.Length,
			MediaType: mime.TypeByExtension(filepath.Ext(path))})
		if err != nil {
			return fail(fmt.Errorf("share fetched data: %s: %w", f.Path, err))
		}
		st := ls.Status()
		feeders = append(feeders, ls)
		cf := cachedFile{Link: st.Link, ID: st.ID.String(), Path: path, Size: f.Length}
		if multi {
			cf.TorrentPath = f.Path
		}
		cl.Files = append(cl.Files, cf)
	}
	return cl, feeders, nil
}

// reattach finds the live shares of a growing entry after a restart; a
// file whose share is complete already has no feeder.
func (n *Node) reattach(prev cachedLink, files []File) (cachedLink, []*swarm.LiveShare, error) {
	if len(prev.Files) != len(files) {
		return cachedLink{}, nil, fmt.Errorf("%d files cached, the torrent has %d", len(prev.Files), len(files))
	}
	feeders := make([]*swarm.LiveShare, len(files))
	for i, f := range prev.Files {
		id, err := hcrypto.ParseContentID(f.ID)
		if err != nil {
			return cachedLink{}, nil, err
		}
		ls, err := n.cfg.Engine.LiveShare(id)
		if errors.Is(err, swarm.ErrNotLive) {
			continue
		}
		if err != nil {
			for _, ls := range feeders {
				if ls != nil {
					ls.Close()
				}
			}
			return cachedLink{}, nil, err
		}
		feeders[i] = ls
	}
	return prev, feeders, nil
}

// feed adds each chunk of the files' live shares once every piece under it
// is verified, until all are added.
func (n *Node) feed(ctx context.Context, t *Torrent, files []File, feeders []*swarm.LiveShare) error {
	type chunk struct {
		ls          *swarm.LiveShare
		i           int
		first, last int // pieces under it
	}
	pl := t.PieceLength()
	var left []chunk
	for k, ls := range feeders {
		if ls == nil {
			continue
		}
		for i := range ls.NumChunks() {
			if ls.Has(i) {
				continue
			}
			off, size := ls.ChunkRange(i)
			start := files[k].Offset + off
			c := chunk{ls: ls, i: i, first: int(start / pl), last: int((start + int64(max(size, 1)) - 1) / pl)}
			if size == 0 {
				c.first, c.last = 0, -1 // an empty file: nothing to wait for
			}
			left = append(left, c)
		}
	}
	done := make([]bool, t.NumPieces()) // pieces seen complete (they stay so)
	complete := func(p int) bool {
		if !done[p] {
			done[p] = t.PieceComplete(p)
		}
		return done[p]
	}
	verified := t.Verified(ctx)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		kept := left[:0]
		for _, c := range left {
			ready := true
			for p := c.first; p <= c.last && ready; p++ {
				ready = complete(p)
			}
			if !ready {
				kept = append(kept, c)
				continue
			}
			if err := c.ls.Add(c.i); err != nil {
				return fmt.Errorf("share fetched data: %w", err)
			}
		}
		left = kept
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-verified:
			for drained := false; !drained; { // one scan for a burst of pieces
				select {
				case <-verified:
				default:
					drained = true
				}
			}
		case <-tick.C: // pieces verified before the subscription
		}
	}
}

// unshare stops sharing the contents of cl; their data stays.
func (n *Node) unshare(cl cachedLink) {
	for _, f := range cl.Files {
		if id, err := hcrypto.ParseContentID(f.ID); err == nil {
			if err := n.cfg.Engine.Remove(id, false); err != nil {
				n.log.Warn("stop sharing bridge content", "err", err)
			}
		}
	}
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

// ErrUnreachable is wrapped by Request and OpenStream when the node's onion
// service cannot be reached (a fresh service takes seconds to be published:
// callers may retry).
var ErrUnreachable = errors.New("bridge node unreachable")

// Request asks the bridge node at addr for magnet and returns its answer:
// one hydre link per file of the torrent. progress, if not nil, gets the
// node's leech progress (size is 0 until the node has the metadata).
func Request(ctx context.Context, tr onion.Transport, addr, magnet string, progress func(done, size int64)) ([]FileLink, error) {
	if !strings.HasPrefix(magnet, "magnet:") || len(magnet) > maxRequestLine-len(bridgeProto)-1 || strings.ContainsAny(magnet, "\r\n") {
		return nil, errors.New("bridge request: want a magnet link of at most 4 KiB")
	}
	c, err := tr.Dial(ctx, addr, onion.DialOptions{Isolation: "bridge"})
	if err != nil {
		return nil, fmt.Errorf("bridge request: %w: %w", ErrUnreachable, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if _, err := fmt.Fprintf(c, "%s%s\n", bridgeProto, magnet); err != nil {
		return nil, fmt.Errorf("bridge request: %w", err)
	}
	r := bufio.NewReaderSize(io.LimitReader(c, 4<<20), maxRequestLine)
	var ans answerReader
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("bridge request: node closed without a complete answer: %w", err)
		}
		files, err := ans.add(line)
		switch {
		case files != nil:
			return files, nil
		case err == nil:
			continue
		case !errors.Is(err, errNotAnswer):
			return nil, fmt.Errorf("bridge request: %w", err)
		}
		word, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		if word != "wait" {
			return nil, errors.New("bridge request: node speaks another protocol")
		}
		a, b, _ := strings.Cut(rest, " ")
		done, err1 := strconv.ParseInt(a, 10, 64)
		size, err2 := strconv.ParseInt(b, 10, 64)
		if err1 == nil && err2 == nil && progress != nil {
			progress(done, size)
		}
	}
}
