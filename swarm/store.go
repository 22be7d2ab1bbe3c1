package swarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
	"github.com/hydre-p2p/hydre/swarm/wire"
)

// errChanged reports a shared file that no longer matches what was sealed:
// the engine stops serving it rather than encrypt different bytes under the
// same key and nonce.
var errChanged = errors.New("file changed since it was shared")

// store is the data of one content on disk: plaintext (a shared file, or a
// download's output file) or, for a blind host, ciphertext. Only one copy of
// the data exists; chunks are encrypted on the fly to be served.
type store struct {
	f     storeFile
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
				return nil, fmt.Errorf("read chunk %d: %w (file truncated)", i, errChanged)
			}
			return nil, fmt.Errorf("read chunk %d: %w", i, err)
		}
		ct = hcrypto.EncryptChunk(*s.key, i, plain)
	}
	if err := s.tree.CheckChunk(i, ct); err != nil {
		if s.key != nil {
			return nil, fmt.Errorf("chunk %d: %w", i, errChanged)
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

// Commit batching: verified chunks reach the database (and so survive a
// crash) at most this long, or this many chunks, after they were written.
const (
	commitInterval = 500 * time.Millisecond
	commitChunks   = 64
)

type storeJob struct {
	i      int
	ct     []byte
	proof  []byte
	from   *peer
	finish bool
}

type storeResult struct {
	i      int
	from   *peer
	err    error
	bad    bool // the peer's fault: the chunk or its proof did not verify
	finish bool
}

// storeLoop verifies received chunks against the tree, writes them, and
// commits them as verified only after an fsync of the data. It is the only
// writer of the content's file and tree.
func (s *swarm) storeLoop(ctx context.Context) {
	c := s.c
	d := c.data.Load()
	st, tree := d.st, d.tree
	committed := c.chunks.bits()
	var uncommitted []int
	lastCommit := time.Now()
	commit := func() error {
		if len(uncommitted) == 0 {
			return nil
		}
		if err := st.sync(); err != nil {
			return err
		}
		for _, i := range uncommitted {
			committed.set(i)
		}
		tb, err := tree.MarshalBinary()
		if err != nil {
			return fmt.Errorf("encode tree: %w", err)
		}
		if err := s.cfg.db.saveProgress(c.id, committed, tb); err != nil {
			return fmt.Errorf("save progress: %w", err)
		}
		uncommitted = uncommitted[:0]
		lastCommit = time.Now()
		return nil
	}
	defer func() {
		if err := commit(); err != nil {
			s.log.Error("save progress", "err", err)
		}
	}()
	tick := time.NewTicker(commitInterval)
	defer tick.Stop()
	for {
		var res storeResult
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if time.Since(lastCommit) >= commitInterval {
				if err := commit(); err != nil {
					s.fatal(err)
				}
			}
			continue
		case j := <-s.storeIn:
			if j.finish {
				res = storeResult{finish: true, err: commit()}
				if res.err == nil {
					res.err = s.finishFile()
				}
			} else {
				res = storeResult{i: j.i, from: j.from}
				res.err, res.bad = s.storeChunk(st, tree, j)
				if res.err == nil {
					uncommitted = append(uncommitted, j.i)
					if len(uncommitted) >= commitChunks {
						res.err = commit()
					}
				}
			}
		}
		select {
		case s.storeOut <- res:
		case <-ctx.Done():
			return
		}
	}
}

func (s *swarm) storeChunk(st *store, tree *hcrypto.Tree, j storeJob) (err error, bad bool) {
	proof, err := hcrypto.UnmarshalProof(j.proof)
	if err != nil {
		return fmt.Errorf("chunk %d: %w", j.i, err), true
	}
	if err := tree.Verify(j.i, j.ct, proof); err != nil {
		return fmt.Errorf("chunk %d: %w", j.i, err), true
	}
	if st.key != nil {
		// Check the plaintext decrypts before anything is written; the write
		// below decrypts again (cheap next to the network).
		if _, err := hcrypto.DecryptChunk(*st.key, j.i, j.ct); err != nil {
			return fmt.Errorf("chunk %d matches the root but does not decrypt: the content is broken: %w", j.i, err), false
		}
	}
	if err := tree.Add(j.i, j.ct, proof); err != nil {
		return fmt.Errorf("chunk %d: %w", j.i, err), true
	}
	if err := st.writeChunk(j.i, j.ct); err != nil {
		return err, false
	}
	return nil, false
}

// finishFile moves a complete download to its final name, never over an
// existing file. The record says complete before the partial name goes: a
// crash in between leaves a second link to the file, which the next start
// removes (openStore), where the other order left a record that pointed to
// a partial file that was gone, with the whole file on disk.
func (s *swarm) finishFile() error {
	c := s.c
	rec := *c.record()
	if rec.Complete {
		return nil
	}
	if rec.Collection {
		return s.finishCollection()
	}
	if rec.Kind == KindDownload {
		if err := os.Link(rec.PartPath, rec.Path); err != nil && !samePath(rec.PartPath, rec.Path) {
			if !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("finish download: %w", err)
			}
			final, _, err := choosePaths(rec.DestDir, c.data.Load().header) // someone took the name meanwhile
			if err != nil {
				return fmt.Errorf("finish download: %w", err)
			}
			if err := os.Link(rec.PartPath, final); err != nil {
				return fmt.Errorf("finish download: %w", err)
			}
			rec.Path = final
		}
		syncDir(rec.DestDir)
	}
	if err := c.update(func(r *record) { r.Complete, r.Path = true, rec.Path }); err != nil {
		return err
	}
	if rec.Kind == KindDownload {
		if err := os.Remove(rec.PartPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("finish download: %w", err)
		}
	}
	c.e.note(c.status(), ResultComplete)
	return nil
}

// stored handles the verdict of the store goroutine on one chunk.
func (s *swarm) stored(ctx context.Context, r storeResult) {
	switch {
	case r.finish:
		if r.err != nil {
			s.failure = r.err
			return
		}
		s.finished = true
		for p := range s.peers {
			s.closeIfDone(p)
		}
		if s.serving {
			s.setState(StateSeeding, nil)
		} else {
			s.setState(StateDone, nil)
			s.cancel()
		}
		return
	case r.err != nil && r.bad:
		s.pk.pending[r.i] = false
		s.log.Warn("peer sent a bad chunk; banned for this content", "chunk", r.i, "err", r.err)
		s.ban(r.from)
		r.from.closeWith(wire.ByeBanned, "bad chunk", r.err)
		s.scheduleAll()
		return
	case r.err != nil:
		s.failure = r.err
		return
	}
	s.gained(ctx, r.i)
}
