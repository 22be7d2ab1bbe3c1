package testkit

import (
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// RandomFile writes size pseudo-random bytes to dir/name and returns its
// path and contents. The bytes depend on size only, so two files of one
// size are equal (and share a content ID) and a failure replays exactly.
func RandomFile(tb testing.TB, dir, name string, size int) (string, []byte) {
	tb.Helper()
	data := make([]byte, size)
	rand.NewChaCha8(seedOf(uint64(size))).Read(data)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p, data
}

// WritePayload writes size pseudo-random bytes of the given seed to path
// (creating its folder), without holding them in memory, and returns their
// SHA-256: for payloads too large for RandomFile.
func WritePayload(tb testing.TB, path string, size int64, seed uint64) [32]byte {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 7}), size); err != nil {
		f.Close()
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// FileSHA returns the SHA-256 of the file at path.
func FileSHA(tb testing.TB, path string) [32]byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		tb.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func seedOf(n uint64) [32]byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(n >> (8 * i))
	}
	s[31] = 7
	return s
}
