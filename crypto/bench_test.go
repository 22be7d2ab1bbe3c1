package crypto

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"
	"runtime"
	"testing"

	"github.com/zeebo/blake3"
)

// Micro-benchmarks of the primitives and of sealing and verification.
// docs/protocol.md quotes them for the choice of BLAKE3 and XChaCha20.

var benchSizes = []int{16 << 10, DefaultChunkSize, 4 << 20}

func BenchmarkHashSHA256(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			buf := testData(n, 1)
			b.SetBytes(int64(n))
			for b.Loop() {
				sha256.Sum256(buf)
			}
		})
	}
}

func BenchmarkHashBLAKE3(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			buf := testData(n, 1)
			b.SetBytes(int64(n))
			for b.Loop() {
				blake3.Sum256(buf)
			}
		})
	}
}

// BenchmarkCipherXChaCha20Poly1305 is the chunk cipher in use.
func BenchmarkCipherXChaCha20Poly1305(b *testing.B) {
	buf := make([]byte, DefaultChunkSize, DefaultChunkSize+Overhead)
	a := newAEAD(testKey(1))
	b.SetBytes(DefaultChunkSize)
	for b.Loop() {
		sealChunk(a, 1, buf[:0], buf[:DefaultChunkSize])
	}
}

// BenchmarkCipherAESGCM is the alternative that was measured.
func BenchmarkCipherAESGCM(b *testing.B) {
	buf := make([]byte, DefaultChunkSize, DefaultChunkSize+16)
	c, _ := aes.NewCipher(make([]byte, 32))
	a, _ := cipher.NewGCM(c)
	nonce := make([]byte, a.NonceSize())
	b.SetBytes(DefaultChunkSize)
	for b.Loop() {
		a.Seal(buf[:0], nonce, buf[:DefaultChunkSize], nil)
	}
}

func BenchmarkEncryptChunk(b *testing.B) {
	plain := testData(DefaultChunkSize, 2)
	k := testKey(1)
	b.SetBytes(DefaultChunkSize)
	for b.Loop() {
		EncryptChunk(k, 7, plain)
	}
}

func BenchmarkDecryptChunk(b *testing.B) {
	k := testKey(1)
	ct := EncryptChunk(k, 7, testData(DefaultChunkSize, 2))
	b.SetBytes(DefaultChunkSize)
	for b.Loop() {
		if _, err := DecryptChunk(k, 7, ct); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeal seals 64 MiB held in memory (hash + encrypt, every core).
func BenchmarkSeal(b *testing.B) {
	data := testData(64<<20, 3)
	h := Header{Name: "bench.bin", Size: int64(len(data))}
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sealWith(context.Background(), bytes.NewReader(data), h, testKey(1), workers); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyChunk verifies a received 256 KiB chunk of a 1 GiB content
// (4096 chunks, 12 siblings) against a downloader's partial tree, with and
// without decrypting it.
func BenchmarkVerifyChunk(b *testing.B) {
	const n = 4096
	leaves := make([][32]byte, n)
	d := &Descriptor{Version: Version, ChunkSize: DefaultChunkSize, Size: n * DefaultChunkSize}
	k := testKey(1)
	const idx = 1234
	ct := EncryptChunk(k, idx, testData(DefaultChunkSize, 4))
	for i := range leaves {
		leaves[i] = leafHash([]byte{byte(i), byte(i >> 8)})
	}
	leaves[idx] = leafHash(ct)
	full := newFullTree(d, leaves)
	d.Root = full.Root()
	p, _ := full.Proof(idx)
	pt := NewPartialTree(d)
	b.Run("verify", func(b *testing.B) {
		b.SetBytes(int64(len(ct)))
		for b.Loop() {
			if err := pt.Verify(idx, ct, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify+decrypt", func(b *testing.B) {
		b.SetBytes(int64(len(ct)))
		a := newAEAD(k)
		buf := make([]byte, 0, DefaultChunkSize)
		for b.Loop() {
			if err := pt.Verify(idx, ct, p); err != nil {
				b.Fatal(err)
			}
			if _, err := openChunk(a, idx, buf[:0], ct); err != nil {
				b.Fatal(err)
			}
		}
	})
}
