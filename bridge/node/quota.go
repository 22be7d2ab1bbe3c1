package node

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hydre-p2p/hydre/bridge"
)

// The node's admission check: what it refuses once a torrent's metadata is
// known, before any piece is requested (bridge.Config.Admit), and the disk
// quota it keeps.

// Refusals a node sends to a requester (they reach Request and OpenStream
// as the text of the node's "error" line).
var (
	// ErrNoSpace is returned when a torrent does not fit in the node's
	// disk quota.
	ErrNoSpace = errors.New("bridge disk quota exceeded")
	// ErrTooManyFiles is returned for a torrent of more files than the
	// node's MaxFiles.
	ErrTooManyFiles = errors.New("torrent has too many files for this bridge node")
	// ErrTooManyContents is returned when the contents the node shares
	// (one per torrent, each an onion service of its own unless the engine
	// uses one identity) would pass Config.MaxContents, and fetches in
	// progress hold the room that evictions could free.
	ErrTooManyContents = errors.New("bridge node shares too many contents")
)

func tooManyFiles(files, limit int) error {
	return fmt.Errorf("%w: it has %d files, the node shares at most %d per torrent", ErrTooManyFiles, files, limit)
}

// admit is the client's hook: it runs once a torrent's metadata is known,
// before any piece is requested, and refuses what the node does not serve.
func (n *Node) admit(t *bridge.Torrent) error {
	files := len(t.Files())
	if files > n.cfg.MaxFiles {
		return tooManyFiles(files, n.cfg.MaxFiles)
	}
	// A torrent is one content, of one file or a collection of them.
	return n.reserve(t.InfoHash(), reservation{bytes: t.Length(), contents: 1})
}

// reservation is what an admitted fetch in progress holds of the node's
// limits: bytes of the disk quota, contents of MaxContents.
type reservation struct {
	bytes    int64
	contents int
}

// reserve holds r for the fetch of key, evicting expired contents first,
// then the least recently asked for, until both the disk quota and the
// count of contents leave room.
func (n *Node) reserve(key string, r reservation) error {
	quota, maxContents := n.cfg.DiskQuota, n.cfg.MaxContents
	if quota <= 0 && maxContents <= 0 {
		return nil
	}
	inUse := n.inUse()
	n.mu.Lock()
	if _, ok := n.cache[key]; ok {
		n.mu.Unlock()
		return nil // its data is on disk and counted already
	}
	if _, ok := n.reserved[key]; ok {
		n.mu.Unlock()
		return nil
	}
	if quota > 0 && r.bytes > quota {
		n.mu.Unlock()
		return fmt.Errorf("%w: the torrent has %d bytes, the node keeps at most %d", ErrNoSpace, r.bytes, quota)
	}
	if maxContents > 0 && r.contents > maxContents {
		n.mu.Unlock()
		return tooManyFiles(r.contents, maxContents)
	}
	var used, held reservation
	var cands []string
	for k, cl := range n.cache {
		used.bytes += cl.size()
		used.contents += len(cl.Files)
		if !inUse[k] {
			cands = append(cands, k)
		}
	}
	for _, h := range n.reserved {
		held.bytes += h.bytes
		held.contents += h.contents
	}
	used.bytes += held.bytes
	used.contents += held.contents
	fits := func() bool {
		return (quota <= 0 || used.bytes+r.bytes <= quota) &&
			(maxContents <= 0 || used.contents+r.contents <= maxContents)
	}
	// Expired first, then least recently asked for.
	now := time.Now()
	slices.SortFunc(cands, func(a, b string) int {
		ea, eb := now.Sub(n.cache[a].LastAsked) > n.cfg.CacheTTL, now.Sub(n.cache[b].LastAsked) > n.cfg.CacheTTL
		if ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		return n.cache[a].LastAsked.Compare(n.cache[b].LastAsked)
	})
	var victims []string
	for _, k := range cands {
		if fits() {
			break
		}
		victims = append(victims, k)
		used.bytes -= n.cache[k].size()
		used.contents -= len(n.cache[k].Files)
	}
	if !fits() {
		n.mu.Unlock()
		if quota > 0 && used.bytes+r.bytes > quota {
			return fmt.Errorf("%w: the torrent has %d bytes and %d of the node's %d are held by fetches in progress; try again later",
				ErrNoSpace, r.bytes, held.bytes, quota)
		}
		return fmt.Errorf("%w: the torrent has %d files and fetches in progress hold %d of the node's %d contents; try again later",
			ErrTooManyContents, r.contents, held.contents, maxContents)
	}
	evicted := make([]cachedLink, 0, len(victims))
	for _, k := range victims {
		evicted = append(evicted, n.cache[k])
		delete(n.cache, k)
	}
	n.reserved[key] = r
	n.mu.Unlock()
	for i, cl := range evicted {
		n.log.Info("evicting bridge content for the node's limits", "info_hash", victims[i], "bytes", cl.size(), "contents", len(cl.Files))
		n.removeContent(victims[i], cl)
	}
	if len(evicted) > 0 {
		n.saveCache()
	}
	return nil
}
