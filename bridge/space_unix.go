//go:build unix

package bridge

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// allocated returns the bytes the torrent's files already hold on disk (a
// resumed download), counted in allocated blocks: the files are sparse.
func (t *Torrent) allocated() int64 {
	var n int64
	for _, f := range t.Files() {
		fi, err := os.Stat(f.DiskPath)
		if err != nil {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			n += min(st.Blocks*512, fi.Size())
		}
	}
	return n
}

// freeSpace returns the bytes an unprivileged user may still write on the
// file system of dir (or of its nearest existing parent).
func freeSpace(dir string) (free int64, known bool, err error) {
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(dir, &st)
		if err == nil {
			return int64(st.Bavail) * int64(st.Bsize), true, nil
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, fs.ErrNotExist) || parent == dir {
			return 0, false, fmt.Errorf("statfs %s: %w", dir, err)
		}
		dir = parent
	}
}
