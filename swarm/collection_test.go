package swarm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/onion/memnet"
)

// writeTree writes n files over three levels of folders under dir/name and
// returns their contents by slash path relative to dir/name.
func writeTree(t *testing.T, dir, name string, n int) (string, map[string][]byte) {
	t.Helper()
	root := filepath.Join(dir, name)
	files := map[string][]byte{}
	for i := range n {
		rel := fmt.Sprintf("level%d/sub%d/file%03d.bin", i%3, i%5, i)
		if i%7 == 0 {
			rel = fmt.Sprintf("top%03d.txt", i)
		}
		full := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		_, data := writeFile(t, filepath.Dir(full), filepath.Base(full), (i*977)%9000)
		files[rel] = data
	}
	return root, files
}

func (nd *node) shareFiles(paths []string, chunk int) Status {
	nd.t.Helper()
	st, err := nd.e.ShareFiles(context.Background(), paths, ShareOptions{ChunkSize: chunk})
	if err != nil {
		nd.t.Fatal(err)
	}
	return st
}

// TestCollectionShareGet shares a folder of 100 files over three levels as
// one content and fetches it: one link, one onion service, every file whole
// in a folder of the shared folder's name, per-file progress complete, the
// partial folder gone; a second download into the same folder takes a free
// name rather than write into the first.
func TestCollectionShareGet(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	root, files := writeTree(t, t.TempDir(), "holiday", 100)
	if err := os.Symlink("/etc", filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	st := a.share(root, 4<<10) // Share of a folder makes a collection
	if !st.Collection || st.Name != "holiday" || len(st.FileList()) != len(files) {
		t.Fatalf("share status: collection %v name %q files %d", st.Collection, st.Name, len(st.FileList()))
	}
	got := b.get(st.Link)
	done := b.waitDone(got.ID, 30*time.Second)
	if done.Path != filepath.Join(b.dl, "holiday") {
		t.Fatalf("saved at %s", done.Path)
	}
	for rel, data := range files {
		checkFile(t, filepath.Join(done.Path, filepath.FromSlash(rel)), data)
	}
	if _, err := os.Lstat(filepath.Join(done.Path, "escape")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the symbolic link was shared: %v", err)
	}
	for _, f := range done.FileList() {
		if !f.Fetch || f.Verified != f.Size || f.Local != filepath.Join(done.Path, filepath.FromSlash(f.Path)) {
			t.Errorf("file status %+v", f)
		}
	}
	entries, _ := os.ReadDir(b.dl)
	if len(entries) != 1 {
		t.Errorf("download folder holds %d entries, want the collection's folder only", len(entries))
	}
	// One onion service for the whole collection on the sharer.
	if services := len(a.e.List()); services != 1 {
		t.Errorf("%d contents shared", services)
	}
	c := newNode(t, n, "c", nil)
	second, err := c.e.Get(context.Background(), st.Link, b.dl)
	if err != nil {
		t.Fatal(err)
	}
	again := c.waitDone(second.ID, 30*time.Second)
	if again.Path != filepath.Join(b.dl, "holiday (2)") {
		t.Errorf("second download saved at %s", again.Path)
	}
}

// TestCollectionOneFile fetches one file of a collection alone: only it is
// created, and the sharer sends the chunks that cover it and the
// manifest's, not the rest.
func TestCollectionOneFile(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	root, files := writeTree(t, t.TempDir(), "tree", 60)
	st := a.share(root, 1<<10)
	want := "level1/sub4/file004.bin"
	got, err := b.e.Fetch(context.Background(), st.Link, b.dl, FetchOptions{Files: []string{want}})
	if err != nil {
		t.Fatal(err)
	}
	done := b.waitDone(got.ID, 30*time.Second)
	checkFile(t, filepath.Join(done.Path, "level1", "sub4", "file004.bin"), files[want])
	var made int
	filepath.WalkDir(done.Path, func(_ string, d os.DirEntry, _ error) error {
		if d.Type().IsRegular() {
			made++
		}
		return nil
	})
	if made != 1 {
		t.Errorf("%d files created, want 1", made)
	}
	up := a.waitFor(st.ID, 5*time.Second, "uploaded", func(s Status) bool { return s.Uploaded > 0 }).Uploaded
	size := int64(len(files[want]))
	if up > size+8<<10 || up >= st.Size/4 {
		t.Errorf("sent %d bytes for a file of %d (whole collection %d)", up, size, st.Size)
	}
	t.Logf("one file of %d bytes: %d bytes sent of %d", size, up, st.Size)
	for _, f := range done.FileList() {
		if f.Fetch != (f.Path == want) {
			t.Errorf("file %s fetched: %v", f.Path, f.Fetch)
		}
	}
	if _, err := b.e.Fetch(context.Background(), st.Link, t.TempDir(), FetchOptions{Files: []string{"nope"}}); err != nil {
		t.Fatal(err) // known content: returns its status
	}
}

// TestCollectionSelectMissing: a file that is not in the collection fails
// the download with a message naming it, and a single file's link refuses
// a selection.
func TestCollectionSelectMissing(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	root, _ := writeTree(t, t.TempDir(), "tree", 5)
	st := a.share(root, 1<<10)
	got, err := b.e.Fetch(context.Background(), st.Link, b.dl, FetchOptions{Files: []string{"not/there.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := b.e.OpenFile(ctx, got.ID, "not/there.txt"); err == nil || ctx.Err() != nil {
		t.Errorf("OpenFile of a download that fails: %v, after the deadline: %v", err, ctx.Err())
	}
	failed := b.waitFor(got.ID, 20*time.Second, "failed", func(s Status) bool { return s.State == StateFailed })
	if !strings.Contains(failed.Err, `no file or folder "not/there.txt"`) {
		t.Errorf("error %q", failed.Err)
	}
	path, _ := writeFile(t, t.TempDir(), "one.bin", 5000)
	single := a.share(path, 1<<10)
	got, err = b.e.Fetch(context.Background(), single.Link, b.dl, FetchOptions{Files: []string{"one.bin"}})
	if err != nil {
		t.Fatal(err)
	}
	failed = b.waitFor(got.ID, 20*time.Second, "failed", func(s Status) bool { return s.State == StateFailed })
	if !strings.Contains(failed.Err, "not a collection") {
		t.Errorf("error %q", failed.Err)
	}
}

// TestCollectionOpenFile streams one file of a collection while nothing is
// fetched but what it reads: reads and seeks stay inside the file.
func TestCollectionOpenFile(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	root, files := writeTree(t, t.TempDir(), "media", 20)
	st := a.share(root, 1<<10)
	want := "level2/sub2/file017.bin"
	got, err := b.e.Fetch(context.Background(), st.Link, b.dl, FetchOptions{Files: []string{want}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := b.e.OpenFile(ctx, got.ID, want)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Name() != "file017.bin" || f.Size() != int64(len(files[want])) {
		t.Fatalf("file %s of %d bytes", f.Name(), f.Size())
	}
	all, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(all, files[want]) {
		t.Fatalf("read %d bytes (%v), want the file's %d", len(all), err, len(files[want]))
	}
	if _, err := f.Seek(-10, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	tail, _ := io.ReadAll(f)
	if !bytes.Equal(tail, files[want][len(files[want])-10:]) {
		t.Fatalf("tail %x", tail)
	}
	if _, err := b.e.OpenFile(ctx, got.ID, "missing"); !errors.Is(err, ErrNoSuchFile) {
		t.Errorf("missing file: %v", err)
	}
}

// TestCollectionResumeRemove: a collection download stopped half way
// resumes after a restart into the same partial folder; Remove with its
// data deletes the files it made and nothing else in the folder.
func TestCollectionResumeRemove(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	root, files := writeTree(t, t.TempDir(), "tree", 30)
	st := a.share(root, 1<<10)
	got := b.get(st.Link)
	b.waitFor(got.ID, 20*time.Second, "files known", func(s Status) bool { return s.Files != nil })
	b.close()
	b.open()
	done := b.waitDone(got.ID, 30*time.Second)
	for rel, data := range files {
		checkFile(t, filepath.Join(done.Path, filepath.FromSlash(rel)), data)
	}
	a.close() // the restarted sharer serves from its manifest copy
	a.open()
	if s, err := a.e.Status(st.ID); err != nil || len(s.FileList()) != len(files) {
		t.Fatalf("restarted share: %v %+v", err, s)
	}
	keep := filepath.Join(done.Path, "mine.txt")
	os.WriteFile(keep, []byte("not the download's"), 0o600)
	if err := b.e.Remove(got.ID, true); err != nil {
		t.Fatal(err)
	}
	left := 0
	filepath.WalkDir(done.Path, func(_ string, d os.DirEntry, _ error) error {
		if d.Type().IsRegular() {
			left++
		}
		return nil
	})
	if _, err := os.Stat(keep); err != nil || left != 1 {
		t.Errorf("after remove: %d files left, %v", left, err)
	}
	if m, _ := filepath.Glob(filepath.Join(b.dir, "collections", "*")); len(m) != 0 {
		t.Errorf("left in the data folder: %v", m)
	}
}

// TestCollectionHostileManifest: a peer serving a collection whose sealed
// manifest breaks the rules (a path with "..", an absolute path, duplicates,
// a huge count) has its download fail with a clear error, before any file
// is created.
func TestCollectionHostileManifest(t *testing.T) {
	raw := func(count uint32, paths ...string) []byte {
		b := append([]byte("HYDC\x01"), byte(count>>24), byte(count>>16), byte(count>>8), byte(count))
		for _, p := range paths {
			b = append(b, 0, 0, 0, 0, 0, 0, 0, 3, 0, byte(len(p)))
			b = append(b, p...)
		}
		return b
	}
	for _, tc := range []struct {
		name     string
		manifest []byte
		files    int
		want     string
	}{
		{"dot dot", raw(1, "../../escape.txt"), 1, `".."`},
		{"absolute", raw(1, "/tmp/abs.txt"), 1, "absolute path"},
		{"duplicate", raw(2, "a.txt", "a.txt"), 2, "not in order (or a duplicate)"},
		{"huge count", raw(hcrypto.MaxCollectionFiles, "a.txt"), 1, "cannot fit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := memnet.New()
			a := newNode(t, n, "a", nil)
			b := newNode(t, n, "b", nil)
			link := hostileCollection(t, a, tc.manifest, tc.files*3)
			got := b.get(link)
			failed := b.waitFor(got.ID, 20*time.Second, "failed", func(s Status) bool { return s.State == StateFailed })
			if !strings.Contains(failed.Err, "manifest is refused") || !strings.Contains(failed.Err, tc.want) {
				t.Errorf("error %q, want the manifest refused: %s", failed.Err, tc.want)
			}
			made := 0
			filepath.WalkDir(b.dl, func(_ string, d os.DirEntry, _ error) error {
				if d.Type().IsRegular() {
					made++
				}
				return nil
			})
			if made != 0 {
				t.Errorf("%d files created", made)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(b.dl), "escape.txt")); err == nil {
				t.Error("a file escaped the download folder")
			}
		})
	}
}

// hostileCollection makes node a serve, as a blind host, a collection whose
// manifest is the given bytes followed by data bytes of files, sealed as a
// peer can seal anything, and returns a full link to it.
func hostileCollection(t *testing.T, a *node, manifest []byte, data int) string {
	t.Helper()
	const cs = hcrypto.MinChunkSize
	region := hcrypto.ManifestRegion(int64(len(manifest)), cs)
	plain := make([]byte, region+int64(data))
	copy(plain, manifest)
	h := hcrypto.Header{Name: "evil", Size: int64(len(plain)), ChunkSize: cs, ManifestLen: int64(len(manifest))}
	sealed, err := hcrypto.Seal(context.Background(), bytes.NewReader(plain), h)
	if err != nil {
		t.Fatal(err)
	}
	d := sealed.Descriptor
	id := d.ID()
	ct := filepath.Join(a.dir, "hosted", id.String()+".ct")
	os.MkdirAll(filepath.Dir(ct), 0o700)
	var all []byte
	for i := range d.NumChunks() {
		c, _, err := sealed.ReadChunk(bytes.NewReader(plain), i)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, c...)
	}
	if err := os.WriteFile(ct, all, 0o600); err != nil {
		t.Fatal(err)
	}
	desc, _ := d.MarshalBinary()
	tree, _ := sealed.Tree.MarshalBinary()
	secret, _ := hcrypto.NewSwarmSecret()
	rec := &record{Kind: KindHost, Path: ct, Descriptor: desc, Reshare: true, Complete: true, Created: time.Now(), Secret: secret[:]}
	c, err := a.e.add(id, rec, func(c *content) error {
		all := allChunks(d.NumChunks())
		if err := a.e.db.saveProgress(id, all, tree); err != nil {
			return err
		}
		return c.openData(d, sealed.Tree, all, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	st := a.waitFor(c.id, 10*time.Second, "reachable", func(s Status) bool { return s.Reachable })
	l, err := hcrypto.ParseLink(st.Link)
	if err != nil {
		t.Fatal(err)
	}
	l.Key = &sealed.Key
	return l.Encode()
}

// TestLiveCollection: files still being written shared as one live
// collection: its link works at once, the downloader lays the tree out
// from the manifest and gets each chunk as the feeder adds it (the file
// parts ChunkFiles names), and ends with every file whole.
func TestLiveCollection(t *testing.T) {
	n := memnet.New()
	a := newNode(t, n, "a", nil)
	b := newNode(t, n, "b", nil)
	dir := t.TempDir()
	data := map[string][]byte{}
	var files []LiveFile
	for i, name := range []string{"CD1/01 intro.flac", "CD1/02 song.flac", "cover.jpg", "empty.txt"} {
		size := []int{9000, 15000, 3000, 0}[i]
		_, d := writeFile(t, t.TempDir(), "src", size)
		disk := filepath.Join(dir, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(disk, make([]byte, size), 0o600); err != nil { // sparse, as a BitTorrent client leaves it
			t.Fatal(err)
		}
		data[disk] = d
		files = append(files, LiveFile{Path: disk, Name: name, Size: int64(size)})
	}
	ls, err := a.e.ShareLiveFiles(context.Background(), "album", files, LiveOptions{ChunkSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	st := ls.Status()
	got := b.get(st.Link)
	b.waitFor(got.ID, 20*time.Second, "manifest", func(s Status) bool { return s.Files != nil })
	// The data arrives, file by file; each chunk is added once its parts
	// are written.
	for disk, d := range data {
		if err := os.WriteFile(disk, d, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for i := range ls.NumChunks() {
		for _, p := range ls.ChunkFiles(i) {
			if p.Off+p.N > int64(len(data[p.Path])) {
				t.Fatalf("chunk %d: part %+v beyond its file", i, p)
			}
		}
		if err := ls.Add(i); err != nil {
			t.Fatal(err)
		}
	}
	done := b.waitDone(got.ID, 30*time.Second)
	for _, f := range files {
		checkFile(t, filepath.Join(done.Path, filepath.FromSlash(f.Name)), data[f.Path])
	}
	if s := ls.Status(); s.Growing || s.Name != "album" {
		t.Errorf("the live collection after its last chunk: %+v", s)
	}
}
