package bridge

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
)

// Torrent is one torrent being leeched. Its data can be read while it
// arrives.
type Torrent struct {
	c      *Client
	t      *torrent.Torrent
	ih     [20]byte
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	peers    map[netip.AddrPort]struct{} // usable peers found so far
	refs     int                         // Adds not yet dropped, under c.mu
	failErr  error                       // why the torrent was given up, under mu
	err      error                       // why the info was refused, set before infoDone closes
	infoDone chan struct{}               // closed once the info is known and checked, or err is set
	infoOnce sync.Once
	failed   chan struct{} // closed when the torrent is given up (failErr set)
	failOnce sync.Once
}

// File is one file of a torrent.
type File struct {
	// Path is the file's path in the torrent, slash-separated, the
	// torrent's name first for a multi-file torrent: the real name, to
	// show and to put in a hydre content's header. It comes from a
	// stranger: never use it as a path on disk.
	Path string
	// DiskPath is where the file is written: Torrent.Dir joined with the
	// safe, bounded form of Path (see mapDiskPaths).
	DiskPath string
	Offset   int64 // within the torrent's data
	Length   int64
}

// Errors of Add and WaitInfo.
var (
	// ErrBadSource is wrapped when Add is given neither a magnet link nor a
	// readable .torrent file.
	ErrBadSource = errors.New("not a magnet link or torrent file")
	// ErrTooLarge is returned by WaitInfo for a torrent over Config.MaxSize.
	ErrTooLarge = errors.New("torrent larger than the bridge accepts")
	// ErrBusy is returned by Add when Config.MaxTorrents are being leeched.
	ErrBusy = errors.New("bridge busy: too many torrents at once")
	// ErrDiskFull is returned by WaitInfo for a torrent whose missing data
	// does not fit in the free space of Config.DataDir less
	// Config.KeepFree.
	ErrDiskFull = errors.New("not enough free disk space for the torrent")
)

// Add starts leeching a magnet URI or a .torrent file; for a torrent
// already being leeched it returns the same Torrent (each Add is matched by
// one Drop). Trackers (announce,
// announce-list, magnet tr=), web seeds (url-list) and metadata sources
// (magnet xs=, as=) are ignored; magnet x.pe= peers are used.
func (c *Client) Add(ctx context.Context, source string) (*Torrent, error) {
	if c.ctx.Err() != nil {
		return nil, ErrClosed
	}
	var (
		opts  torrent.AddTorrentOpts
		name  string
		peers []string
	)
	if strings.HasPrefix(source, "magnet:") {
		m, err := metainfo.ParseMagnetUri(source)
		if err != nil {
			return nil, fmt.Errorf("add torrent: %w: %v", ErrBadSource, err)
		}
		opts.InfoHash = m.InfoHash
		name = m.DisplayName
		peers = m.Params["x.pe"]
	} else {
		mi, err := metainfo.LoadFromFile(source)
		if err != nil {
			return nil, fmt.Errorf("add torrent: %w: %v", ErrBadSource, err)
		}
		if _, err := checkInfoBytes(mi.InfoBytes); err != nil {
			return nil, fmt.Errorf("add torrent %s: %w", filepath.Base(source), err)
		}
		opts.InfoHash = mi.HashInfoBytes()
		opts.InfoBytes = mi.InfoBytes
	}
	if opts.InfoHash == (metainfo.Hash{}) {
		return nil, fmt.Errorf("add torrent: %w: no v1 info-hash", ErrBadSource)
	}
	c.addMu.Lock()
	defer c.addMu.Unlock()
	c.mu.Lock()
	for bt := range c.torrents {
		if bt.ih == opts.InfoHash {
			bt.refs++
			c.mu.Unlock()
			if opts.InfoBytes != nil {
				bt.t.SetInfoBytes(opts.InfoBytes)
			}
			if err := bt.AddPeers(peers...); err != nil {
				c.log.Warn("ignoring bad x.pe peer", "err", err)
			}
			return bt, nil
		}
	}
	busy := c.cfg.MaxTorrents > 0 && len(c.torrents) >= c.cfg.MaxTorrents
	c.mu.Unlock()
	if busy {
		return nil, ErrBusy
	}
	if opts.InfoBytes == nil {
		opts.InfoBytes = c.cachedInfo(opts.InfoHash)
	}
	bt := &Torrent{c: c, ih: opts.InfoHash, done: make(chan struct{}), infoDone: make(chan struct{}),
		failed: make(chan struct{}), peers: map[netip.AddrPort]struct{}{}, refs: 1}
	var tctx context.Context
	tctx, bt.cancel = context.WithCancel(c.ctx)
	// Registered before the library has the torrent: its storage (the
	// info check) looks the torrent up as soon as the info is known.
	c.mu.Lock()
	c.torrents[bt] = struct{}{}
	c.mu.Unlock()
	t, _ := c.cl.AddTorrentOpt(opts)
	bt.t = t
	// The library's own answer to a write error stops the download and
	// then trips its own consistency check (a panic that takes the whole
	// process, a bridge node with every user on it); the torrent is given
	// up instead, with the error.
	t.SetOnWriteChunkError(func(err error) { bt.fail(fmt.Errorf("write torrent data: %w", err)) })
	if name != "" {
		t.SetDisplayName(name)
	}
	if err := bt.AddPeers(peers...); err != nil {
		c.log.Warn("ignoring bad x.pe peer", "err", err)
	}
	c.wg.Add(2)
	go bt.watchDone(tctx)
	go bt.findPeers(tctx)
	return bt, nil
}

