package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// maxDiskName bounds each element of an on-disk path, in bytes: below the
// 255 of common file systems, with room for a suffix that keeps two
// shortened names apart.
const maxDiskName = 200

// diskNames maps the files of one torrent to safe, bounded on-disk paths.
// A torrent's names come from strangers: NUL bytes, 300-byte names (86 CJK
// characters are enough), separators inside an element, absolute paths,
// "." and "..". The library writes where these paths say, so they are made
// safe before it sees them; the real names stay in the info dictionary
// (File.Path) for what is shown and for a hydre content's header.
type diskNames struct {
	mu    sync.Mutex
	paths map[*metainfo.Info]map[string]string // per torrent: fileKey -> path below the torrent's folder
}

// filePath is the storage's FilePathMaker: the on-disk path of one file,
// relative to the torrent's folder.
func (d *diskNames) filePath(o storage.FilePathMakerOpts) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	m, ok := d.paths[o.Info]
	if !ok {
		m = mapDiskPaths(o.Info)
		if d.paths == nil {
			d.paths = map[*metainfo.Info]map[string]string{}
		}
		d.paths[o.Info] = m
	}
	return filepath.FromSlash(m[fileKey(o.File.BestPath())])
}

// forget drops the mapping of a torrent the client no longer holds.
func (d *diskNames) forget(info *metainfo.Info) {
	d.mu.Lock()
	delete(d.paths, info)
	d.mu.Unlock()
}

// fileKey identifies a file of a torrent by its path elements.
func fileKey(elems []string) string { return strings.Join(elems, "\x00") }

// mapDiskPaths returns the slash-separated on-disk path of every file of
// info, keyed by fileKey. The torrent's name is the first element (for a
// single-file torrent, the file's name); every element is sanitized and
// bounded; an element holding separators becomes one name, so an absolute
// path is rooted at the torrent's own folder; two files never share a path.
func mapDiskPaths(info *metainfo.Info) map[string]string {
	out := map[string]string{}
	used := map[string]bool{}
	name := diskName(info.BestName())
	for _, f := range info.UpvertedFiles() {
		elems := f.BestPath()
		key := fileKey(elems)
		if _, ok := out[key]; ok {
			continue // the same path twice: the library writes one file
		}
		parts := []string{name}
		for _, e := range elems {
			if e != "" { // a leading "" is how an absolute path is written
				parts = append(parts, diskName(e))
			}
		}
		p := strings.Join(parts, "/")
		for n := 2; used[p]; n++ {
			last := parts[len(parts)-1]
			ext := filepath.Ext(last)
			p = strings.Join(append(parts[:len(parts)-1:len(parts)-1],
				strings.TrimSuffix(last, ext)+"~"+strconv.Itoa(n)+ext), "/")
		}
		used[p] = true
		out[key] = p
	}
	return out
}

// diskName makes one path element safe: crypto.SanitizeName's rules (no
// separators, control characters, "." or "..", device names), then at most
// maxDiskName bytes, the extension kept and a short hash of the original
// added so two long names that share a beginning stay apart.
func diskName(s string) string {
	clean := hcrypto.SanitizeName(s)
	if len(clean) <= maxDiskName {
		return clean
	}
	sum := sha256.Sum256([]byte(s))
	tag := "~" + hex.EncodeToString(sum[:4])
	ext := filepath.Ext(clean)
	if len(ext) > 16 || !utf8.ValidString(ext) {
		ext = ""
	}
	base := strings.TrimSuffix(clean, ext)
	limit := maxDiskName - len(tag) - len(ext)
	for len(base) > limit {
		_, size := utf8.DecodeLastRuneInString(base)
		base = base[:len(base)-size]
	}
	return base + tag + ext
}
