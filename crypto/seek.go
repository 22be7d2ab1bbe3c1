package crypto

import (
	"fmt"
	"io"
)

// SeekPosition returns the position a Seek(off, whence) asks for, from the
// current position pos and the size of what is read: an error for an
// unknown whence or a position before the start (one past the end is the
// caller's to refuse, if it must). It is the one reckoning of every hydre
// reader that seeks: Reader, the engine's files, the streaming server's
// readers, the bridge node's streams and sections.
func SeekPosition(off int64, whence int, pos, size int64) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += pos
	case io.SeekEnd:
		off += size
	default:
		return pos, fmt.Errorf("seek: bad whence %d", whence)
	}
	if off < 0 {
		return pos, fmt.Errorf("seek: negative position %d", off)
	}
	return off, nil
}
