package node

import (
	"io"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// Section is the part [off, off+size) of a reader of a torrent's data (a
// Stream from a node, or a bridge.Torrent's reader): one file of the
// torrent, readable and seekable on its own, as a player wants it. It
// satisfies swarm/stream's Media.
type Section struct {
	r         io.ReadSeekCloser
	off, size int64
	pos       int64
	name      string
}

// NewSection returns the section [off, off+size) of r, named name (the
// file's base name); it expects r positioned at off and closes r at Close.
func NewSection(r io.ReadSeekCloser, off, size int64, name string) *Section {
	return &Section{r: r, off: off, size: size, name: name}
}

// Read reads the section; a reader that ends early is io.ErrUnexpectedEOF.
func (m *Section) Read(p []byte) (int, error) {
	if m.pos >= m.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), m.size-m.pos)]
	n, err := m.r.Read(p)
	m.pos += int64(n)
	if err == io.EOF && m.pos < m.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Seek moves within the section (positions relative to its start).
func (m *Section) Seek(off int64, whence int) (int64, error) {
	off, err := hcrypto.SeekPosition(off, whence, m.pos, m.size)
	if err != nil {
		return m.pos, err
	}
	if _, err := m.r.Seek(m.off+off, io.SeekStart); err != nil {
		return m.pos, err
	}
	m.pos = off
	return off, nil
}

// Close closes the underlying reader.
func (m *Section) Close() error { return m.r.Close() }

// Name returns the file's name.
func (m *Section) Name() string { return m.name }

// Size returns the section's length.
func (m *Section) Size() int64 { return m.size }

// MediaType returns "": the stream server derives the type from the name.
func (m *Section) MediaType() string { return "" }
