package crypto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// A collection is several files (a folder tree) sealed as one content
// (docs/protocol.md, §13). Its plaintext is the manifest, zero-padded to a
// whole number of chunks, followed by the files in manifest order:
//
//	manifest = magic "HYDC" (4) || version (1) = 1 || count (4)
//	        || count × ( size (8) || path_len (2) || path )
//
// A path is the file's place in the tree, its parts joined by "/": each part
// is a name SanitizeName leaves unchanged, so no part is empty, "." or "..",
// none holds a separator and none is a device name. Files are in strictly
// increasing byte order of their paths, no two paths are equal ignoring
// case, and no file is a folder of another. The sealed header (format 2)
// carries the manifest's length, so a reader knows which chunks hold it
// before it fetches any.
//
// The manifest is sealed like any data: a blind host sees ciphertext chunks,
// never a name or how many files there are.

// Limits of a manifest. A decoder refuses anything beyond them before it
// allocates for it.
const (
	// MaxCollectionFiles bounds the files of a collection.
	MaxCollectionFiles = 100_000
	// MaxPathBytes bounds a file's path in a collection, in bytes.
	MaxPathBytes = 4096
	// MaxPathDepth bounds the parts of a path (folders and the file name).
	MaxPathDepth = 32
	// MaxManifestLen bounds an encoded manifest.
	MaxManifestLen = 16 << 20
)

const (
	manifestMagic    = "HYDC"
	manifestVersion  = 1
	manifestFixedLen = 4 + 1 + 4
	manifestEntryLen = 8 + 2 // before the path
)

// ErrBadManifest reports a collection manifest that does not decode, breaks
// a rule of the format, or does not agree with its header.
var ErrBadManifest = errors.New("bad collection manifest")

// CollectionFile is one file of a collection.
type CollectionFile struct {
	Path string `json:"path"` // parts joined by "/", each a sanitized name
	Size int64  `json:"size"`
}

// Manifest lists the files of a collection in canonical order. Offsets are
// not stored: file k starts where file k-1 ends, the first at DataOffset.
type Manifest struct {
	Files []CollectionFile
}

// SanitizePath returns a collection path made of the parts of p (split at
// "/" and "\"), each sanitized with SanitizeName, empty parts and "." and
// ".." dropped: what a sealer records for a file found at p under the
// shared folder. An empty result becomes "unnamed".
func SanitizePath(p string) string {
	var parts []string
	for part := range strings.FieldsFuncSeq(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == "." || part == ".." {
			continue
		}
		parts = append(parts, SanitizeName(part))
	}
	if len(parts) == 0 {
		return unnamed
	}
	if len(parts) > MaxPathDepth { // keep the file's name, fold the deepest folders into one
		parts = append(parts[:MaxPathDepth-2], SanitizeName(strings.Join(parts[MaxPathDepth-2:len(parts)-1], "_")), parts[len(parts)-1])
	}
	out := strings.Join(parts, "/")
	for len(out) > MaxPathBytes && len(parts) > 1 { // drop folders from the top
		parts = parts[1:]
		out = strings.Join(parts, "/")
	}
	return out
}

// NewManifest returns the manifest of files whose paths are sanitized
// (SanitizePath) and made unique (a second "a.txt", in any case, becomes
// "a (2).txt"), in canonical order, and for each of its files the index in
// files it came from. It fails on too many files, a negative size or a
// manifest too long to encode.
func NewManifest(files []CollectionFile) (*Manifest, []int, error) {
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("new manifest: no file: %w", ErrBadManifest)
	}
	if len(files) > MaxCollectionFiles {
		return nil, nil, fmt.Errorf("new manifest: %d files is more than %d: %w", len(files), MaxCollectionFiles, ErrBadManifest)
	}
	type entry struct {
		CollectionFile
		from int
	}
	es := make([]entry, len(files))
	for i, f := range files {
		if f.Size < 0 {
			return nil, nil, fmt.Errorf("new manifest: negative size: %w", ErrBadManifest)
		}
		es[i] = entry{CollectionFile{Path: SanitizePath(f.Path), Size: f.Size}, i}
	}
	byPath := func(a, b entry) int { return strings.Compare(a.Path, b.Path) }
	slices.SortStableFunc(es, byPath)
	taken := newPathSet()
	for i := range es {
		p := es[i].Path
		for n := 2; taken.conflicts(p); n++ {
			if n > maxNumbered {
				return nil, nil, fmt.Errorf("new manifest: no free name for a file: %w", ErrBadManifest)
			}
			if at := taken.fileParent(es[i].Path); at > 0 { // "x" is a file: "x/y" goes to "x (2)/y"
				p = numbered(es[i].Path[:at], n) + es[i].Path[at:]
			} else {
				p = numbered(es[i].Path, n)
			}
		}
		taken.add(p)
		es[i].Path = p
	}
	slices.SortStableFunc(es, byPath)
	m := &Manifest{Files: make([]CollectionFile, len(es))}
	order := make([]int, len(es))
	for i, e := range es {
		m.Files[i], order[i] = e.CollectionFile, e.from
	}
	if n := m.encodedLen(); n > MaxManifestLen {
		return nil, nil, fmt.Errorf("new manifest: %d bytes is more than %d: %w", n, MaxManifestLen, ErrBadManifest)
	}
	if _, err := m.DataSize(); err != nil {
		return nil, nil, fmt.Errorf("new manifest: %w", err)
	}
	return m, order, nil
}