// InfoHash returns the v1 info-hash in hex.
func (t *Torrent) InfoHash() string { return hex.EncodeToString(t.ih[:]) }

// Name returns the torrent's name (or the magnet's display name).
func (t *Torrent) Name() string { return t.t.Name() }

// WaitInfo waits for the torrent's metadata (immediate for a .torrent or
// a cached one). It returns ErrTooLarge for a torrent over Config.MaxSize,
// or the error of Config.Admit that refused it.
func (t *Torrent) WaitInfo(ctx context.Context) error {
	select {
	case <-t.infoDone:
		return t.err
	case <-ctx.Done():
		return fmt.Errorf("wait for torrent metadata: %w", ctx.Err())
	}
}

// finishInfo closes infoDone once, with err the reason the info was
// refused (nil: admitted).
func (t *Torrent) finishInfo(err error) {
	t.infoOnce.Do(func() {
		t.err = err
		close(t.infoDone)
	})
}

// Failed is closed when the torrent is given up (Err says why): invalid
// metadata, a refusal once the metadata is known, a storage error.
func (t *Torrent) Failed() <-chan struct{} { return t.failed }

// Err returns why the torrent was given up, or nil.
func (t *Torrent) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failErr
}

// fail gives the torrent up with err: WaitInfo returns it if the info was
// not yet admitted, Failed closes, and the torrent leaves the client. It
// may be called under the library's lock (from the storage), so the
// library's Drop runs apart.
func (t *Torrent) fail(err error) {
	t.failOnce.Do(func() {
		t.mu.Lock()
		t.failErr = err
		t.mu.Unlock()
		t.c.log.Warn("torrent given up", "infohash", t.InfoHash(), "err", err)
		t.c.meta.forget(t.ih)
		t.finishInfo(err)
		close(t.failed)
		t.cancel()
		t.c.mu.Lock()
		delete(t.c.torrents, t)
		t.c.mu.Unlock()
		if t.c.ctx.Err() == nil {
			t.c.wg.Add(1)
			go func() {
				defer t.c.wg.Done()
				if lt := t.t; lt != nil {
					if info := lt.Info(); info != nil {
						t.c.names.forget(info)
					}
					lt.Drop()
				}
			}()
		}
	})
}

// Dir returns the directory the torrent's files are written under.
func (t *Torrent) Dir() string { return t.c.torrentDir(t.InfoHash()) }

// torrentDir is where the torrent of hex info-hash key is written.
func (c *Client) torrentDir(key string) string {
	if c.cfg.DirPerInfoHash {
		return filepath.Join(c.cfg.DataDir, key)
	}
	return c.cfg.DataDir
}

// running reports the hex info-hashes of the torrents being leeched or read.
func (c *Client) running() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]bool, len(c.torrents))
	for t := range c.torrents {
		out[t.InfoHash()] = true
	}
	return out
}

// HasInfo reports whether the metadata is known.
func (t *Torrent) HasInfo() bool { return t.t.Info() != nil }

// Length returns the total size; valid after WaitInfo.
func (t *Torrent) Length() int64 { return t.t.Length() }

// PieceLength returns the piece size; valid after WaitInfo.
func (t *Torrent) PieceLength() int64 { return t.t.Info().PieceLength }

// NumPieces returns the number of pieces; valid after WaitInfo.
func (t *Torrent) NumPieces() int { return t.t.NumPieces() }

// Files lists the files; valid after WaitInfo.
func (t *Torrent) Files() []File {
	info := t.t.Info()
	if info == nil {
		return nil
	}
	disk := mapDiskPaths(info)
	var out []File
	for _, f := range t.t.Files() {
		fi := f.FileInfo()
		out = append(out, File{Path: f.Path(), Offset: f.Offset(), Length: f.Length(),
			DiskPath: filepath.Join(t.Dir(), filepath.FromSlash(disk[fileKey(fi.BestPath())]))})
	}
	return out
}

// DiskPath returns where the torrent is written: its file for a
// single-file torrent, its folder otherwise; valid after WaitInfo.
func (t *Torrent) DiskPath() string {
	return filepath.Join(t.Dir(), diskName(t.t.Info().BestName()))
}

// BytesCompleted returns how many bytes are verified.
func (t *Torrent) BytesCompleted() int64 { return t.t.BytesCompleted() }

// Done is closed when every piece is verified.
func (t *Torrent) Done() <-chan struct{} { return t.done }

