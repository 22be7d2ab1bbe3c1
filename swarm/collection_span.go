package swarm

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// storeFile is what a store reads and writes the data through: the one
// *os.File of a content, or a collection's span of files.
type storeFile interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Close() error
	Name() string
}

var _ storeFile = (*os.File)(nil)

// maxOpenFiles bounds the files a span holds open at once: a collection of
// thousands of files must not run the process out of descriptors.
const maxOpenFiles = 32

// errUnmapped is a read or write of bytes a span has no file for (a
// collection's files before its manifest is known).
var errUnmapped = errors.New("collection bytes not mapped to a file yet")

// segment is a run of a content's plaintext kept in one file.
type segment struct {
	off, n int64  // where it is in the content, and its length
	path   string // absolute, or relative to the span's root when rooted
	rooted bool
	foff   int64 // where it starts in the file
}

// span is a collection's data: the content's plaintext laid over many
// files (its manifest's copy, then each file of the tree). It opens files
// as they are used, at most maxOpenFiles at a time, and syncs only those
// written since the last Sync. Bytes outside every segment cannot be read
// or written.
type span struct {
	mu    sync.Mutex
	name  string
	root  string // folder of the rooted segments
	write bool
	segs  []segment // in order of off, not overlapping
	open  map[string]*os.File
	lru   []string // open paths, least recently used first
	dirty map[string]bool
}

func newSpan(name, root string, write bool) *span {
	return &span{name: name, root: root, write: write, open: map[string]*os.File{}, dirty: map[string]bool{}}
}

// add maps more segments (the files of a collection once its manifest is
// known).
func (s *span) add(segs ...segment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.segs = append(s.segs, segs...)
	slices.SortFunc(s.segs, func(a, b segment) int { return int(min(max(a.off-b.off, -1), 1)) })
}

// setRoot moves the rooted segments to a new folder (a finished download's
// folder, renamed): the open files stay open.
func (s *span) setRoot(root string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	moved := map[string]*os.File{}
	for p, f := range s.open {
		moved[s.rebase(p, root)] = f
	}
	for i, p := range s.lru {
		s.lru[i] = s.rebase(p, root)
	}
	dirty := map[string]bool{}
	for p := range s.dirty {
		dirty[s.rebase(p, root)] = true
	}
	s.open, s.dirty, s.root = moved, dirty, root
}

func (s *span) rebase(p, root string) string {
	if rel, err := filepath.Rel(s.root, p); err == nil && filepath.IsLocal(rel) {
		return filepath.Join(root, rel)
	}
	return p
}

func (s *span) pathOf(g segment) string {
	if g.rooted {
		return filepath.Join(s.root, g.path)
	}
	return g.path
}

// file returns the open file at path, opening it (and closing the least
// recently used one) as needed. Called with mu held.
func (s *span) file(path string) (*os.File, error) {
	if f := s.open[path]; f != nil {
		if i := slices.Index(s.lru, path); i >= 0 {
			s.lru = append(slices.Delete(s.lru, i, i+1), path)
		}
		return f, nil
	}
	if len(s.lru) >= maxOpenFiles {
		if err := s.closeFile(s.lru[0]); err != nil {
			return nil, err
		}
	}
	flag := os.O_RDONLY
	if s.write {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag|oNoFollow, 0)
	if err != nil {
		return nil, err
	}
	s.open[path] = f
	s.lru = append(s.lru, path)
	return f, nil
}

// closeFile syncs (if written) and closes an open file. Called with mu held.
func (s *span) closeFile(path string) error {
	f := s.open[path]
	delete(s.open, path)
	if i := slices.Index(s.lru, path); i >= 0 {
		s.lru = slices.Delete(s.lru, i, i+1)
	}
	if f == nil {
		return nil
	}
	var err error
	if s.dirty[path] {
		err = f.Sync()
		delete(s.dirty, path)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// each calls do for every part of [off, off+n) with its segment, in order;
// bytes no segment covers are errUnmapped.
func (s *span) each(off, n int64, do func(g segment, at, len, done int64) error) error {
	end := off + n
	i, _ := slices.BinarySearchFunc(s.segs, off, func(g segment, o int64) int {
		if g.off+g.n <= o {
			return -1
		}
		if g.off > o {
			return 1
		}
		return 0
	})
	for at := off; at < end; {
		if i >= len(s.segs) || s.segs[i].off > at {
			return fmt.Errorf("%w (byte %d)", errUnmapped, at)
		}
		g := s.segs[i]
		l := min(end, g.off+g.n) - at
		if l > 0 {
			if err := do(g, at, l, at-off); err != nil {
				return err
			}
		}
		at += l
		i++
	}
	return nil
}

// ReadAt reads plaintext at off; a file shorter than its segment gives
// io.EOF (a shared file that shrank).
func (s *span) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	read := 0
	err := s.each(off, int64(len(p)), func(g segment, at, l, done int64) error {
		f, err := s.file(s.pathOf(g))
		if err != nil {
			return err
		}
		n, err := f.ReadAt(p[done:done+l], g.foff+at-g.off)
		read += n
		return err
	})
	return read, err
}

// WriteAt writes plaintext at off.
func (s *span) WriteAt(p []byte, off int64) (int, error) {
	if !s.write {
		return 0, errors.New("write: read-only collection")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wrote := 0
	err := s.each(off, int64(len(p)), func(g segment, at, l, done int64) error {
		path := s.pathOf(g)
		f, err := s.file(path)
		if err != nil {
			return err
		}
		n, err := f.WriteAt(p[done:done+l], g.foff+at-g.off)
		wrote += n
		s.dirty[path] = true
		return err
	})
	return wrote, err
}

// Sync syncs the files written since the last Sync.
func (s *span) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for path := range s.dirty {
		if f := s.open[path]; f != nil {
			if err := f.Sync(); err != nil {
				return err
			}
		}
		delete(s.dirty, path)
	}
	return nil
}

// Close closes every open file, syncing those written.
func (s *span) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for _, path := range slices.Clone(s.lru) {
		if err := s.closeFile(path); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// rootDir returns the folder of the rooted segments.
func (s *span) rootDir() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.root
}

// Name names the collection (its folder) in errors.
func (s *span) Name() string { return s.name }
