package crypto

import (
	"sync"

	"github.com/zeebo/blake3"
)

// Domain bytes prefixed to every BLAKE3 input, so that no hash of one kind
// can be taken for a hash of another kind (docs/protocol.md, "Hashing").
const (
	domainLeaf       = 0x00 // leaf: H(0x00 || ciphertext chunk)
	domainNode       = 0x01 // inner node: H(0x01 || left || right)
	domainDescriptor = 0x02 // content ID: H(0x02 || descriptor encoding)
	domainLink       = 0x03 // link checksum: H(0x03 || link body)
	domainIDText     = 0x04 // content ID text checksum: H(0x04 || id)
)

var hasherPool = sync.Pool{New: func() any { return blake3.New() }}

// hashDomain returns BLAKE3-256(domain || parts...).
func hashDomain(domain byte, parts ...[]byte) [32]byte {
	h := hasherPool.Get().(*blake3.Hasher)
	h.Reset()
	_, _ = h.Write([]byte{domain})
	for _, p := range parts {
		_, _ = h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	hasherPool.Put(h)
	return out
}

// leafHash returns the Merkle leaf of a ciphertext chunk.
func leafHash(ct []byte) [32]byte { return hashDomain(domainLeaf, ct) }

// nodeHash returns the inner node over two children.
func nodeHash(left, right [32]byte) [32]byte {
	var buf [65]byte
	buf[0] = domainNode
	copy(buf[1:33], left[:])
	copy(buf[33:], right[:])
	return blake3.Sum256(buf[:])
}
