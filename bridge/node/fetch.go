package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/hydre-p2p/hydre/bridge"
	"github.com/hydre-p2p/hydre/swarm"
)

// The node's side of a fetch: one leech per info-hash however many users
// ask for it, its progress, its links given out as soon as the metadata is
// admitted and the contents' onion services are up (reachable.go).

type fetchCall struct {
	ready     chan struct{} // closed once files is set (the links exist), or at done
	readyOnce sync.Once
	done      chan struct{}
	files     []FileLink
	err       error
	torrent   atomic.Pointer[bridge.Torrent] // the leech, once added
	cancel    context.CancelFunc             // stops the leech

	// Under Node.mu: the requesters waiting on the call, whether its links
	// were given out before (a leech resumed at start: never abandoned),
	// and whether its last waiter left before any link went out.
	waiters   int
	keep      bool
	abandoned bool
}

func (c *fetchCall) markReady() { c.readyOnce.Do(func() { close(c.ready) }) }

// errAbandoned ends a fetch whose requesters all left before any link
// went out: its slot and its disk reservation are freed at once.
var errAbandoned = errors.New("fetch abandoned: every requester left before the links were out")

// ErrNoMetadata is returned to a requester when no peer gave the torrent's
// metadata within Config.MetadataTimeout: a torrent no one seeds, or an
// info-hash of no torrent at all.
var ErrNoMetadata = errors.New("no metadata for this torrent")

