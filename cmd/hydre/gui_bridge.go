package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hydre-p2p/hydre/bridge"
	bridgenode "github.com/hydre-p2p/hydre/bridge/node"
	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/gui"
	"github.com/hydre-p2p/hydre/onion"
	"github.com/hydre-p2p/hydre/swarm"
)

// guiBridge gives the app's Bridge screen the discreet BitTorrent client
// (the same one as 'hydre bridge fetch'): a magnet link is leeched on this
// computer, then each of its files is shared as hydre content, so it shows
// in the Share screen with a link.
type guiBridge struct {
	g      *globals
	log    *slog.Logger
	ctx    context.Context // ends at Close
	cancel context.CancelFunc

	mu       sync.Mutex
	client   *bridge.Client
	torrents []*bridge.Torrent
	off      chan struct{}   // closed when the current client is turned off
	engine   *swarm.Engine   // the app's current engine, nil while connecting
	tor      onion.Transport // the engine's tor, for asking bridge nodes
	wg       sync.WaitGroup
}

func newGUIBridge(ctx context.Context, g *globals) *guiBridge {
	ctx, cancel := context.WithCancel(ctx)
	return &guiBridge{g: g, log: g.Logger, ctx: ctx, cancel: cancel}
}

// setEngine tells the bridge which engine shares what it fetched, and the
// tor it runs over.
func (b *guiBridge) setEngine(e *swarm.Engine, tor onion.Transport) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.engine, b.tor = e, tor
}

// Request asks the hidden bridge node at addr for magnet over the app's
// tor, as 'hydre get MAGNET --bridge ADDR' does, and returns its link.
func (b *guiBridge) Request(ctx context.Context, addr, magnet string, progress func(done, size int64)) ([]gui.RemoteFile, error) {
	if _, _, err := hcrypto.ParseOnion(addr); err != nil {
		return nil, fmt.Errorf("bridge node address: %w", err)
	}
	b.mu.Lock()
	tor := b.tor
	b.mu.Unlock()
	if tor == nil {
		return nil, errors.New("not connected to Tor yet")
	}
	files, err := bridgenode.RequestRetry(ctx, tor, addr, magnet, progress)
	if err != nil {
		return nil, err
	}
	out := make([]gui.RemoteFile, len(files))
	for i, f := range files {
		out[i] = gui.RemoteFile{Link: f.Link, Dir: f.LocalDir()}
	}
	return out, nil
}

// SetEnabled starts or stops the discreet client.
func (b *guiBridge) SetEnabled(ctx context.Context, on bool) error {
	b.mu.Lock()
	c := b.client
	if !on && c != nil {
		close(b.off)
		b.client, b.torrents, b.off = nil, nil, nil
	}
	b.mu.Unlock()
	if !on {
		if c != nil {
			return c.Close()
		}
		return nil
	}
	if c != nil {
		return nil
	}
	dir := bridgeDir(b.g)
	if err := os.MkdirAll(filepath.Join(dir, "downloads"), 0o700); err != nil {
		return fmt.Errorf("create the bridge folder: %w", err)
	}
	bl, err := bridge.NewBlocklist(filepath.Join(dir, "blocklist.p2p"))
	if err != nil {
		return err
	}
	cfg := bridge.Config{DataDir: filepath.Join(dir, "downloads"), Logger: b.log, Blocklist: bl}
	for _, n := range strings.Split(publicDHTRouters, ",") {
		cfg.DHTBootstrap = append(cfg.DHTBootstrap, n)
	}
	c, err = bridge.New(b.ctx, cfg)
	if err != nil {
		return err
	}
	b.mu.Lock()
	if b.client != nil { // enabled twice at once: keep the first
		b.mu.Unlock()
		return c.Close()
	}
	b.client, b.off = c, make(chan struct{})
	b.mu.Unlock()
	return nil
}

// Fetch leeches a magnet link and shares its files once complete.
func (b *guiBridge) Fetch(ctx context.Context, magnet string) error {
	b.mu.Lock()
	c, off := b.client, b.off
	b.mu.Unlock()
	if c == nil {
		return errors.New("bridge mode is off: turn it on first")
	}
	t, err := c.Add(ctx, magnet)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.torrents = append(b.torrents, t)
	b.mu.Unlock()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		select {
		case <-b.ctx.Done():
			return
		case <-off:
			return
		case <-t.Done():
		}
		if err := b.share(t); err != nil {
			b.log.Warn("bridge: share fetched torrent", "err", err)
		}
	}()
	return nil
}

// share publishes a complete torrent on hydre: its file, or its folder as
// one collection (one link).
func (b *guiBridge) share(t *bridge.Torrent) error {
	b.mu.Lock()
	e := b.engine
	b.mu.Unlock()
	if e == nil {
		return errors.New("not connected")
	}
	root := filepath.Join(bridgeDir(b.g), "downloads")
	if files := t.Files(); t.MultiFile() && len(files) > 0 {
		top, _, _ := strings.Cut(path.Clean("/" + files[0].Path)[1:], "/")
		dir := filepath.Join(root, filepath.FromSlash(top))
		if _, err := e.ShareFiles(b.ctx, []string{dir}, swarm.ShareOptions{}); err != nil {
			return fmt.Errorf("share %s: %w", top, err)
		}
		return nil
	}
	var errs []error
	for _, f := range t.Files() {
		p := filepath.Join(root, filepath.FromSlash(path.Clean("/"+f.Path)))
		if _, err := e.Share(b.ctx, p, swarm.ShareOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("share %s: %w", path.Base(f.Path), err))
		}
	}
	return errors.Join(errs...)
}

// Status returns the client's counters and fetches.
func (b *guiBridge) Status() gui.BridgeStatus {
	b.mu.Lock()
	c := b.client
	ts := append([]*bridge.Torrent(nil), b.torrents...)
	b.mu.Unlock()
	if c == nil {
		return gui.BridgeStatus{}
	}
	k := c.Counters()
	st := gui.BridgeStatus{
		Enabled: true, Peers: k.Peers, Downloaded: k.BytesDownloaded,
		Uploaded: k.BytesUploaded, AnnouncesSent: k.AnnouncesSent, QueriesAnswered: k.QueriesAnswered,
		AdvertsSent: k.AdvertsSent, IncomingAccepted: k.IncomingAccepted,
	}
	for _, t := range ts {
		f := gui.BridgeFetch{Name: t.Name()}
		if f.Name == "" {
			f.Name = t.InfoHash()
		}
		if t.HasInfo() {
			f.Size, f.Done = t.Length(), t.BytesCompleted()
		}
		st.Fetches = append(st.Fetches, f)
	}
	return st
}

// Close stops the client and waits for pending shares.
func (b *guiBridge) Close() error {
	b.cancel()
	err := b.SetEnabled(context.Background(), false)
	b.wg.Wait()
	return err
}
