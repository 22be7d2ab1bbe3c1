package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
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

// diskName makes one path element safe (cleanName), then bounds it to
// maxDiskName bytes, the extension kept and a short hash of the original
// added so two long names that share a beginning stay apart.
func diskName(s string) string {
	clean := cleanName(s)
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

// cleanName makes one path element safe to create on any desktop system,
// by the rules of the sealed format's names (package crypto, which this
// package may not import): invalid UTF-8 becomes U+FFFD; separators,
// characters Windows forbids, control characters and line separators
// become "_"; format characters (bidi marks, zero-width) are removed;
// leading white space and trailing white space and dots are trimmed, so
// "." and ".." cannot remain; an empty result is "unnamed"; a Windows
// device name or a leading "-" gets a "_" prefix.
func cleanName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r):
		case r == '/' || r == '\\' || strings.ContainsRune(`<>:"|?*`, r), unicode.IsControl(r),
			r == '\u2028', r == '\u2029':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	out := strings.TrimLeftFunc(b.String(), unicode.IsSpace)
	out = strings.TrimRightFunc(out, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
	switch {
	case out == "":
		return "unnamed"
	case isDeviceName(out) || strings.HasPrefix(out, "-"):
		return "_" + out
	}
	return out
}

// isDeviceName reports whether Windows takes name (with any extension) for
// a device.
func isDeviceName(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		d := base[3]
		return d >= '0' && d <= '9'
	}
	if r, size := utf8.DecodeLastRuneInString(base); len(base) > 3 && len(base) == 3+size &&
		(strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) && strings.ContainsRune("¹²³", r) {
		return true
	}
	return false
}