// maxNumbered bounds the " (n)" tried to make a path unique.
const maxNumbered = 1000

// numbered returns path with " (n)" before the extension of its file name.
func numbered(path string, n int) string {
	dir, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir, name = path[:i+1], path[i+1:]
	}
	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= maxExtBytes {
		stem, ext = name[:i], name[i:]
	}
	return dir + SanitizeName(fmt.Sprintf("%s (%d)%s", stem, n, ext))
}

// pathSet holds the files and folders of a tree, case-folded, to find
// duplicates and files that are also folders.
type pathSet struct{ files, dirs map[string]bool }

func newPathSet() pathSet { return pathSet{files: map[string]bool{}, dirs: map[string]bool{}} }

// conflicts reports whether adding p would make a duplicate, or a file that
// is also a folder.
func (s pathSet) conflicts(p string) bool {
	k := strings.ToLower(p)
	if s.files[k] || s.dirs[k] {
		return true
	}
	for i := range len(k) {
		if k[i] == '/' && s.files[k[:i]] {
			return true
		}
	}
	return false
}

// fileParent returns where the first folder of p that is a file ends, or
// -1.
func (s pathSet) fileParent(p string) int {
	k := strings.ToLower(p)
	for i := range len(k) {
		if k[i] == '/' && s.files[k[:i]] {
			return i
		}
	}
	return -1
}

func (s pathSet) add(p string) {
	k := strings.ToLower(p)
	s.files[k] = true
	for i := range len(k) {
		if k[i] == '/' {
			s.dirs[k[:i]] = true
		}
	}
}

// DataSize returns the total size of the files.
func (m *Manifest) DataSize() (int64, error) {
	var n int64
	for _, f := range m.Files {
		if f.Size < 0 || f.Size > MaxSize-n {
			return 0, fmt.Errorf("files larger than %d bytes: %w", MaxSize, ErrBadManifest)
		}
		n += f.Size
	}
	return n, nil
}

// Offsets returns where each file starts in the plaintext of the content
// whose manifest region is dataOffset bytes (ManifestRegion).
func (m *Manifest) Offsets(dataOffset int64) []int64 {
	out := make([]int64, len(m.Files))
	off := dataOffset
	for i, f := range m.Files {
		out[i] = off
		off += f.Size
	}
	return out
}

// Find returns the index of the file at path, or -1.
func (m *Manifest) Find(path string) int {
	i, ok := slices.BinarySearchFunc(m.Files, path, func(f CollectionFile, p string) int { return strings.Compare(f.Path, p) })
	if !ok {
		return -1
	}
	return i
}

func (m *Manifest) encodedLen() int {
	n := manifestFixedLen
	for _, f := range m.Files {
		n += manifestEntryLen + len(f.Path)
	}
	return n
}

// MarshalBinary encodes the manifest (without the padding).
func (m *Manifest) MarshalBinary() ([]byte, error) {
	if len(m.Files) == 0 || len(m.Files) > MaxCollectionFiles {
		return nil, fmt.Errorf("encode manifest: %d files: %w", len(m.Files), ErrBadManifest)
	}
	b := make([]byte, 0, m.encodedLen())
	b = append(b, manifestMagic...)
	b = append(b, manifestVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Files)))
	for _, f := range m.Files {
		if len(f.Path) > MaxPathBytes {
			return nil, fmt.Errorf("encode manifest: path of %d bytes: %w", len(f.Path), ErrBadManifest)
		}
		b = binary.BigEndian.AppendUint64(b, uint64(f.Size))
		b = binary.BigEndian.AppendUint16(b, uint16(len(f.Path)))
		b = append(b, f.Path...)
	}
	if len(b) > MaxManifestLen {
		return nil, fmt.Errorf("encode manifest: %d bytes: %w", len(b), ErrBadManifest)
	}
	return b, nil
}

