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
	"time"
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
	// ErrTooManyFiles is returned for a torrent of more files than the
	// node's MaxFiles: every file becomes a hydre content of its own.
	ErrTooManyFiles = errors.New("torrent has too many files for this bridge node")
)

// cachedLink is a node's answer for one info-hash, with the data behind it.
type cachedLink struct {
	Files     []cachedFile `json:"files"`
	LastAsked time.Time    `json:"last_asked"`
	// Growing is set while the leech runs: the links were given out and
	// the files are live shares fed as pieces arrive. A node that stops
	// meanwhile resumes the leech when it starts again.
	Growing bool `json:"growing,omitempty"`
	// Link, ID and Path are the one file of an entry written before nodes
	// served multi-file torrents; loadCache moves them into Files.
	Link string `json:"link,omitempty"`
	ID   string `json:"id,omitempty"`
	Path string `json:"path,omitempty"`
	Size int64  `json:"size,omitempty"`
}

// cachedFile is one shared file of a cached torrent.
type cachedFile struct {
	TorrentPath string `json:"torrent_path,omitempty"` // FileLink.Path: "" for a single-file torrent
	Link        string `json:"link"`                   // secret
	ID          string `json:"id"`
	Path        string `json:"path"` // the shared file, under the client's DataDir
	Size        int64  `json:"size"`
}

// size returns the bytes of data the entry keeps on disk.
func (cl cachedLink) size() int64 {
	var n int64
	for _, f := range cl.Files {
		n += f.Size
	}
	return n
}

// answer returns the links to send for the entry.
func (cl cachedLink) answer() []FileLink {
	out := make([]FileLink, len(cl.Files))
	for i, f := range cl.Files {
		out[i] = FileLink{Path: f.TorrentPath, Link: f.Link}
	}
	return out
}

func tooManyFiles(files, limit int) error {
	return fmt.Errorf("%w: it has %d files, the node shares at most %d per torrent", ErrTooManyFiles, files, limit)
}

// admit is the client's hook: it runs once a torrent's metadata is known,
// before any piece is requested, and refuses what the node does not serve.
func (n *Node) admit(t *Torrent) error {
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

// removeContent stops sharing a cached torrent's contents and deletes
// their data.
func (n *Node) removeContent(key string, cl cachedLink) {
	n.unshare(cl)
	base := n.cfg.Client.cfg.DataDir
	if n.cfg.Client.cfg.DirPerInfoHash {
		if err := os.RemoveAll(n.cfg.Client.torrentDir(key)); err != nil {
			n.log.Warn("remove bridge content data", "err", err)
		}
		return
	}
	for _, f := range cl.Files {
		if rel, err := filepath.Rel(base, f.Path); err == nil && f.Path != "" && filepath.IsLocal(rel) {
			if err := os.Remove(f.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
				n.log.Warn("remove bridge content data", "err", err)
			}
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
		if len(cl.Files) == 0 && cl.Link != "" {
			f := cachedFile{Link: cl.Link, ID: cl.ID, Path: cl.Path, Size: cl.Size}
			if st, err := os.Stat(cl.Path); err == nil && f.Size == 0 {
				f.Size = st.Size()
			}
			cl.Files = []cachedFile{f}
		}
		cl.Link, cl.ID, cl.Path, cl.Size = "", "", "", 0
		if len(cl.Files) == 0 {
			delete(n.cache, k)
			continue
		}
		n.cache[k] = cl
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
