package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	g "github.com/anacrolix/generics"
	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	pp "github.com/anacrolix/torrent/peer_protocol"
	"github.com/anacrolix/torrent/storage"
)

// Config configures a Client. The zero value of each field is a safe
// default, except DataDir which is required.
type Config struct {
	// DataDir holds the torrents' data and piece state.
	DataDir string
	// Logger receives the bridge's logs; nil discards them.
	Logger *slog.Logger
	// Fingerprint is the client the bridge passes for; zero: Transmission300.
	Fingerprint Fingerprint
	// DHTBootstrap lists "host:port" DHT nodes to start look-ups from.
	// Empty: no DHT (peers come only from Torrent.AddPeers and magnet
	// x.pe parameters).
	DHTBootstrap []string
	// DHTBind is the local UDP address of look-up sockets; "": the one
	// local address toward the first start node, in its family (not every
	// interface), on a fresh port per walk.
	DHTBind string
	// AllowLocalPeers lets the bridge dial peers the DHT hands out on
	// loopback, private, link-local or unspecified addresses; off, they are
	// dropped (a DHT node would use them to point the bridge at its own
	// network). A lab on 127.0.0.1 turns it on. Peers given by Add's
	// .torrent owner (AddPeers, x.pe) are not filtered.
	AllowLocalPeers bool
	// DialFrom is the local IP peer connections leave from; "" lets the
	// system choose.
	DialFrom string
	// Blocklist holds addresses never contacted; nil: an empty one kept in
	// memory (spies found are then not saved).
	Blocklist *Blocklist
	// Spy configures the spy finder.
	Spy SpyConfig
	// StallTimeout is how long a peer that unchoked us and that we are
	// interested in may send nothing before it is dropped and redialed;
	// 0 is 10s.
	StallTimeout time.Duration
	// PeerRetry is how often known, unblocked peers are offered again to
	// the library (it forgets a peer once dialed); 0 is 10s.
	PeerRetry time.Duration
	// MaxPeers bounds established connections per torrent; 0 is 30.
	MaxPeers int
	// DirPerInfoHash writes each torrent under DataDir/<hex info-hash>, so
	// two torrents with the same name never share files (a bridge node
	// wants this); otherwise under DataDir like common clients.
	DirPerInfoHash bool
	// MetadataDir caches each torrent's info dictionary by info-hash, so a
	// magnet asked for again needs no ut_metadata round; "" disables it.
	MetadataDir string
	// MaxSize refuses torrents larger than this many bytes (WaitInfo
	// returns ErrTooLarge and the torrent is dropped); 0: no limit.
	MaxSize int64
	// KeepFree is the space a torrent must leave free on DataDir's file
	// system: one whose missing data does not fit is refused once its
	// size is known (WaitInfo returns ErrDiskFull); 0 is 512 MiB, a
	// negative value skips the check.
	KeepFree int64
	// MaxTorrents bounds the torrents leeched at once (Add returns ErrBusy
	// beyond it); 0: no limit.
	MaxTorrents int
	// Admit, if set, runs once a torrent's metadata is known and before
	// any piece is requested; an error refuses the torrent (WaitInfo
	// returns it and the torrent is dropped). A bridge node checks its
	// limits here (bridge/node).
	Admit func(*Torrent) error
}

// Counters are the bridge's figures, counted at the socket and wire-filter
// level rather than taken from the library. BytesUploaded, AnnouncesSent,
// QueriesAnswered, AdvertsSent and IncomingAccepted must stay zero.
type Counters struct {
	Peers           int   // live peer connections
	BytesDownloaded int64 // piece payload received
	BytesIn         int64 // all bytes read from peer sockets
	BytesOut        int64 // all bytes written to peer sockets

	BytesUploaded    int64 // piece payload written to a peer socket
	AdvertsSent      int64 // Bitfield, Have, HaveAll or Suggest written to a peer socket
	AnnouncesSent    int64 // DHT announce_peer written to a socket (tracker and HTTP get no socket: AnnouncesStopped)
	QueriesAnswered  int64 // DHT replies or errors written
	IncomingAccepted int64 // connections accepted: the bridge opens no listener

	DHTGetPeersSent     int64 // get_peers queries written
	DHTQueriesDropped   int64 // inbound DHT queries dropped unseen
	MessagesSuppressed  int64 // peer messages the wire filter dropped or rewrote
	AnnouncesStopped    int64 // announces, tracker or HTTP requests stopped before any socket
	MetadataRejectsSent int64 // ut_metadata data answers turned into rejects
	RejectsReceived     int64 // Reject messages from peers
	StalledPeersDropped int64 // peers dropped by the stall watchdog
	SpiesFound          int64 // addresses the spy finder added to the blocklist
}

