package swarm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

// TestChoosePathsLongNames: a name of up to 255 bytes (the most a file
// system takes, and what a sharer's file may be called) gives a final and a
// partial name that fit, whole characters only, even after " (2)".
func TestChoosePathsLongNames(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"ascii 255", strings.Repeat("a", 251) + ".mkv"},
		{"ascii no ext", strings.Repeat("b", 255)},
		{"multibyte", strings.Repeat("é", 125) + ".mp4"},
		{"long ext", "x." + strings.Repeat("e", 200)},
		{"short", "film.mkv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for round := 1; round <= 2; round++ {
				final, part, err := choosePaths(dir, hcrypto.Header{Name: tc.in})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range []string{final, part} {
					b := filepath.Base(p)
					if len(b) > maxNameLen || !utf8.ValidString(b) {
						t.Fatalf("name %q: %d bytes", b, len(b))
					}
				}
				if round == 2 && !strings.Contains(filepath.Base(final), " (2)") {
					t.Fatalf("second name %q, want a \" (2)\"", filepath.Base(final))
				}
				if filepath.Ext(tc.in) == ".mkv" && filepath.Ext(final) != ".mkv" {
					t.Fatalf("extension lost: %q", final)
				}
				// Both can be created: the file system takes them.
				for _, p := range []string{final, part} {
					if err := os.WriteFile(p, nil, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				os.Remove(part)
			}
		})
	}
}

// TestChoosePathsUnreadableFolder: a folder that cannot be searched gives a
// clear error, not "no free file name".
func TestChoosePathsUnreadableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every folder")
	}
	dir := filepath.Join(t.TempDir(), "locked")
	if err := os.Mkdir(dir, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	_, _, err := choosePaths(dir, hcrypto.Header{Name: "a.bin"})
	if err == nil || strings.Contains(err.Error(), "no free file name") || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("err %v, want permission denied", err)
	}
}

// TestLongNameDownloadPrivate downloads a file whose name is 255 bytes into
// a folder hydre creates: it completes (it used to stick in "starting"),
// the folder is 0700 and the partial and final files 0600.
func TestLongNameDownloadPrivate(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	dest := filepath.Join(t.TempDir(), "new", "downloads")
	b := newNode(t, n, "b", func(c *Config) { c.DownloadDir = dest })
	name := strings.Repeat("n", 251) + ".bin"
	path, data := writeFile(t, t.TempDir(), name, 100<<10)
	st := a.share(path, 16<<10)
	got, err := b.e.Get(t.Context(), st.Link, "")
	if err != nil {
		t.Fatal(err)
	}
	b.waitFor(got.ID, 10*time.Second, "a partial file", func(s Status) bool { return s.Path != "" })
	done := b.waitDone(got.ID, 30*time.Second)
	checkFile(t, done.Path, data)
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{{dest, 0o700}, {filepath.Dir(dest), 0o700}, {done.Path, 0o600}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, fi.Mode().Perm(), c.mode)
		}
	}
}
