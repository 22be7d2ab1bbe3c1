package swarm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

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
	c.mu.Lock()
	st, tree := c.st, c.tree
	committed := append(bitmap(nil), c.have...)
	c.mu.Unlock()
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
		if err := s.e.db.saveProgress(c.id, committed, tb); err != nil {
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
	c.mu.Lock()
	rec := *c.rec
	c.mu.Unlock()
	if rec.Complete {
		return nil
	}
	if rec.Kind == KindDownload {
		if err := os.Link(rec.PartPath, rec.Path); err != nil && !samePath(rec.PartPath, rec.Path) {
			if !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("finish download: %w", err)
			}
			c.mu.Lock()
			h := c.header
			c.mu.Unlock()
			final, _, err := choosePaths(rec.DestDir, h) // someone took the name meanwhile
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
	c.mu.Lock()
	c.rec.Complete = true
	c.rec.Path = rec.Path
	err := c.e.db.putRecord(c.id, c.rec)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if rec.Kind == KindDownload {
		if err := os.Remove(rec.PartPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("finish download: %w", err)
		}
	}
	return nil
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
