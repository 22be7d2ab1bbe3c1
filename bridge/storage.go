package bridge

import (
	"context"
	"fmt"

	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
)

// checkedStorage is the storage every torrent's info passes through once
// it is known, whether it came from a .torrent file, the metadata cache or
// peers (ut_metadata): the one place where a bad info dictionary can be
// refused with an error that reaches the user. The library, given an info
// it cannot open, drops the error and waits forever.
type checkedStorage struct {
	storage.ClientImplCloser
	c *Client
}

func (s checkedStorage) OpenTorrent(ctx context.Context, info *metainfo.Info, ih metainfo.Hash) (storage.TorrentImpl, error) {
	if err := checkInfo(info); err != nil {
		s.c.failInfoHash(ih, err)
		return storage.TorrentImpl{}, err
	}
	ti, err := s.ClientImplCloser.OpenTorrent(ctx, info, ih)
	if err != nil {
		err = fmt.Errorf("open torrent storage: %w", err)
		s.c.failInfoHash(ih, err)
		return storage.TorrentImpl{}, err
	}
	return ti, nil
}

// failInfoHash gives up the torrent of ih, if the client holds it.
func (c *Client) failInfoHash(ih metainfo.Hash, err error) {
	c.mu.Lock()
	var found *Torrent
	for t := range c.torrents {
		if t.ih == ih {
			found = t
			break
		}
	}
	c.mu.Unlock()
	if found != nil {
		found.fail(err)
	}
}
