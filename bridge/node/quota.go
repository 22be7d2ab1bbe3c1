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
	// node's MaxFiles: every file becomes a hydre content of its own.
	ErrTooManyFiles = errors.New("torrent has too many files for this bridge node")
)

func tooManyFiles(files, limit int) error {
	return fmt.Errorf("%w: it has %d files, the node shares at most %d per torrent", ErrTooManyFiles, files, limit)
}

// admit is the client's hook: it runs once a torrent's metadata is known,
// before any piece is requested, and refuses what the node does not serve.
func (n *Node) admit(t *bridge.Torrent) error {
	if files := t.Files(); len(files) > n.cfg.MaxFiles {
		return tooManyFiles(len(files), n.cfg.MaxFiles)
	}
	return n.reserve(t.InfoHash(), t.Length())
}

// reserve holds size bytes of the disk quota for the fetch of key,
// evicting expired contents first, then the least recently asked for.
func (n *Node) reserve(key string, size int64) error {
	quota := n.cfg.DiskQuota
	if quota <= 0 {
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
	if size > quota {
		n.mu.Unlock()
		return fmt.Errorf("%w: the torrent has %d bytes, the node keeps at most %d", ErrNoSpace, size, quota)
	}
	var cached, held int64
	var cands []string
	for k, cl := range n.cache {
		cached += cl.size()
		if !inUse[k] {
			cands = append(cands, k)
		}
	}
	for _, r := range n.reserved {
		held += r
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
	used := cached + held
	var victims []string
	for _, k := range cands {
		if used+size <= quota {
			break
		}
		victims = append(victims, k)
		used -= n.cache[k].size()
	}
	if used+size > quota {
		n.mu.Unlock()
		return fmt.Errorf("%w: the torrent has %d bytes and %d of the node's %d are held by fetches in progress; try again later",
			ErrNoSpace, size, held, quota)
	}
	evicted := make([]cachedLink, 0, len(victims))
	for _, k := range victims {
		evicted = append(evicted, n.cache[k])
		delete(n.cache, k)
	}
	n.reserved[key] = size
	n.mu.Unlock()
	for i, cl := range evicted {
		n.log.Info("evicting bridge content for disk quota", "info_hash", victims[i], "bytes", cl.size())
		n.removeContent(victims[i], cl)
	}
	if len(evicted) > 0 {
		n.saveCache()
	}
	return nil
}
