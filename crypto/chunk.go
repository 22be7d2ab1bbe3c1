package crypto

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Overhead is the number of bytes encryption adds to every chunk and to the
// header: the Poly1305 tag.
const Overhead = chacha20poly1305.Overhead

// Nonce domains: the first byte of every 24-byte XChaCha20 nonce says what
// is encrypted, so the header and the chunks never share a nonce.
const (
	nonceChunk  = 0x00
	nonceHeader = 0x01
)

// nonceFor returns the XChaCha20-Poly1305 nonce of (domain, index):
// nonce[0] = domain, nonce[1:16] = 0, nonce[16:24] = index, big endian.
func nonceFor(domain byte, index uint64) [chacha20poly1305.NonceSizeX]byte {
	var n [chacha20poly1305.NonceSizeX]byte
	n[0] = domain
	binary.BigEndian.PutUint64(n[16:], index)
	return n
}

// newAEAD returns the XChaCha20-Poly1305 instance of a key.
func newAEAD(k Key) cipher.AEAD {
	a, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		// NewX fails only for a key of the wrong length, which a Key cannot be.
		panic("hcrypto: " + err.Error())
	}
	return a
}

// EncryptChunk encrypts plaintext chunk i under k. The result is
// len(plain)+Overhead bytes long. A (key, index) pair must never encrypt two
// different plaintexts: a seeder that re-encrypts a chunk on the fly must
// check it with Tree.CheckChunk before sending it.
func EncryptChunk(k Key, i int, plain []byte) []byte {
	return sealChunk(newAEAD(k), i, make([]byte, 0, len(plain)+Overhead), plain)
}

// sealChunk appends the encryption of plain as chunk i to dst. dst may be
// plain[:0] when plain has Overhead bytes of spare capacity (in place).
func sealChunk(a cipher.AEAD, i int, dst, plain []byte) []byte {
	n := nonceFor(nonceChunk, uint64(i))
	return a.Seal(dst, n[:], plain, nil)
}

// DecryptChunk decrypts and authenticates ciphertext chunk i under k. It
// fails with an error wrapping ErrBadChunk if the chunk was altered, comes
// from another index or another key.
func DecryptChunk(k Key, i int, ct []byte) ([]byte, error) {
	return openChunk(newAEAD(k), i, nil, ct)
}

func openChunk(a cipher.AEAD, i int, dst, ct []byte) ([]byte, error) {
	if i < 0 {
		return nil, fmt.Errorf("decrypt chunk %d: negative index: %w", i, ErrBadChunk)
	}
	if len(ct) < Overhead {
		return nil, fmt.Errorf("decrypt chunk %d: %d bytes is shorter than a tag: %w", i, len(ct), ErrBadChunk)
	}
	n := nonceFor(nonceChunk, uint64(i))
	plain, err := a.Open(dst, n[:], ct, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt chunk %d: authentication failed: %w", i, ErrBadChunk)
	}
	return plain, nil
}
