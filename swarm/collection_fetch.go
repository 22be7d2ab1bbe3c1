package swarm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// openCollection opens a collection's data for its store (content.openStore):
// a share's files where they are; a download's folder (created at its
// first start, with the manifest's copy) and, once the manifest is known,
// its files. rec is openStore's copy: the paths chosen are set in it.
func (c *content) openCollection(d *hcrypto.Descriptor, h hcrypto.Header, rec *record) (storeFile, error) {
	region := hcrypto.ManifestRegion(h.ManifestLen, int64(h.ChunkSize))
	coll := &collection{h: h, region: region}
	switch rec.Kind {
	case KindShare:
		coll.span = newSpan(rec.Path, "", false)
		m, err := readManifest(h, rec.Manifest, region)
		if err != nil {
			return nil, err
		}
		if len(rec.Files) != len(m.Files) {
			return nil, fmt.Errorf("collection: %d files recorded for %d in its manifest", len(rec.Files), len(m.Files))
		}
		for _, f := range rec.Files {
			if _, err := os.Stat(f); errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("a shared file was deleted or moved: put it back and resume, or stop sharing the collection (%s)", f)
			}
		}
		coll.span.add(mapFiles(m, region, rec.Manifest, rec.Files, "")...)
		coll.m, coll.offsets, coll.files = m, m.Offsets(region), rec.Files
	case KindDownload:
		if rec.PartPath == "" && !rec.Complete {
			if err := c.startCollection(h, rec, region); err != nil {
				return nil, err
			}
		}
		root := rec.Path
		if !rec.Complete {
			root = rec.PartPath
			if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
				return nil, partGone(root)
			}
		} else if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("the downloaded folder was deleted or moved, so this node no longer shares it: put it back and resume, or remove it here (%s)", root)
		}
		coll.span = newSpan(root, root, true)
		coll.span.add(segment{off: 0, n: region, path: rec.Manifest})
		coll.skip = afterRegion(d, region)
		if rec.Files != nil {
			m, err := readManifest(h, rec.Manifest, region)
			if err != nil {
				return nil, err
			}
			if err := coll.mapped(d, m, rec.Files, restPath(rec.Manifest)); err != nil {
				return nil, err
			}
		}
	default:
		return nil, errors.New("collection held without its key")
	}
	c.coll.Store(coll)
	return coll.span, nil
}

// startCollection makes a new download's partial folder and the manifest's
// copy, and records them.
func (c *content) startCollection(h hcrypto.Header, rec *record, region int64) error {
	final, part, err := choosePaths(rec.DestDir, h)
	if err != nil {
		return err
	}
	if err := os.Mkdir(part, 0o700); err != nil {
		return fmt.Errorf("create download folder: %w", err)
	}
	if err := os.MkdirAll(c.e.collectionsDir(), 0o700); err != nil {
		return fmt.Errorf("create manifest copy: %w", err)
	}
	manifest := filepath.Join(c.e.collectionsDir(), c.id.String()+".manifest")
	f, err := os.OpenFile(manifest, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err == nil {
		err = f.Truncate(region)
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("create manifest copy: %w", err)
	}
	rec.Path, rec.PartPath, rec.Collection, rec.Manifest, rec.Files = final, part, true, manifest, nil
	return c.update(func(r *record) {
		r.Path, r.PartPath, r.Collection, r.Manifest, r.Files = final, part, true, manifest, nil
	})
}

// readManifest reads and checks the manifest's copy.
func readManifest(h hcrypto.Header, path string, region int64) (*hcrypto.Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the collection's manifest: %w", err)
	}
	if int64(len(b)) != region {
		return nil, fmt.Errorf("read the collection's manifest: %d bytes, want %d", len(b), region)
	}
	m, err := hcrypto.OpenManifest(h, b)
	if err != nil {
		return nil, fmt.Errorf("the collection's manifest is refused: %w", err)
	}
	return m, nil
}

// afterRegion is the set of chunks after the manifest's: those a download
// does not fetch before it knows its manifest.
func afterRegion(d *hcrypto.Descriptor, region int64) bitmap {
	n := d.NumChunks()
	b := newBitmap(n)
	for i := int(region / int64(d.ChunkSize)); i < n; i++ {
		b.set(i)
	}
	return b
}

