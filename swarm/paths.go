package swarm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

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
	if len(ext) > 32 {
		ext = "" // not an extension worth keeping whole
	}
	stem := base[:len(base)-len(ext)]
	for n := 1; n < 1000; n++ {
		suffix := ext
		if n > 1 {
			suffix = fmt.Sprintf(" (%d)%s", n, ext)
		}
		// The partial file's name is the longest: it must fit in one path
		// element, as the final name then does.
		name := fitName(stem, maxNameLen-len(partPrefix)-len(partSuffix)-len(suffix)) + suffix
		final, part := filepath.Join(dest, name), filepath.Join(dest, partPrefix+name+partSuffix)
		if !inside(dest, final) || !inside(dest, part) {
			return "", "", fmt.Errorf("file name from the link escapes the destination folder")
		}
		taken, err := exists(final)
		if err == nil && !taken {
			taken, err = exists(part)
		}
		if err != nil {
			return "", "", fmt.Errorf("choose a file name in %s: %w", dest, err)
		}
		if taken {
			continue
		}
		return final, part, nil
	}
	return "", "", fmt.Errorf("no free file name for %q in %s", base, dest)
}

// The partial file of a download is named partPrefix+name+partSuffix.
const (
	partPrefix = "."
	partSuffix = ".hydre-part"
	// maxNameLen is the longest file name (one path element) in bytes that
	// the usual file systems take (NAME_MAX on Linux, 255 UTF-16 units on
	// NTFS and APFS, which 255 bytes never exceed).
	maxNameLen = 255
)

// fitName shortens s to at most n bytes without splitting a UTF-8
// character ("download" if nothing is left).
func fitName(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	s = strings.TrimRight(s[:cut], " .")
	if s == "" {
		return "download"
	}
	return s
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

// exists says whether something is at path; an error other than "not
// there" (a name too long, a folder that cannot be read) is returned, not
// taken for "there".
func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
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