// Client is a discreet leech-only BitTorrent client.
type Client struct {
	cfg Config
	log *slog.Logger
	cl  *torrent.Client
	bl  *Blocklist
	fp  Fingerprint

	storage storage.ClientImplCloser // ours to close; nil when the library made its own
	names   diskNames                // safe on-disk names of the torrents' files
	meta    metadataWatch            // magnets' info dictionaries as peers send them

	wire wireStats
	dht  dhtStats

	stopped    atomic.Int64 // announces/HTTP stopped before a socket
	stalls     atomic.Int64
	spiesFound atomic.Int64

	// addMu serialises Add, so that two Adds of one info-hash share one
	// Torrent: the library hands both the same torrent, and two wrappers
	// would each drop it.
	addMu    sync.Mutex
	mu       sync.Mutex
	conns    map[*wireConn]netip.AddrPort
	torrents map[*Torrent]struct{}
	swarm    *swarmSeen

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// ErrClosed is returned by the methods of a closed Client.
var ErrClosed = errors.New("bridge client closed")

// New starts a Client. It opens no socket until a torrent is added.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("new bridge client: no data dir")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Fingerprint.PeerIDPrefix == "" {
		cfg.Fingerprint = Transmission300
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = 10 * time.Second
	}
	if cfg.PeerRetry <= 0 {
		cfg.PeerRetry = 10 * time.Second
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = 30
	}
	cfg.Spy = cfg.Spy.withDefaults()
	if cfg.Blocklist == nil {
		cfg.Blocklist, _ = NewBlocklist("")
	}
	fp, err := cfg.Fingerprint.forClient()
	if err != nil {
		return nil, fmt.Errorf("new bridge client: %w", err)
	}
	c := &Client{
		cfg:      cfg,
		log:      cfg.Logger,
		bl:       cfg.Blocklist,
		fp:       fp,
		conns:    map[*wireConn]netip.AddrPort{},
		torrents: map[*Torrent]struct{}{},
		swarm:    newSwarmSeen(),
	}
	cc, err := c.libraryConfig()
	if err != nil {
		return nil, err
	}
	cl, err := torrent.NewClient(cc)
	if err != nil {
		if c.storage != nil {
			c.storage.Close()
		}
		return nil, fmt.Errorf("start bittorrent client: %w", err)
	}
	fail := func(err error) (*Client, error) {
		cl.Close()
		if c.storage != nil {
			c.storage.Close()
		}
		return nil, err
	}
	if ls := cl.ListenAddrs(); len(ls) != 0 {
		return fail(fmt.Errorf("start bittorrent client: library opened %d listeners", len(ls)))
	}
	if len(cl.DhtServers()) != 0 {
		return fail(errors.New("start bittorrent client: library started its own dht"))
	}
	cl.AddDialer(&peerDialer{c: c})
	c.cl = cl
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	c.wg.Add(1)
	go c.watchStalls()
	return c, nil
}