// Verified sends the index of each piece as it is verified, until ctx ends
// (then the channel is closed). Pieces verified before the call are not
// sent: check BytesCompleted or read through NewReader for those.
func (t *Torrent) Verified(ctx context.Context) <-chan int {
	out := make(chan int, 64)
	sub := t.t.SubscribePieceStateChanges()
	t.c.wg.Add(1)
	go func() {
		defer t.c.wg.Done()
		defer close(out)
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.c.ctx.Done():
				return
			case ev, ok := <-sub.Values:
				if !ok {
					return
				}
				if ev.Complete && ev.Ok {
					select {
					case out <- ev.Index:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}()
	return out
}

// PieceComplete reports whether piece i is verified and in storage.
func (t *Torrent) PieceComplete(i int) bool { return t.t.PieceState(i).Complete }

// NewReader returns a reader over the whole torrent's data; reads block
// until the data is verified and return ctx's error once ctx ends. Reading
// drives which pieces are fetched first (readahead bytes ahead of the read
// position).
func (t *Torrent) NewReader(ctx context.Context, readahead int64) io.ReadSeekCloser {
	r := t.t.NewReader()
	r.SetContext(ctx)
	if readahead > 0 {
		r.SetReadahead(readahead)
	}
	return r
}

// AddPeers offers peers ("ip:port") known by other means than the DHT.
// Blocked addresses are skipped.
func (t *Torrent) AddPeers(addrs ...string) error {
	var errs []error
	var aps []netip.AddrPort
	for _, a := range addrs {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("peer %q: %w", a, err))
			continue
		}
		aps = append(aps, ap)
	}
	t.offer(aps)
	return errors.Join(errs...)
}

// Drop releases this Add of the torrent; the last one stops leeching and
// removes the torrent from the client (its data stays on disk).
func (t *Torrent) Drop() {
	t.c.mu.Lock()
	t.refs--
	last := t.refs <= 0
	t.c.mu.Unlock()
	if last {
		t.remove()
	}
}

func (t *Torrent) remove() {
	t.cancel()
	t.c.mu.Lock()
	delete(t.c.torrents, t)
	t.c.mu.Unlock()
	if info := t.t.Info(); info != nil {
		t.c.names.forget(info)
	}
	t.c.meta.forget(t.ih)
	t.t.Drop()
}

func (t *Torrent) offer(aps []netip.AddrPort) {
	var pis []torrent.PeerInfo
	t.mu.Lock()
	for _, ap := range aps {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if !ap.IsValid() || ap.Port() == 0 || t.c.bl.Blocked(ap.Addr()) || t.c.swarm.spyPeer(ap.Addr()) {
			continue
		}
		t.peers[ap] = struct{}{}
		pis = append(pis, peerInfo(ap))
	}
	t.mu.Unlock()
	if len(pis) > 0 {
		t.t.AddPeers(pis)
	}
}

// reoffer offers every known usable peer again: the library forgets a peer
// once dialed, and a peer dropped by the stall watchdog must be redialed.
func (t *Torrent) reoffer() {
	var pis []torrent.PeerInfo
	t.mu.Lock()
	for ap := range t.peers {
		if t.c.bl.Blocked(ap.Addr()) || t.c.swarm.spyPeer(ap.Addr()) {
			delete(t.peers, ap)
			continue
		}
		pis = append(pis, peerInfo(ap))
	}
	t.mu.Unlock()
	if len(pis) > 0 {
		t.t.AddPeers(pis)
	}
}

func peerInfo(ap netip.AddrPort) torrent.PeerInfo {
	return torrent.PeerInfo{
		Addr:   &net.TCPAddr{IP: ap.Addr().AsSlice(), Port: int(ap.Port())},
		Source: torrent.PeerSourceDhtGetPeers,
	}
}

func (t *Torrent) watchDone(ctx context.Context) {
	defer t.c.wg.Done()
	select {
	case <-ctx.Done():
		return
	case <-t.t.GotInfo():
	}
	if err := t.c.checkSize(t); err != nil {
		t.fail(err)
		return
	}
	if admit := t.c.cfg.Admit; admit != nil {
		if err := admit(t); err != nil {
			t.fail(err)
			return
		}
	}
	t.c.cacheInfo(t.ih, t.t.Metainfo().InfoBytes)
	t.finishInfo(nil)
	t.t.DownloadAll()
	select {
	case <-ctx.Done():
	case <-t.t.Complete().On():
		close(t.done)
	}
}

// findPeers runs the spy finder and DHT look-ups, and re-offers known peers
// until the torrent is complete or dropped.
func (t *Torrent) findPeers(ctx context.Context) {
	defer t.c.wg.Done()
	retry := time.NewTicker(t.c.cfg.PeerRetry)
	defer retry.Stop()
	nextLookup := time.Now()
	backoff := 2 * time.Second
	for {
		if len(t.c.cfg.DHTBootstrap) > 0 && !time.Now().Before(nextLookup) {
			n, err := t.c.discover(ctx, t)
			if err != nil && ctx.Err() == nil {
				t.c.log.Warn("dht look-up failed", "err", err)
			}
			if n == 0 {
				nextLookup = time.Now().Add(backoff)
				backoff = min(backoff*2, t.c.cfg.Spy.Recheck)
			} else {
				nextLookup = time.Now().Add(t.c.cfg.Spy.Recheck)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.done:
			return
		case <-retry.C:
			t.reoffer()
		}
	}
}
