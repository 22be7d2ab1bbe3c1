//go:build !unix

package bridge

// allocated is not known here: a resumed download counts as empty.
func (t *Torrent) allocated() int64 { return 0 }

// freeSpace is not known here: the free-space check is skipped.
func freeSpace(string) (int64, bool, error) { return 0, false, nil }
