package swarm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// errPartGone says that a download's partial file is no longer on disk.
var errPartGone = errors.New("partial file gone")

// partGone explains a missing partial file: deleted or moved (Resume starts
// over), or in a folder that is missing too, as on a drive that is not
// connected (Resume tries again, and must not create the folder).
func partGone(part string) error {
	dir := filepath.Dir(part)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%w: the download folder is missing (on a drive that is not connected?): connect it, then resume the download (%s)",
			errPartGone, dir)
	}
	return fmt.Errorf("%w: it was deleted or moved: resuming the download fetches it again from the start (%s)", errPartGone, part)
}

// choosePaths picks the output and temporary names of a download in its
// destination folder from the sealed header's name, which a peer controls:
// it is sanitized and the result is checked to stay inside the folder.
func choosePaths(destDir string, h hcrypto.Header) (final, part string, err error) {
	dest, err := filepath.Abs(destDir)
	if err != nil {
		return "", "", fmt.Errorf("destination: %w", err)
	}
	base := safeName(h.Name)
	ext := filepath.Ext(base)
	stem := base[:len(base)-len(ext)]
	for n := 1; n < 1000; n++ {
		name := base
		if n > 1 {
			name = fmt.Sprintf("%s (%d)%s", stem, n, ext)
		}
		final, part := filepath.Join(dest, name), filepath.Join(dest, "."+name+".hydre-part")
		if !inside(dest, final) || !inside(dest, part) {
			return "", "", fmt.Errorf("file name from the link escapes the destination folder")
		}
		if exists(final) || exists(part) {
			continue
		}
		return final, part, nil
	}
	return "", "", fmt.Errorf("no free file name for %q in %s", base, dest)
}

// safeName returns a file name that is one local path element.
func safeName(name string) string {
	name = hcrypto.SanitizeName(name)
	if name == "" || name == "." || name == ".." || !filepath.IsLocal(name) || filepath.Base(name) != name {
		return "download"
	}
	return name
}

func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && filepath.IsLocal(rel) && filepath.Dir(path) == dir
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, os.ErrNotExist)
}

// samePath reports whether a and b are links to one file (a crash between
// link and remove).
func samePath(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
