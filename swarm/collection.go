package swarm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// A collection is several files, or a folder tree, as one content
// (docs/protocol.md §13): one link, one onion identity. Its plaintext is its
// manifest (whole chunks) followed by the files; on disk the manifest is a
// copy in the data folder (DataDir/collections/ID.manifest) and each file is
// itself, in the shared folder or under the download's folder. A download
// fetches the manifest's chunks first, checks it, creates the files (in a
// partial folder ".NAME.hydre-part", renamed NAME when complete), then
// fetches the chunks of the files it wants: all, or those Select names.

// FileStatus is the progress of one file of a collection.
type FileStatus struct {
	Path     string // its place in the tree, parts joined by "/" (sanitized)
	Size     int64
	Verified int64 // bytes verified and on disk
	// Fetch says whether this node fetches (or shares) it: false for a
	// file outside a download's selection.
	Fetch bool
	// Local is the file on disk ("" when not fetched).
	Local string
}

// collection is a content's layout as a collection: immutable, replaced
// when the manifest becomes known.
type collection struct {
	h       hcrypto.Header
	region  int64             // bytes of the manifest's chunks
	span    *span             // the store's data
	m       *hcrypto.Manifest // nil until the manifest's chunks are verified
	offsets []int64           // where each file starts
	files   []string          // each file under the span's root; "" not fetched
	skip    bitmap            // chunks this node does not fetch (nil: none)
}

// collectionsDir holds the manifests' copies.
func (e *Engine) collectionsDir() string { return filepath.Join(e.cfg.DataDir, "collections") }

// restPath is where a download keeps the bytes of the files it does not
// fetch that share a chunk with one it does (a sparse file).
func restPath(manifest string) string { return strings.TrimSuffix(manifest, ".manifest") + ".rest" }

// sharedFile is a file found to share in a collection.
type sharedFile struct {
	path string // in the collection, "/"-separated, before sanitizing
	abs  string
	size int64
}

// ShareFiles seals files and folders as one collection and serves it: a
// folder is shared with everything under it (symbolic links and special
// files are skipped, so nothing outside it is shared), a file under its
// name. The collection is named after the folder when one folder is given,
// after the folder that holds them otherwise.
func (e *Engine) ShareFiles(ctx context.Context, paths []string, opt ShareOptions) (Status, error) {
	name, found, err := collectFiles(paths)
	if err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	in := make([]hcrypto.CollectionFile, len(found))
	for i, f := range found {
		in[i] = hcrypto.CollectionFile{Path: f.path, Size: f.size}
	}
	m, order, err := hcrypto.NewManifest(in)
	if err != nil {
		return Status{}, fmt.Errorf("share %s: %w", name, err)
	}
	mb, err := m.MarshalBinary()
	if err != nil {
		return Status{}, fmt.Errorf("share %s: %w", name, err)
	}
	h, err := hcrypto.CollectionHeader(name, m, mb, opt.ChunkSize)
	if err != nil {
		return Status{}, fmt.Errorf("share %s: %w", name, err)
	}
	h.Created = time.Now().UTC()
	if err := os.MkdirAll(e.collectionsDir(), 0o700); err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	tmp, err := os.CreateTemp(e.collectionsDir(), "new-*.manifest")
	if err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	defer os.Remove(tmp.Name()) // renamed when all went well
	region := hcrypto.ManifestRegion(int64(len(mb)), int64(h.ChunkSize))
	_, err = tmp.Write(mb)
	if err == nil {
		err = tmp.Truncate(region)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Status{}, fmt.Errorf("share: write manifest: %w", err)
	}
	sources := make([]string, len(m.Files))
	for k := range m.Files {
		sources[k] = found[order[k]].abs
	}
	sp := newSpan(name, "", false)
	sp.add(mapFiles(m, region, tmp.Name(), sources, "")...)
	sealed, err := hcrypto.Seal(ctx, sp, h)
	sp.Close()
	if err != nil {
		return Status{}, fmt.Errorf("share %s: %w", name, err)
	}
	manifest := filepath.Join(e.collectionsDir(), sealed.Descriptor.ID().String()+".manifest")
	if err := os.Rename(tmp.Name(), manifest); err != nil {
		return Status{}, fmt.Errorf("share: %w", err)
	}
	return e.admit(&record{Path: commonDir(found, paths), Collection: true, Files: sources, Manifest: manifest}, sealed, opt)
}