// libraryConfig turns off every feature of anacrolix/torrent that would
// listen, announce, upload or reach anything but a peer we chose.
func (c *Client) libraryConfig() (*torrent.ClientConfig, error) {
	cc := torrent.NewDefaultClientConfig()
	cc.DataDir = c.cfg.DataDir
	// Pieces are written in place, not into "<name>.part" files renamed at
	// the end: a bridge node shares each file while it arrives (a live
	// share reads the pieces the client verified), so the file must keep
	// its name from the first piece on.
	opts := storage.NewFileClientOpts{ClientBaseDir: c.cfg.DataDir, UsePartFiles: g.Some(false),
		FilePathMaker: c.names.filePath}
	if c.cfg.DirPerInfoHash {
		opts.TorrentDirMaker = func(base string, _ *metainfo.Info, ih metainfo.Hash) string {
			return filepath.Join(base, ih.HexString())
		}
	}
	opts.Logger = c.log.With("part", "storage") // nil would mean slog.Default()
	c.storage = storage.NewFileOpts(opts)
	cc.DefaultStorage = checkedStorage{ClientImplCloser: c.storage, c: c}
	cc.Slogger = c.log.With("part", "anacrolix")
	// No socket of the library's own: with TCP, uTP and DHT all off,
	// NewClient opens nothing; peers are dialed through peerDialer.
	cc.DisableTCP = true
	cc.DisableUTP = true
	cc.NoDHT = true
	cc.ListenPort = 0
	cc.AcceptPeerConnections = false
	cc.DialForPeerConns = false
	cc.PeriodicallyAnnounceTorrentsToDht = false
	cc.DhtStartingNodes = nil
	cc.NoDefaultPortForwarding = true
	cc.DisablePEX = true
	cc.DisableTrackers = true
	cc.DisableWebtorrent = true
	cc.DisableWebseeds = true
	cc.NoUpload = true
	cc.Seed = false
	cc.DisableAggressiveUpload = true
	// Plain BitTorrent only, so the wire filter reads what goes out. Peers
	// that insist on encryption are out of reach; docs/bridge.md says so.
	cc.HeaderObfuscationPolicy = torrent.HeaderObfuscationPolicy{Preferred: false, RequirePreferred: true}
	cc.IPBlocklist = c.bl
	cc.EstablishedConnsPerTorrent = c.cfg.MaxPeers
	cc.Callbacks.ReadExtendedHandshake = limitPeerRequests
	// Anything HTTP or tracker-shaped is refused before a socket exists.
	refuse := func(context.Context, string, string) (net.Conn, error) {
		c.stopped.Add(1)
		return nil, errors.New("bridge: outgoing http and tracker traffic refused")
	}
	cc.HTTPDialContext = refuse
	cc.TrackerDialContext = refuse
	cc.TrackerListenPacket = func(string, string) (net.PacketConn, error) {
		c.stopped.Add(1)
		return nil, errors.New("bridge: udp tracker traffic refused")
	}
	cc.WebTransport = refusingTransport{c: c}
	cc.HTTPProxy = nil
	// Identity.
	pid, err := c.fp.PeerID()
	if err != nil {
		return nil, err
	}
	cc.PeerID = pid
	cc.Bep20 = c.fp.PeerIDPrefix
	cc.ExtendedHandshakeClientVersion = c.fp.Version
	// The DHT bit as the fingerprint's client sets it; the bridge answers
	// no DHT query and sends no PORT either way. Extended messages are
	// numbered as the client numbers them.
	cc.Extensions.SetBit(pp.ExtensionBitDht, c.fp.DHTBit)
	ltep := c.fp.ltepMap()
	cc.Callbacks.PeerConnAdded = append(cc.Callbacks.PeerConnAdded, func(pc *torrent.PeerConn) { pc.LocalLtepProtocolMap = ltep })
	cc.HTTPUserAgent = c.fp.UserAgent
	cc.UpnpID = c.fp.Name
	return cc, nil
}

type refusingTransport struct{ c *Client }

func (t refusingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.c.stopped.Add(1)
	if r.Body != nil {
		r.Body.Close()
	}
	return nil, errors.New("bridge: http refused")
}

// peerDialer is the only way the library reaches a peer.
type peerDialer struct{ c *Client }

func (d *peerDialer) DialerNetwork() string { return "tcp" }

func (d *peerDialer) Dial(ctx context.Context, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial peer: %w", err)
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if d.c.bl.Blocked(ap.Addr()) || d.c.swarm.spyPeer(ap.Addr()) {
		return nil, errors.New("dial peer: address blocked")
	}
	nd := net.Dialer{}
	if d.c.cfg.DialFrom != "" {
		ip, err := netip.ParseAddr(d.c.cfg.DialFrom)
		if err != nil {
			return nil, fmt.Errorf("dial peer: bad dial-from address: %w", err)
		}
		if ip.Is4() == ap.Addr().Is4() {
			nd.LocalAddr = &net.TCPAddr{IP: ip.AsSlice()}
		}
	}
	nc, err := nd.DialContext(ctx, "tcp", ap.String())
	if err != nil {
		return nil, err
	}
	wc := newWireConn(nc, &d.c.wire, d.c.fp)
	wc.onClose = d.c.forget
	wc.onMetadata = func(ih [20]byte, payload []byte) { d.c.onMetadataPiece(ih, payload) }
	d.c.mu.Lock()
	d.c.conns[wc] = ap
	d.c.mu.Unlock()
	return wc, nil
}

