package swarm

import (
	"errors"
	"fmt"
	"io"
	"os"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// ErrChanged reports a shared file that no longer matches what was sealed:
// the engine stops serving it rather than encrypt different bytes under the
// same key and nonce.
var ErrChanged = errors.New("file changed since it was shared")

// store is the data of one content on disk: plaintext (a shared file, or a
// download's output file) or, for a blind host, ciphertext. Only one copy of
// the data exists; chunks are encrypted on the fly to be served.
type store struct {
	f     *os.File
	desc  *hcrypto.Descriptor
	key   *hcrypto.Key // nil: the file holds ciphertext
	tree  *hcrypto.Tree
	write bool
}

// ctOffset returns where ciphertext chunk i starts in a blind host's file.
func (s *store) ctOffset(i int) int64 { return int64(i) * int64(s.desc.ChunkLen(0)) }

// readChunk returns ciphertext chunk i, checked against the tree's leaf.
func (s *store) readChunk(i int) ([]byte, error) {
	var ct []byte
	if s.key == nil {
		ct = make([]byte, s.desc.ChunkLen(i))
		if _, err := s.f.ReadAt(ct, s.ctOffset(i)); err != nil {
			return nil, fmt.Errorf("read chunk %d: %w", i, err)
		}
	} else {
		off, n := s.desc.PlainRange(i)
		plain := make([]byte, n, n+hcrypto.Overhead)
		if _, err := s.f.ReadAt(plain, off); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("read chunk %d: %w (file truncated)", i, ErrChanged)
			}
			return nil, fmt.Errorf("read chunk %d: %w", i, err)
		}
		ct = hcrypto.EncryptChunk(*s.key, i, plain)
	}
	if err := s.tree.CheckChunk(i, ct); err != nil {
		if s.key != nil {
			return nil, fmt.Errorf("chunk %d: %w", i, ErrChanged)
		}
		return nil, fmt.Errorf("chunk %d: stored ciphertext damaged: %w", i, err)
	}
	return ct, nil
}

// writeChunk stores ciphertext chunk i, already verified against the tree:
// decrypted for a download, as is for a blind host.
func (s *store) writeChunk(i int, ct []byte) error {
	if !s.write {
		return errors.New("write chunk: store is read-only")
	}
	if s.key == nil {
		if _, err := s.f.WriteAt(ct, s.ctOffset(i)); err != nil {
			return fmt.Errorf("write chunk %d: %w", i, err)
		}
		return nil
	}
	plain, err := hcrypto.DecryptChunk(*s.key, i, ct)
	if err != nil {
		return fmt.Errorf("write chunk %d: %w", i, err)
	}
	off, _ := s.desc.PlainRange(i)
	if _, err := s.f.WriteAt(plain, off); err != nil {
		return fmt.Errorf("write chunk %d: %w", i, err)
	}
	return nil
}

// readPlain reads plaintext for Open; the caller checked that the chunks
// under [off, off+len(p)) are verified.
func (s *store) readPlain(p []byte, off int64) (int, error) {
	if s.key == nil {
		return 0, ErrNoKey
	}
	return s.f.ReadAt(p, off)
}

func (s *store) sync() error {
	if !s.write {
		return nil
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", s.f.Name(), err)
	}
	return nil
}

func (s *store) close() error { return s.f.Close() }
