package swarm

import "sync"

// chunks is the set of a content's chunks that are verified and on disk:
// the swarm adds to it (or a live share's feeder), uploaders serve from it,
// and readers wait on it. It is the one state of a content that changes
// chunk by chunk under a lock; everything else a content shares is an
// immutable snapshot (content.go).
type chunks struct {
	mu      sync.Mutex
	have    bitmap
	n       int           // chunks in have
	bytes   int64         // plaintext bytes of the chunks in have
	changed chan struct{} // closed and replaced at every change, and by wake
}

func newChunks() *chunks { return &chunks{changed: make(chan struct{})} }

// reset sets what is verified when the content's data is opened, and wakes
// the waiters.
func (s *chunks) reset(have bitmap, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.have, s.n, s.bytes = have, have.count(), bytes
	s.wakeLocked()
}

// state reports whether chunk i is verified and returns a channel closed at
// the next change.
func (s *chunks) state(i int) (has bool, changed <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.have.get(i), s.changed
}

// has reports whether chunk i is verified.
func (s *chunks) has(i int) bool {
	has, _ := s.state(i)
	return has
}

// add records chunk i, of size plaintext bytes, and wakes the waiters; it
// reports false if the chunk was verified already.
func (s *chunks) add(i, size int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.have.get(i) {
		return false
	}
	s.have.set(i)
	s.n++
	s.bytes += int64(size)
	s.wakeLocked()
	return true
}

// version returns a value that changes at every change of the set: the
// channel closed at the next one.
func (s *chunks) version() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// bits returns a copy of the set, in the wire's Bitfield layout.
func (s *chunks) bits() bitmap {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(bitmap(nil), s.have...)
}

// counts returns the number of chunks verified and their plaintext bytes.
func (s *chunks) counts() (n int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, s.bytes
}

// wake wakes every waiter: the content's state changed for them (it was
// removed, say).
func (s *chunks) wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wakeLocked()
}

func (s *chunks) wakeLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}
