package bridge

import (
	"crypto/sha1"
	"os"
	"path/filepath"
	"time"

	"github.com/anacrolix/torrent/metainfo"
)

// The metadata cache (Config.MetadataDir): each info dictionary kept by
// info-hash, so a magnet asked for again needs no ut_metadata round.

func (c *Client) infoPath(ih metainfo.Hash) string {
	return filepath.Join(c.cfg.MetadataDir, ih.HexString()+".info")
}

// cachedInfo returns the cached info dictionary of ih if it is there and
// hashes to ih, and marks it as asked for (its modification time).
func (c *Client) cachedInfo(ih metainfo.Hash) []byte {
	if c.cfg.MetadataDir == "" {
		return nil
	}
	p := c.infoPath(ih)
	b, err := os.ReadFile(p)
	if err != nil || sha1.Sum(b) != ih {
		return nil
	}
	if _, err := checkInfoBytes(b); err != nil {
		c.log.Warn("ignoring cached torrent metadata", "err", err)
		return nil
	}
	now := time.Now()
	os.Chtimes(p, now, now)
	return b
}

// cacheInfo stores an info dictionary that hashes to ih.
func (c *Client) cacheInfo(ih metainfo.Hash, b []byte) {
	if c.cfg.MetadataDir == "" || len(b) == 0 || sha1.Sum(b) != ih {
		return
	}
	p := c.infoPath(ih)
	if _, err := os.Stat(p); err == nil {
		return
	}
	if err := os.MkdirAll(c.cfg.MetadataDir, 0o700); err != nil {
		c.log.Warn("cache torrent metadata", "err", err)
		return
	}
	f, err := os.CreateTemp(c.cfg.MetadataDir, filepath.Base(p)+".*.tmp")
	if err != nil {
		c.log.Warn("cache torrent metadata", "err", err)
		return
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		c.log.Warn("cache torrent metadata", "err", err)
	}
}