// mapped fills a download's layout from its manifest: files[k] is file k
// under the folder ("" not fetched); skip becomes the chunks that hold no
// byte of a fetched file (nor of the manifest).
func (coll *collection) mapped(d *hcrypto.Descriptor, m *hcrypto.Manifest, files []string, rest string) error {
	if len(files) != len(m.Files) {
		return fmt.Errorf("collection: %d files recorded for %d in its manifest", len(files), len(m.Files))
	}
	coll.m, coll.offsets, coll.files = m, m.Offsets(coll.region), files
	coll.span.add(mapFiles(m, coll.region, "", files, rest)[1:]...)
	n := d.NumChunks()
	skip := newBitmap(n)
	for i := int(coll.region / int64(d.ChunkSize)); i < n; i++ {
		skip.set(i)
	}
	cs := int64(d.ChunkSize)
	for k, f := range m.Files {
		if files[k] == "" || f.Size == 0 {
			continue
		}
		for i := coll.offsets[k] / cs; i <= (coll.offsets[k]+f.Size-1)/cs; i++ {
			clearBit(skip, int(i))
		}
	}
	coll.skip = skip
	return nil
}

func clearBit(b bitmap, i int) { b[i/8] &^= 0x80 >> (i % 8) }

// pickerHave returns what the picker should take as held: the chunks held,
// and the chunks this node does not fetch. A download whose manifest is
// verified but not yet laid out (a stop in between) is laid out first.
func (s *swarm) pickerHave(have bitmap) (bitmap, error) {
	c := s.c
	coll := c.coll.Load()
	rec := c.record()
	if coll == nil {
		if rec.Select != nil && rec.Kind == KindDownload {
			return nil, errors.New("this link is a single file, not a collection: fetch it without naming files")
		}
		return have, nil
	}
	if coll.m == nil && regionHeld(coll, have, s.desc) {
		if err := c.layOut(); err != nil {
			return nil, err
		}
		coll = c.coll.Load()
	}
	if coll.skip == nil {
		return have, nil
	}
	out := append(bitmap(nil), have...)
	for i := range out {
		out[i] |= coll.skip[i]
	}
	return out, nil
}

func regionHeld(coll *collection, have bitmap, d *hcrypto.Descriptor) bool {
	for i := range int(coll.region / int64(d.ChunkSize)) {
		if !have.get(i) {
			return false
		}
	}
	return true
}

// expandCollection is called when a download has every chunk it asked for:
// if these were a collection's manifest, it lays the collection out and
// gives the picker the chunks of the files to fetch, and reports true (the
// download goes on). A manifest that is refused fails the download.
func (s *swarm) expandCollection() bool {
	coll := s.c.coll.Load()
	if coll == nil || coll.m != nil {
		return false
	}
	if err := s.c.layOut(); err != nil {
		s.failure = err
		return true
	}
	coll = s.c.coll.Load()
	for i := range s.pk.n {
		if s.pk.have.get(i) && !s.c.chunks.has(i) && !coll.skip.get(i) {
			clearBit(s.pk.have, i)
			s.pk.left++
		}
	}
	return s.pk.left > 0
}

// layOut reads a download's verified manifest, checks it (and the files
// asked for), creates its files under the partial folder, and maps them.
// Nothing is created when the manifest is refused.
func (c *content) layOut() error {
	coll := *c.coll.Load()
	d := c.data.Load().desc
	rec := c.record()
	m, err := readManifest(coll.h, rec.Manifest, coll.region)
	if err != nil {
		return err
	}
	fetch, err := selected(m, rec.Select)
	if err != nil {
		return err
	}
	root := coll.span.rootDir()
	files := make([]string, len(m.Files))
	anyRest := false
	for k, f := range m.Files {
		if !fetch[k] {
			anyRest = true
			continue
		}
		rel, err := localPath(f.Path)
		if err != nil {
			return err
		}
		full := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			return fmt.Errorf("create %s: %w", rel, err)
		}
		out, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
		if err != nil {
			return fmt.Errorf("create %s: %w", rel, err)
		}
		out.Close()
		files[k] = rel
	}
	if anyRest {
		f, err := os.OpenFile(restPath(rec.Manifest), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("create %s: %w", filepath.Base(restPath(rec.Manifest)), err)
		}
		f.Close()
	}
	if err := c.update(func(r *record) { r.Files = files }); err != nil {
		return err
	}
	if err := coll.mapped(d, m, files, restPath(rec.Manifest)); err != nil {
		return err
	}
	c.coll.Store(&coll)
	c.chunks.wake() // OpenFile waits for the manifest
	return nil
}