// collectFiles finds the files to share under paths and names the
// collection.
func collectFiles(paths []string) (name string, found []sharedFile, err error) {
	if len(paths) == 0 {
		return "", nil, errors.New("nothing to share")
	}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", nil, err
		}
		if abs, err = filepath.EvalSymlinks(abs); err != nil { // a link named on purpose is followed
			return "", nil, err
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return "", nil, err
		}
		prefix := filepath.Base(abs) + "/"
		if len(paths) == 1 {
			prefix = "" // the collection is the folder: its name is the collection's
		}
		switch {
		case fi.Mode().IsRegular():
			found = append(found, sharedFile{path: filepath.Base(abs), abs: abs, size: fi.Size()})
		case fi.IsDir():
			err := filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.Type().IsRegular() { // folders are walked; links and special files skipped
					return nil
				}
				info, err := d.Info()
				if err != nil {
					return err
				}
				rel, err := filepath.Rel(abs, path)
				if err != nil {
					return err
				}
				found = append(found, sharedFile{path: prefix + filepath.ToSlash(rel), abs: path, size: info.Size()})
				if len(found) > hcrypto.MaxCollectionFiles {
					return fmt.Errorf("more than %d files", hcrypto.MaxCollectionFiles)
				}
				return nil
			})
			if err != nil {
				return "", nil, fmt.Errorf("%s: %w", filepath.Base(abs), err)
			}
		default:
			return "", nil, fmt.Errorf("%s: not a regular file or folder", filepath.Base(abs))
		}
		if len(paths) == 1 {
			name = filepath.Base(abs)
		}
	}
	if len(found) == 0 {
		return "", nil, fmt.Errorf("%s: no file in it to share (empty, or only links)", filepath.Base(paths[0]))
	}
	if name == "" {
		name = filepath.Base(commonDir(found, paths))
		if name == "/" || name == "." || name == string(filepath.Separator) {
			name = "collection"
		}
	}
	return name, found, nil
}

// commonDir is the shared folder when one folder is shared, the deepest
// folder holding every path otherwise.
func commonDir(found []sharedFile, paths []string) string {
	if len(paths) == 1 {
		if abs, err := filepath.Abs(paths[0]); err == nil {
			if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
				return abs
			}
		}
	}
	dir := filepath.Dir(found[0].abs)
	for _, f := range found[1:] {
		for dir != filepath.Dir(dir) {
			if rel, err := filepath.Rel(dir, f.abs); err == nil && filepath.IsLocal(rel) {
				break
			}
			dir = filepath.Dir(dir)
		}
	}
	return dir
}

// mapFiles returns the segments of a collection's data: the manifest's copy,
// then each file: sources[k] (rooted, under the span's root, when rest is
// not ""), or the rest file for a file not fetched ("").
func mapFiles(m *hcrypto.Manifest, region int64, manifest string, sources []string, rest string) []segment {
	segs := []segment{{off: 0, n: region, path: manifest}}
	for k, off := range m.Offsets(region) {
		size := m.Files[k].Size
		switch {
		case size == 0:
		case sources[k] == "":
			segs = append(segs, segment{off: off, n: size, path: rest, foff: off})
		default:
			segs = append(segs, segment{off: off, n: size, path: sources[k], rooted: rest != ""})
		}
	}
	return segs
}

// cleanSelection is sel, the files or folders of a collection to fetch,
// each as a path in it ("photos/2024/a.jpg", "photos").
func cleanSelection(sel []string) ([]string, error) {
	if len(sel) == 0 {
		return nil, nil
	}
	clean := make([]string, len(sel))
	for i, s := range sel {
		clean[i] = strings.Trim(filepath.ToSlash(s), "/")
		if clean[i] == "" {
			return nil, errors.New("an empty file name to fetch")
		}
	}
	return clean, nil
}
