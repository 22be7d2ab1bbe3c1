package bridge

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// A bridge node's cache: the links it answered with, by info-hash, in
// StateDir/links.json (0600: links hold keys), the data behind them under
// the client's DataDir, and the node's limits on both.

// Refusals a node sends to a requester (they reach Request and OpenStream
// as the text of the node's "error" line).
var (
	// ErrNoSpace is returned when a torrent does not fit in the node's
	// disk quota.
	ErrNoSpace = errors.New("bridge disk quota exceeded")
	// ErrMultiFile is returned for a torrent of more than one file: a
	// hydre content is one file, and a node shares one content per request.
	ErrMultiFile = errors.New("bridge nodes serve single-file torrents only")
)

type cachedLink struct {
	Link      string    `json:"link"` // secret
	ID        string    `json:"id"`
	Path      string    `json:"path,omitempty"` // the shared file, under the client's DataDir
	Size      int64     `json:"size,omitempty"`
	LastAsked time.Time `json:"last_asked"`
}

func multiFileError(files int) error {
	return fmt.Errorf("%w: this torrent has %d files; ask for a torrent of one file", ErrMultiFile, files)
}

// admit is the client's hook: it runs once a torrent's metadata is known,
// before any piece is requested, and refuses what the node does not serve.
func (n *Node) admit(t *Torrent) error {
	if files := t.Files(); len(files) != 1 {
		return multiFileError(len(files))
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
	inUse := n.cfg.Client.running()
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
		cached += cl.Size
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
		used -= n.cache[k].Size
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
		n.log.Info("evicting bridge content for disk quota", "info_hash", victims[i], "bytes", cl.Size)
		n.removeContent(victims[i], cl)
	}
	if len(evicted) > 0 {
		n.saveCache()
	}
	return nil
}

// removeContent stops sharing a cached content and deletes its data.
func (n *Node) removeContent(key string, cl cachedLink) {
	if id, err := hcrypto.ParseContentID(cl.ID); err == nil {
		if err := n.cfg.Engine.Remove(id, false); err != nil {
			n.log.Warn("stop sharing bridge content", "err", err)
		}
	}
	base := n.cfg.Client.cfg.DataDir
	if n.cfg.Client.cfg.DirPerInfoHash {
		if err := os.RemoveAll(n.cfg.Client.torrentDir(key)); err != nil {
			n.log.Warn("remove bridge content data", "err", err)
		}
		return
	}
	if rel, err := filepath.Rel(base, cl.Path); err == nil && cl.Path != "" && !strings.HasPrefix(rel, "..") {
		if err := os.Remove(cl.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			n.log.Warn("remove bridge content data", "err", err)
		}
	}
}

// expire removes the contents not asked for within CacheTTL, except those
// being streamed.
func (n *Node) expire() {
	inUse := n.cfg.Client.running()
	n.mu.Lock()
	old := map[string]cachedLink{}
	for k, cl := range n.cache {
		if time.Since(cl.LastAsked) > n.cfg.CacheTTL && !inUse[k] {
			old[k] = cl
			delete(n.cache, k)
		}
	}
	n.mu.Unlock()
	for k, cl := range old {
		n.log.Info("expiring bridge content", "info_hash", k)
		n.removeContent(k, cl)
	}
	if len(old) > 0 {
		n.saveCache()
	}
}

// expireEvery runs expire until ctx ends, hourly or more often for a
// short CacheTTL.
func (n *Node) expireEvery(ctx context.Context) {
	tick := time.NewTicker(max(min(n.cfg.CacheTTL/8, time.Hour), time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			n.expire()
		}
	}
}

// removeOrphans deletes, at start, the per-info-hash data directories that
// no cached link refers to (fetches cut short by a stop), so the disk
// quota counts everything on disk.
func (n *Node) removeOrphans() {
	if !n.cfg.Client.cfg.DirPerInfoHash {
		return
	}
	entries, err := os.ReadDir(n.cfg.Client.cfg.DataDir)
	if err != nil {
		return
	}
	inUse := n.cfg.Client.running()
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, e := range entries {
		k := e.Name()
		if _, err := hex.DecodeString(k); err != nil || len(k) != 40 || !e.IsDir() || inUse[k] {
			continue
		}
		if _, ok := n.cache[k]; ok {
			continue
		}
		if err := os.RemoveAll(filepath.Join(n.cfg.Client.cfg.DataDir, k)); err != nil {
			n.log.Warn("remove unfinished bridge fetch", "err", err)
		}
	}
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
	for k, cl := range n.cache {
		if _, err := hex.DecodeString(k); err != nil || len(k) != 40 {
			delete(n.cache, k)
			continue
		}
		if cl.Size == 0 && cl.Path != "" {
			if st, err := os.Stat(cl.Path); err == nil {
				cl.Size = st.Size()
				n.cache[k] = cl
			}
		}
	}
	return nil
}

func (n *Node) saveCache() {
	n.saveMu.Lock()
	defer n.saveMu.Unlock()
	n.mu.Lock()
	b, err := json.Marshal(n.cache)
	n.mu.Unlock()
	if err != nil {
		return
	}
	tmp := n.cachePath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		n.log.Warn("save bridge link cache", "err", err)
		return
	}
	if err := os.Rename(tmp, n.cachePath()); err != nil {
		n.log.Warn("save bridge link cache", "err", err)
	}
}
