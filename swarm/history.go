package swarm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The history of past transfers: what finished, failed, stopped or was
// removed, kept after the content is gone, one JSON line each in
// historyFile of the data directory (mode 0600: names and paths are this
// user's business). It holds no key and no link. Front ends read it with
// ReadHistory (the engine may run meanwhile) and empty it with
// ClearHistory.

// historyFile is the history's file in the engine's data directory.
const historyFile = "history.jsonl"

// historyMax bounds the file: past it, the older half is dropped.
const historyMax = 1 << 20

// Results of HistoryEntry besides a failure's or an ended share's reason.
const (
	ResultComplete = "complete"
	ResultRemoved  = "removed"
)

// HistoryEntry is one past transfer.
type HistoryEntry struct {
	At       time.Time `json:"at"`
	ID       string    `json:"id"`
	Kind     string    `json:"kind"` // Kind.String(): "download", "share" or "host"
	Name     string    `json:"name,omitempty"`
	Path     string    `json:"path,omitempty"`
	Size     int64     `json:"size"`
	Verified int64     `json:"verified"` // bytes of it this node held
	Uploaded int64     `json:"uploaded"` // bytes sent since it last started
	// Result is ResultComplete, ResultRemoved, "failed: <why>", or why a
	// share stopped on its own (EndedOnce, EndedTimer).
	Result string `json:"result"`
}

// history appends entries to the file of one data directory.
type history struct {
	mu   sync.Mutex
	path string
}

func newHistory(dataDir string) *history {
	return &history{path: filepath.Join(dataDir, historyFile)}
}

// entryOf is the history entry of st with result.
func entryOf(st Status, result string) HistoryEntry {
	return HistoryEntry{At: time.Now().UTC().Truncate(time.Second), ID: st.ID.String(), Kind: st.Kind.String(), Name: st.Name,
		Path: st.Path, Size: st.Size, Verified: st.Verified, Uploaded: st.Uploaded, Result: result}
}

// add appends an entry, best effort: a history that cannot be written
// loses the entry, not the transfer.
func (h *history) add(e HistoryEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	fi, serr := f.Stat()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if serr == nil && fi.Size() > historyMax {
		return h.trim()
	}
	return nil
}

// trim keeps the newer half of the file.
func (h *history) trim() error {
	b, err := os.ReadFile(h.path)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	b = b[len(b)/2:]
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return writeFileAtomic(h.path, b)
}

// writeFileAtomic replaces path with b, mode 0600.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("history: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// note records st with result in the engine's history, logging a failure.
func (e *Engine) note(st Status, result string) {
	if err := e.hist.add(entryOf(st, result)); err != nil {
		e.log.Warn("history not written", "err", err)
	}
}

// ReadHistory returns the past transfers kept in dataDir, oldest first
// (none if there is no history yet). A damaged line is skipped.
func ReadHistory(dataDir string) ([]HistoryEntry, error) {
	f, err := os.Open(filepath.Join(dataDir, historyFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer f.Close()
	var out []HistoryEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<10)
	for sc.Scan() {
		var e HistoryEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil && !e.At.IsZero() {
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read history: %w", err)
	}
	return out, nil
}

// ClearHistory forgets every past transfer kept in dataDir.
func ClearHistory(dataDir string) error {
	err := os.Remove(filepath.Join(dataDir, historyFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("clear history: %w", err)
	}
	return nil
}

// History returns the node's past transfers, oldest first (ReadHistory).
func (e *Engine) History() ([]HistoryEntry, error) { return ReadHistory(e.cfg.DataDir) }

// ClearHistory forgets the node's past transfers.
func (e *Engine) ClearHistory() error {
	e.hist.mu.Lock()
	defer e.hist.mu.Unlock()
	return ClearHistory(e.cfg.DataDir)
}