// startFetch returns the cached answer for m, or the running fetch of m,
// starting it if needed: concurrent requests for one info-hash share it.
// The fetch runs under serveCtx, not under any requester's context; a
// returned call counts the caller among its waiters until it calls
// n.leave, and is abandoned when its last waiter leaves before its links
// are out. resumeGrowing starts calls that no one waits on (wait false).
func (n *Node) startFetch(serveCtx context.Context, m metainfo.Magnet, wait bool) ([]FileLink, *fetchCall) {
	key := m.InfoHash.HexString()
	n.mu.Lock()
	growing := false
	if cl, ok := n.cache[key]; ok {
		cl.LastAsked = time.Now().UTC()
		n.cache[key] = cl
		if !cl.Growing {
			n.mu.Unlock()
			n.saveCache()
			return cl.answer(), nil
		}
		// A leech whose links are out: join it, or resume it after a stop.
		growing = true
	}
	call, running := n.inflight[key]
	if running && call.abandoned {
		// Its goroutine is ending: start afresh beside it.
		running = false
	}
	var fctx context.Context
	if !running {
		call = &fetchCall{ready: make(chan struct{}), done: make(chan struct{}), keep: growing}
		fctx, call.cancel = context.WithCancel(serveCtx)
		n.inflight[key] = call
	}
	if wait {
		call.waiters++
	}
	n.mu.Unlock()
	if !running {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			defer call.cancel()
			cl, err := n.leechAndShare(fctx, "magnet:?xt=urn:btih:"+key+dnParam(m), key, call)
			n.mu.Lock()
			if n.inflight[key] == call {
				delete(n.inflight, key)
				delete(n.reserved, key)
			}
			var lost cachedLink
			switch {
			case err == nil:
				cl.LastAsked = time.Now().UTC()
				if prev, ok := n.cache[key]; ok && prev.LastAsked.After(cl.LastAsked) {
					cl.LastAsked = prev.LastAsked
				}
				n.cache[key] = cl
				call.files = cl.answer()
			case serveCtx.Err() == nil && cl.Files != nil:
				// The links are out but the data will not come: withdraw them.
				lost = cl
				delete(n.cache, key)
			}
			if call.abandoned {
				err = errAbandoned
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

// leave ends the caller's wait on call; the last requester to leave before
// the links are out stops the leech, so a requester who goes away frees
// its slot of Leech.MaxTorrents at once.
func (n *Node) leave(call *fetchCall) {
	if call == nil {
		return
	}
	n.mu.Lock()
	call.waiters--
	abandon := call.waiters == 0 && call.files == nil && !call.keep && !call.abandoned
	select {
	case <-call.done:
		abandon = false
	default:
	}
	if abandon {
		call.abandoned = true
	}
	n.mu.Unlock()
	if abandon {
		call.cancel()
	}
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
		n.startFetch(ctx, metainfo.Magnet{InfoHash: metainfo.Hash(ih)}, false)
	}
}

// fetch returns the answer for m, from the cache or by leeching and
// sharing, reporting progress meanwhile. The fetch runs under serveCtx;
// reqCtx ends when the requester leaves.
func (n *Node) fetch(serveCtx, reqCtx context.Context, m metainfo.Magnet, progress func(done, size int64) error) ([]FileLink, error) {
	files, call := n.startFetch(serveCtx, m, true)
	if call == nil {
		return files, nil
	}
	defer func() { n.leave(call) }()
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
			if !errors.Is(call.err, errAbandoned) {
				return nil, call.err
			}
			// Joined a fetch its last other requester had just left: ask
			// again as a new one.
			n.leave(call)
			if files, call = n.startFetch(serveCtx, m, true); call == nil {
				return files, nil
			}
		case <-reqCtx.Done():
			return nil, reqCtx.Err()
		case <-tick.C:
			done, size := call.progress()
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

// waitInfo waits for t's metadata at most Config.MetadataTimeout.
func (n *Node) waitInfo(ctx context.Context, t *bridge.Torrent) error {
	wctx, cancel := context.WithTimeout(ctx, n.cfg.MetadataTimeout)
	defer cancel()
	err := t.WaitInfo(wctx)
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		return fmt.Errorf("%w within %v: no peer has it, or it is no torrent", ErrNoMetadata, n.cfg.MetadataTimeout)
	}
	return err
}

// progress returns the verified bytes and the size of the leech (0, 0
// until the metadata is known).
func (c *fetchCall) progress() (done, size int64) {
	t := c.torrent.Load()
	if t == nil || !t.HasInfo() {
		return 0, 0
	}
	return t.BytesCompleted(), t.Length()
}

// leechAndShare leeches magnet and shares each of its files on the engine
// as a live share: the links are given out (call becomes ready) as soon as
// the metadata is known and admitted and the contents' onion services are
// published, and each chunk is added as the pieces under it are verified.
// The client calls admit before the first piece is requested, so WaitInfo
// returns the node's refusals (too many files, disk quota). A growing cache
// entry of key (the node stopped mid-leech) is resumed with its links.
func (n *Node) leechAndShare(ctx context.Context, magnet, key string, call *fetchCall) (_ cachedLink, err error) {
	t, err := n.client.Add(ctx, magnet)
	if err != nil {
		return cachedLink{}, err
	}
	defer t.Drop()
	call.torrent.Store(t)
	if err := t.AddPeers(n.cfg.Peers...); err != nil {
		return cachedLink{}, err
	}
	if err := n.waitInfo(ctx, t); err != nil {
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
	n.mu.Unlock()
	n.saveCache()
	// The links go out once the contents' onion services are published
	// (awaitReachable); the leech goes on meanwhile. A fetch that fails
	// first gives out no link.
	answerCtx, noAnswer := context.WithCancel(ctx)
	answered := make(chan struct{})
	shared, links := cl, cl.answer() // cl changes at the end of the leech
	go func() {
		defer close(answered)
		n.awaitReachable(answerCtx, shared)
		n.mu.Lock()
		if answerCtx.Err() == nil {
			call.files = links
		}
		n.mu.Unlock()
		if answerCtx.Err() == nil {
			call.markReady()
		}
	}()
	defer func() {
		if err != nil {
			noAnswer()
		}
		<-answered
		noAnswer()
	}()
	// Leech in order, a few MiB ahead: users play from the start while
	// the rest comes; a chunk is served only once every piece under it is
	// in, and pieces in random order would complete almost none early.
	// The reader is closed only once its goroutine is done with it (a
	// Close during a Read races inside the library).
	seqCtx, stopSeq := context.WithCancel(ctx)
	r := t.NewReader(seqCtx, sequentialReadahead)
	seqDone := make(chan struct{})
	go func() {
		defer close(seqDone)
		io.Copy(io.Discard, r) // ends with seqCtx
	}()
	defer func() {
		stopSeq()
		<-seqDone
		r.Close()
	}()
	if err := n.feed(ctx, t, files, feeders); err != nil {
		return cl, err
	}
	cl.Growing = false
	return cl, nil
}
