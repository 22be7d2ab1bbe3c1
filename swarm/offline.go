package swarm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// SetPausedOffline pauses (or, with paused false, resumes) a content stored
// in dataDir without starting an engine, as Pause and Resume do on a running
// one; the next engine opened there starts it or leaves it be. It returns
// the content's status as ReadState gives it, ErrNotFound for an unknown
// content, and ErrBusy while a running engine holds the database (ask that
// engine instead).
func SetPausedOffline(dataDir string, id hcrypto.ContentID, paused bool) (Status, error) {
	var st Status
	err := editOffline(dataDir, id, func(d *db, r *record) error {
		r.Paused = paused
		if !paused {
			r.Ended, r.StopAt = "", resumedTimer(r.StopAt)
		}
		if err := d.putRecord(id, r); err != nil {
			return err
		}
		st = d.offlineStatus(id, r)
		return nil
	})
	return st, err
}

// RemoveOffline forgets a content stored in dataDir without starting an
// engine, as Remove does on a running one (with deleteData, the downloaded
// or partial file goes too; a shared file never). Errors as
// SetPausedOffline.
func RemoveOffline(dataDir string, id hcrypto.ContentID, deleteData bool) (Status, error) {
	var st Status
	err := editOffline(dataDir, id, func(d *db, r *record) error {
		st = d.offlineStatus(id, r)
		if err := d.deleteContent(id); err != nil {
			return err
		}
		// Best effort, as Engine.note: the content is gone whatever.
		_ = newHistory(dataDir).add(entryOf(st, ResultRemoved))
		if deleteData {
			return removeData(r)
		}
		return nil
	})
	return st, err
}

// editOffline opens the database of dataDir and runs edit on the record of id.
func editOffline(dataDir string, id hcrypto.ContentID, edit func(*db, *record) error) error {
	path := filepath.Join(dataDir, "hydre.db")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return ErrNotFound
	}
	d, err := openDB(path)
	if err != nil {
		return err
	}
	defer d.close()
	recs, err := d.records()
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	r, ok := recs[id]
	if !ok {
		return ErrNotFound
	}
	return edit(d, r)
}

// removeData deletes what a removed content left on disk: a download's
// partial file, its final one once complete, a blind host's ciphertext;
// never a shared file.
func removeData(r *record) error {
	if r.Kind == KindShare {
		return nil
	}
	if r.Collection {
		return removeCollectionData(r)
	}
	for _, p := range []string{r.PartPath, r.Path} {
		if p != "" && (r.Kind == KindHost || p == r.PartPath || r.Complete) {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove data: %w", err)
			}
		}
	}
	return nil
}