func (c *Client) forget(wc *wireConn) {
	c.mu.Lock()
	delete(c.conns, wc)
	c.mu.Unlock()
}

// watchStalls drops peers that stopped sending while we wait on them. The
// library then dials them again when they are offered anew (Torrent's
// peer loop does that), which is how a Transmission seeder that went quiet
// after a reject is recovered.
func (c *Client) watchStalls() {
	defer c.wg.Done()
	tick := time.NewTicker(min(c.cfg.StallTimeout/4, 2*time.Second))
	defer tick.Stop()
	reoffer := false
	for {
		select {
		case <-c.ctx.Done():
			return
		case now := <-tick.C:
			var stalled []*wireConn
			c.mu.Lock()
			for wc, ap := range c.conns {
				if wc.stalled(now, c.cfg.StallTimeout) || c.bl.Blocked(ap.Addr()) {
					stalled = append(stalled, wc)
				}
			}
			c.mu.Unlock()
			for _, wc := range stalled {
				c.stalls.Add(1)
				c.log.Info("dropping stalled or blocked peer", "peer", wc.RemoteAddr())
				wc.Close()
			}
			if reoffer {
				// A conn closed one tick ago is gone from the library by
				// now, so its peer can be dialed again.
				c.mu.Lock()
				ts := make([]*Torrent, 0, len(c.torrents))
				for t := range c.torrents {
					ts = append(ts, t)
				}
				c.mu.Unlock()
				for _, t := range ts {
					t.reoffer()
				}
			}
			reoffer = len(stalled) > 0
		}
	}
}

// Counters returns the current figures.
func (c *Client) Counters() Counters {
	c.mu.Lock()
	peers := len(c.conns)
	c.mu.Unlock()
	return Counters{
		Peers:               peers,
		BytesDownloaded:     c.wire.pieceBytesIn.Load(),
		BytesIn:             c.wire.bytesIn.Load(),
		BytesOut:            c.wire.bytesOut.Load(),
		BytesUploaded:       c.wire.pieceBytesOut.Load(),
		AdvertsSent:         c.wire.advertsOut.Load(),
		AnnouncesSent:       c.dht.announcesSent.Load(),
		QueriesAnswered:     c.dht.answersSent.Load(),
		IncomingAccepted:    0,
		DHTGetPeersSent:     c.dht.getPeersSent.Load(),
		DHTQueriesDropped:   c.dht.queriesDropped.Load(),
		MessagesSuppressed:  c.wire.suppressed.Load(),
		AnnouncesStopped:    c.stopped.Load() + c.dht.announcesCaught.Load(),
		MetadataRejectsSent: c.wire.metadataAnswersRejected.Load(),
		RejectsReceived:     c.wire.rejectsIn.Load(),
		StalledPeersDropped: c.stalls.Load(),
		SpiesFound:          c.spiesFound.Load(),
	}
}

// Blocklist returns the client's blocklist.
func (c *Client) Blocklist() *Blocklist { return c.bl }

// Close drops every torrent, closes every socket and waits for the
// client's goroutines. Later calls return the first call's result.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.close() })
	return c.closeErr
}

func (c *Client) close() error {
	c.cancel()
	c.wg.Wait()
	var errs []error
	for _, err := range c.cl.Close() {
		errs = append(errs, err)
	}
	if c.storage != nil {
		if err := c.storage.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	c.mu.Lock()
	conns := make([]io.Closer, 0, len(c.conns))
	for wc := range c.conns {
		conns = append(conns, wc)
	}
	c.mu.Unlock()
	for _, wc := range conns {
		wc.Close()
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close bridge client: %w", err)
	}
	return nil
}
