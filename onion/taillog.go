package onion

import (
	"bytes"
	"strings"
	"sync"
)

// tailBuffer keeps the last lines written to it.
type tailBuffer struct {
	mu     sync.Mutex
	n      int
	lines  []string
	part   []byte
	onLine func(string)
}

func newTailBuffer(n int) *tailBuffer { return &tailBuffer{n: n} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.part = append(b.part, p...)
	for {
		i := bytes.IndexByte(b.part, '\n')
		if i < 0 {
			break
		}
		l := strings.TrimSpace(string(b.part[:i]))
		b.part = b.part[i+1:]
		if b.onLine != nil {
			b.onLine(l)
		}
		b.lines = append(b.lines, l)
		if len(b.lines) > b.n {
			b.lines = b.lines[1:]
		}
	}
	return len(p), nil
}

// last returns the last line tor wrote that looks like a warning or error,
// else the last line.
func (b *tailBuffer) last() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.lines) - 1; i >= 0; i-- {
		if strings.Contains(b.lines[i], "[err]") || strings.Contains(b.lines[i], "[warn]") {
			return b.lines[i]
		}
	}
	if len(b.lines) == 0 {
		return "no output"
	}
	return b.lines[len(b.lines)-1]
}
