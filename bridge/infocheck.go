package bridge

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// ErrBadTorrent is wrapped by every refusal of a torrent's metadata: an
// info dictionary that parses but cannot be leeched safely. The library
// would take some of these and wait forever.
var ErrBadTorrent = errors.New("invalid torrent metadata")

// Bounds on what a torrent may claim, far above what real torrents use.
const (
	maxPieceLength = 256 << 20 // real torrents stop at 16-64 MiB
	maxTorrentFile = 100_000   // files in one torrent
	maxPathBytes   = 3000      // a file's path on disk, below PATH_MAX with room for the data dir
	maxPathDepth   = 64        // elements of one file's path
)

// checkInfoBytes decodes and checks an info dictionary; see checkInfo.
func checkInfoBytes(b []byte) (*metainfo.Info, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: no info dictionary", ErrBadTorrent)
	}
	var info metainfo.Info
	if err := bencode.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("%w: info dictionary: %v", ErrBadTorrent, err)
	}
	if err := checkInfo(&info); err != nil {
		return nil, err
	}
	return &info, nil
}

// checkInfo reports, at once and all together, what makes info unusable:
// a piece length that is not positive or absurd, piece hashes that are not
// a whole number of SHA-1s or do not match the length, files of negative
// or overflowing length, and paths with a ".." element, an empty element
// or more depth and length than a file system takes. Names that are merely
// hostile (NUL bytes, separators, 300 bytes) are not refused: mapDiskPaths
// makes them safe on disk.
func checkInfo(info *metainfo.Info) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !info.HasV1() {
		bad("no v1 piece hashes (v2-only torrents are not supported)")
	}
	if info.BestName() == "" {
		bad("no name")
	} else if hasDotDot(info.BestName()) {
		bad("name %q has a \"..\" element", info.BestName())
	}
	switch {
	case info.PieceLength <= 0:
		bad("piece length %d: want a positive size", info.PieceLength)
	case info.PieceLength > maxPieceLength:
		bad("piece length %d: more than %d", info.PieceLength, maxPieceLength)
	}
	if len(info.Pieces)%20 != 0 {
		bad("pieces is %d bytes: not a whole number of 20-byte hashes", len(info.Pieces))
	}
	if len(info.Files) > maxTorrentFile {
		bad("%d files: more than %d", len(info.Files), maxTorrentFile)
	} else {
		var total int64
		overflow := false
		nameBytes := len(diskName(info.BestName()))
		for i, f := range slices.Collect(info.UpvertedV1Files()) {
			if f.Length < 0 {
				bad("file %d: negative length %d", i, f.Length)
			} else if total > math.MaxInt64-f.Length {
				overflow = true
			} else {
				total += f.Length
			}
			if info.IsDir() {
				if err := checkPath(f.BestPath(), nameBytes); err != nil {
					bad("file %d %q: %v", i, strings.Join(f.BestPath(), "/"), err)
				}
			}
			if len(errs) > 20 {
				bad("more errors left unchecked")
				break
			}
		}
		switch {
		case overflow:
			bad("file lengths add up to more than 2^63 bytes")
		case total == 0:
			bad("no data (total length 0)")
		case info.PieceLength > 0 && len(info.Pieces)%20 == 0:
			want := (total + info.PieceLength - 1) / info.PieceLength
			if got := int64(len(info.Pieces) / 20); got != want {
				bad("%d piece hashes for %d bytes in pieces of %d: want %d", got, total, info.PieceLength, want)
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrBadTorrent, errors.Join(errs...))
}

// checkPath refuses a file path that could leave the torrent's folder or
// that no file system takes.
func checkPath(elems []string, nameBytes int) error {
	if len(elems) == 0 {
		return errors.New("empty path")
	}
	if len(elems) > maxPathDepth {
		return fmt.Errorf("%d path elements: more than %d", len(elems), maxPathDepth)
	}
	size, named := nameBytes, false
	for _, e := range elems {
		if e == "" {
			continue // an absolute path: rooted at the torrent's folder
		}
		named = true
		if hasDotDot(e) {
			return errors.New(`a ".." element`)
		}
		size += 1 + len(diskName(e))
	}
	if !named {
		return errors.New("empty path")
	}
	if size > maxPathBytes {
		return fmt.Errorf("path of %d bytes on disk: more than %d", size, maxPathBytes)
	}
	return nil
}

// hasDotDot reports whether s, split at either separator, has a ".."
// element (trailing spaces and dots ignored, as Windows does).
func hasDotDot(s string) bool {
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '\\' }) {
		if strings.TrimRight(part, " .") == "" && strings.Contains(part, "..") {
			return true
		}
	}
	return false
}
