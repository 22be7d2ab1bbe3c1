// Package seek holds the one reckoning of an io.Seeker's new position,
// shared by hydre's readers that seek (the engine's files, the streaming
// server's readers, the bridge node's streams and sections).
package seek

import (
	"errors"
	"io"
)

// Abs returns the position a Seek(off, whence) asks for, from the current
// position pos and the size of what is read: an error for an unknown whence
// or a position before the start (one past the end is the caller's to
// refuse, if it must).
func Abs(off int64, whence int, pos, size int64) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += pos
	case io.SeekEnd:
		off += size
	default:
		return pos, errors.New("seek: bad whence")
	}
	if off < 0 {
		return pos, errors.New("seek: negative position")
	}
	return off, nil
}
