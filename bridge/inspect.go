package bridge

// What a client's owner (a bridge node, a front end) reads of the torrents
// it leeches, beyond a single Torrent's progress.

// Torrents returns the torrents being leeched or read (added and not yet
// dropped), in no particular order.
func (c *Client) Torrents() []*Torrent {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Torrent, 0, len(c.torrents))
	for t := range c.torrents {
		out = append(out, t)
	}
	return out
}

// InfoBytes returns the torrent's bencoded info dictionary, whose SHA-1 is
// the info-hash; nil before the metadata is known.
func (t *Torrent) InfoBytes() []byte {
	if !t.HasInfo() {
		return nil
	}
	return t.t.Metainfo().InfoBytes
}

// MultiFile reports whether the torrent is a folder of files (its files'
// paths then start with the torrent's name), as opposed to a single file;
// false before the metadata is known.
func (t *Torrent) MultiFile() bool {
	info := t.t.Info()
	return info != nil && info.IsDir()
}