// selected says which files of m to fetch: those sel names (a file, or a
// folder and all under it), every file for nil.
func selected(m *hcrypto.Manifest, sel []string) ([]bool, error) {
	fetch := make([]bool, len(m.Files))
	for k := range fetch {
		fetch[k] = sel == nil
	}
	for _, s := range sel {
		found := false
		for k, f := range m.Files {
			if f.Path == s || strings.HasPrefix(f.Path, s+"/") {
				fetch[k], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("no file or folder %q in this collection", s)
		}
	}
	return fetch, nil
}

// localPath turns a manifest path into a relative path on this system,
// checking again (the manifest's decoder did) that each part is one plain
// name that stays inside the folder.
func localPath(p string) (string, error) {
	parts := strings.Split(p, "/")
	for _, part := range parts {
		if safeName(part) != part {
			return "", fmt.Errorf("collection path part %q is not a safe name", part)
		}
	}
	rel := filepath.Join(parts...)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("collection path escapes its folder")
	}
	return rel, nil
}

// finishCollection moves a complete download's folder to its final name,
// never over an existing file or folder with anything in it.
func (s *swarm) finishCollection() error {
	c := s.c
	rec := *c.record()
	if rec.Kind == KindDownload {
		final := rec.Path
		if taken, err := exists(final); err != nil || taken {
			if final, _, err = choosePaths(rec.DestDir, c.data.Load().header); err != nil {
				return fmt.Errorf("finish download: %w", err)
			}
		}
		// rename(2) replaces only an empty folder, which holds nothing to
		// lose; a file or a folder with something in it makes it fail.
		if err := os.Rename(rec.PartPath, final); err != nil {
			return fmt.Errorf("finish download: %w", err)
		}
		c.coll.Load().span.setRoot(final)
		syncDir(rec.DestDir)
		rec.Path = final
	}
	return c.update(func(r *record) { r.Complete, r.Path = true, rec.Path })
}

// fileStatus returns the progress of each file of a collection whose
// manifest is known.
func (c *content) fileStatus() *FileList {
	coll := c.coll.Load()
	d := c.data.Load().desc
	if coll == nil || coll.m == nil || d == nil {
		return nil
	}
	key := fileListKey{coll: coll, root: coll.span.rootDir(), chunks: c.chunks.version()}
	if fc := c.files.Load(); fc != nil && fc.key == key {
		return fc.list
	}
	list := coll.fileList(c.chunks.bits(), int64(d.ChunkSize))
	c.files.Store(&fileListCache{key: key, list: list})
	return list
}

// fileListCache is a collection's file list with what it was computed
// from: the layout, its folder and the version of the chunks verified.
// Status hands the same list to every caller until one of them changes;
// callers only read it.
type fileListCache struct {
	key  fileListKey
	list *FileList
}

type fileListKey struct {
	coll   *collection
	root   string
	chunks <-chan struct{}
}

// offlineFiles is fileStatus for a content read from the database (a
// collection whose files are laid out), for ReadState.
func offlineFiles(r *record, h hcrypto.Header, d *hcrypto.Descriptor, bits bitmap) *FileList {
	if !h.Collection() || r.Manifest == "" || (r.Kind == KindDownload && r.Files == nil) {
		return nil
	}
	region := hcrypto.ManifestRegion(h.ManifestLen, int64(h.ChunkSize))
	m, err := readManifest(h, r.Manifest, region)
	if err != nil || len(r.Files) != len(m.Files) {
		return nil
	}
	root := r.Path
	if r.Kind == KindDownload && !r.Complete {
		root = r.PartPath
	}
	if r.Kind == KindShare {
		root = ""
		bits = newBitmap(d.NumChunks())
		for i := range d.NumChunks() {
			bits.set(i)
		}
	}
	coll := &collection{m: m, offsets: m.Offsets(region), files: r.Files, span: newSpan("", root, false)}
	return coll.fileList(bits, int64(d.ChunkSize))
}

// fileList computes the progress of each file from the chunks verified.
func (coll *collection) fileList(bits bitmap, cs int64) *FileList {
	out := make(FileList, len(coll.m.Files))
	for k, f := range coll.m.Files {
		fs := FileStatus{Path: f.Path, Size: f.Size, Fetch: coll.files[k] != ""}
		if fs.Fetch {
			fs.Local = coll.files[k]
			if root := coll.span.rootDir(); root != "" {
				fs.Local = filepath.Join(root, coll.files[k])
			}
		}
		start, end := coll.offsets[k], coll.offsets[k]+f.Size
		for i := start / cs; i*cs < end; i++ {
			if bits.get(int(i)) {
				fs.Verified += min(end, (i+1)*cs) - max(start, i*cs)
			}
		}
		out[k] = fs
	}
	return &out
}
