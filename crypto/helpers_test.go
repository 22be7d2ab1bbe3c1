package crypto

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// testKey returns a fixed key derived from seed, for reproducible tests.
func testKey(seed byte) Key {
	var k Key
	for i := range k {
		k[i] = seed + byte(i)
	}
	return k
}

// testData returns n deterministic pseudo-random bytes.
func testData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// sealBytes seals data with a fixed key and the given chunk size.
func sealBytes(t testing.TB, data []byte, chunkSize int, key Key) *Sealed {
	t.Helper()
	h := Header{Name: "file.bin", Size: int64(len(data)), MediaType: "application/octet-stream",
		ChunkSize: chunkSize, Created: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	s, err := sealWith(context.Background(), bytes.NewReader(data), h, key, 2)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return s
}

// ciphertexts returns every ciphertext chunk of a sealed byte slice.
func ciphertexts(t testing.TB, s *Sealed, data []byte) [][]byte {
	t.Helper()
	out := make([][]byte, s.Descriptor.NumChunks())
	for i := range out {
		ct, _, err := s.ReadChunk(bytes.NewReader(data), i)
		if err != nil {
			t.Fatalf("read chunk %d: %v", i, err)
		}
		out[i] = ct
	}
	return out
}
