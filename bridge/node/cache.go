package node

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// A bridge node's cache: the links it answered with, by info-hash, in
// StateDir/links.json (0600: links hold keys), the data behind them under
// the leech's DataDir, and their expiry (the limits are in quota.go).

// cachedLink is a node's answer for one info-hash, with the data behind it.
type cachedLink struct {
	Files     []cachedFile `json:"files"`
	LastAsked time.Time    `json:"last_asked"`
	// Growing is set while the leech runs: the links were given out and
	// the files are live shares fed as pieces arrive. A node that stops
	// meanwhile resumes the leech when it starts again.
	Growing bool `json:"growing,omitempty"`
	// Collection: a multi-file torrent shared as one collection (Files
	// holds its one link, FileLink.Path ""); entries written before hold
	// one link per file.
	Collection bool `json:"collection,omitempty"`
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

// removeContent stops sharing a cached torrent's contents and deletes
// their data.
func (n *Node) removeContent(key string, cl cachedLink) {
	n.unshare(cl)
	if err := os.RemoveAll(n.torrentDir(key)); err != nil {
		n.log.Warn("remove bridge content data", "err", err)
	}
}

// expire removes the contents not asked for within CacheTTL, except those
// being streamed.
func (n *Node) expire() {
	inUse := n.inUse()
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
	entries, err := os.ReadDir(n.cfg.Leech.DataDir)
	if err != nil {
		return
	}
	inUse := n.inUse()
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
		if err := os.RemoveAll(n.torrentDir(k)); err != nil {
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
