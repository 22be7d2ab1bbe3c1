package bridge

import (
	"fmt"
)

// defaultKeepFree is the free space a download leaves on its file system
// when Config.KeepFree is 0.
const defaultKeepFree = 512 << 20

// checkSize refuses a torrent over Config.MaxSize, or whose data still
// missing on disk does not fit in the free space of the data directory's
// file system less Config.KeepFree. It runs once the info is known and
// before any piece is requested.
func (c *Client) checkSize(t *Torrent) error {
	size := t.t.Length()
	if max := c.cfg.MaxSize; max > 0 && size > max {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, size, max)
	}
	if c.cfg.KeepFree < 0 {
		return nil
	}
	free, ok, err := freeSpace(c.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("check free space: %w", err)
	}
	if !ok {
		return nil // not known on this system
	}
	need := size - t.allocated()
	keep := c.cfg.KeepFree
	if keep == 0 {
		keep = defaultKeepFree
	}
	if need > 0 && need > free-keep {
		return fmt.Errorf("%w: it needs %d more bytes, %s has %d free and keeps %d", ErrDiskFull, need,
			c.cfg.DataDir, free, keep)
	}
	return nil
}