// UnmarshalManifest decodes a manifest strictly: b must be exactly one
// encoded manifest, every rule of the format holds (checkPath, canonical
// order, no duplicate ignoring case, no file that is also a folder), and
// nothing is allocated beyond what b's length backs. Errors wrap
// ErrBadManifest and quote no name.
func UnmarshalManifest(b []byte) (*Manifest, error) {
	bad := func(format string, a ...any) (*Manifest, error) {
		return nil, fmt.Errorf("decode manifest: %s: %w", fmt.Sprintf(format, a...), ErrBadManifest)
	}
	if len(b) > MaxManifestLen {
		return bad("%d bytes is more than %d", len(b), MaxManifestLen)
	}
	if len(b) < manifestFixedLen || string(b[:4]) != manifestMagic {
		return bad("not a manifest")
	}
	if b[4] != manifestVersion {
		return bad("unknown version %d", b[4])
	}
	count := int(binary.BigEndian.Uint32(b[5:9]))
	rest := b[manifestFixedLen:]
	if count == 0 || count > MaxCollectionFiles {
		return bad("%d files (want 1 to %d)", count, MaxCollectionFiles)
	}
	if count > len(rest)/(manifestEntryLen+1) {
		return bad("%d files cannot fit in %d bytes", count, len(b))
	}
	m := &Manifest{Files: make([]CollectionFile, 0, count)}
	seen := newPathSet()
	var total int64
	for i := range count {
		if len(rest) < manifestEntryLen {
			return bad("file %d: truncated", i)
		}
		size := binary.BigEndian.Uint64(rest)
		pl := int(binary.BigEndian.Uint16(rest[8:]))
		rest = rest[manifestEntryLen:]
		if pl > len(rest) {
			return bad("file %d: path runs past the end", i)
		}
		path := string(rest[:pl])
		rest = rest[pl:]
		if size > uint64(MaxSize-total) {
			return bad("file %d: sizes add up to more than %d bytes", i, MaxSize)
		}
		total += int64(size)
		if err := checkPath(path); err != nil {
			return bad("file %d: %v", i, err)
		}
		if i > 0 && path <= m.Files[i-1].Path {
			return bad("file %d: not in order (or a duplicate)", i)
		}
		if seen.conflicts(path) {
			return bad("file %d: same path as another ignoring case, or a file that is also a folder", i)
		}
		seen.add(path)
		m.Files = append(m.Files, CollectionFile{Path: path, Size: int64(size)})
	}
	if len(rest) != 0 {
		return bad("%d bytes after the last file", len(rest))
	}
	return m, nil
}

// checkPath checks that p is a canonical collection path.
func checkPath(p string) error {
	if p == "" || len(p) > MaxPathBytes {
		return fmt.Errorf("path of %d bytes (want 1 to %d)", len(p), MaxPathBytes)
	}
	if p[0] == '/' {
		return errors.New("absolute path")
	}
	depth := 0
	for part := range strings.SplitSeq(p, "/") {
		depth++
		switch {
		case depth > MaxPathDepth:
			return fmt.Errorf("more than %d parts", MaxPathDepth)
		case part == "":
			return errors.New("empty part")
		case part == "." || part == "..":
			return fmt.Errorf("part %q", part)
		case SanitizeName(part) != part:
			return errors.New("a part is not a sanitized name")
		}
	}
	return nil
}

// ManifestRegion returns the bytes the manifest of manifestLen bytes takes
// at the start of a collection's plaintext: manifestLen rounded up to a
// whole number of chunks of chunkSize. The files start there.
func ManifestRegion(manifestLen, chunkSize int64) int64 {
	if chunkSize <= 0 {
		return manifestLen
	}
	return (manifestLen + chunkSize - 1) / chunkSize * chunkSize
}

// CollectionHeader returns the header to seal a collection of manifest m
// (encoded as mb) under: its name, the size of manifest region plus files,
// the manifest's length, and the chunk size chunkSize (0 picks the
// default as Seal does).
func CollectionHeader(name string, m *Manifest, mb []byte, chunkSize int) (Header, error) {
	data, err := m.DataSize()
	if err != nil {
		return Header{}, fmt.Errorf("collection header: %w", err)
	}
	if chunkSize == 0 {
		// The default for the whole content; the manifest adds at most one
		// chunk to it.
		chunkSize = chooseChunkSize(data + int64(len(mb)) + MaxChunkSize)
	}
	region := ManifestRegion(int64(len(mb)), int64(chunkSize))
	if data > MaxSize-region {
		return Header{}, fmt.Errorf("collection header: more than %d bytes: %w", MaxSize, ErrBadManifest)
	}
	return Header{Name: name, Size: region + data, ChunkSize: chunkSize, ManifestLen: int64(len(mb))}, nil
}

// OpenManifest decodes the manifest of a collection from the plaintext of
// its manifest region (ManifestRegion bytes, the first chunks) and checks
// it against the header: the padding is zero and the files fill the rest of
// the content exactly.
func OpenManifest(h Header, region []byte) (*Manifest, error) {
	if h.ManifestLen <= 0 {
		return nil, fmt.Errorf("open manifest: not a collection: %w", ErrBadManifest)
	}
	want := ManifestRegion(h.ManifestLen, int64(h.ChunkSize))
	if int64(len(region)) != want {
		return nil, fmt.Errorf("open manifest: region of %d bytes, want %d: %w", len(region), want, ErrBadManifest)
	}
	for _, c := range region[h.ManifestLen:] {
		if c != 0 {
			return nil, fmt.Errorf("open manifest: non-zero padding: %w", ErrBadManifest)
		}
	}
	m, err := UnmarshalManifest(region[:h.ManifestLen])
	if err != nil {
		return nil, fmt.Errorf("open manifest: %w", err)
	}
	data, err := m.DataSize()
	if err != nil || data != h.Size-want {
		return nil, fmt.Errorf("open manifest: the files do not fill the content: %w", ErrBadManifest)
	}
	return m, nil
}
