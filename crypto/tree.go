package crypto

import (
	"fmt"
	"sync"
)

// Tree is the Merkle tree of a content over its ciphertext chunks.
//
// Shape: level 0 holds the leaves H(0x00 || chunk); each level above pairs
// nodes left to right, H(0x01 || left || right); an odd last node is promoted
// unchanged to the next level. The single node of the top level is the root.
// (This is the tree of RFC 6962 section 2.1, built level by level.)
//
// A sealer's tree is full: it knows every leaf and can prove any chunk. A
// downloader's tree starts partial (NewPartialTree, only the root is known),
// learns leaves and siblings from each verified chunk (Add) and can then
// prove the chunks it holds to others. A Tree is safe for concurrent use.
type Tree struct {
	mu       sync.RWMutex
	n        int
	chunkLen int // ciphertext length of every chunk but the last
	lastLen  int // ciphertext length of the last chunk
	sizes    []int
	levels   [][][32]byte // levels[0] = leaves, levels[len-1] = [root]
	known    [][]uint64   // per level bitset of known nodes; nil for a full tree
	have     []uint64     // bitset of held chunks; nil for a full tree
	held     int          // number of bits set in have
	live     *liveTree    // a live content's signatures; nil for a Merkle tree
}

// newFullTree builds the full tree of d's shape over the given leaves
// (d.NumChunks() of them).
func newFullTree(d *Descriptor, leaves [][32]byte) *Tree {
	t := &Tree{n: len(leaves), sizes: levelSizes(len(leaves))}
	t.setLens(d)
	t.levels = make([][][32]byte, len(t.sizes))
	t.levels[0] = leaves
	for lvl := 1; lvl < len(t.sizes); lvl++ {
		below := t.levels[lvl-1]
		cur := make([][32]byte, t.sizes[lvl])
		for j := range cur {
			if 2*j+1 < len(below) {
				cur[j] = nodeHash(below[2*j], below[2*j+1])
			} else {
				cur[j] = below[2*j]
			}
		}
		t.levels[lvl] = cur
	}
	return t
}

// NewPartialTree returns a tree of d's shape that knows only d's root. d
// must be valid (from UnmarshalDescriptor or Seal): its size bounds the
// tree's memory, at most 64 bytes per chunk.
func NewPartialTree(d *Descriptor) *Tree {
	if d.Live() {
		return newLiveTree(d)
	}
	n := d.NumChunks()
	t := &Tree{n: n, sizes: levelSizes(n)}
	t.setLens(d)
	t.levels = make([][][32]byte, len(t.sizes))
	t.known = make([][]uint64, len(t.sizes))
	for lvl, size := range t.sizes {
		t.levels[lvl] = make([][32]byte, size)
		t.known[lvl] = make([]uint64, (size+63)/64)
	}
	top := len(t.sizes) - 1
	t.levels[top][0] = d.Root
	t.known[top][0] = 1
	t.have = make([]uint64, (n+63)/64)
	return t
}

// Root returns the root hash (a live content's signing key).
func (t *Tree) Root() [32]byte {
	if t.live != nil {
		return t.live.key
	}
	return t.levels[len(t.levels)-1][0]
}

// NumChunks returns the number of leaves.
func (t *Tree) NumChunks() int { return t.n }

// Full reports whether the tree knows every leaf (a sealer's tree, or a
// downloader's tree holding every chunk).
func (t *Tree) Full() bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.full()
}

func (t *Tree) full() bool { return t.have == nil || t.held == t.n }

func bit(set []uint64, i int) bool { return set[i/64]&(1<<(uint(i)%64)) != 0 }
func setBit(set []uint64, i int)   { set[i/64] |= 1 << (uint(i) % 64) }

func (t *Tree) isKnown(lvl, j int) bool { return t.known == nil || bit(t.known[lvl], j) }

// Has reports whether the tree holds chunk i: its leaf is known and it can
// prove it.
func (t *Tree) Has(i int) bool {
	if i < 0 || i >= t.n {
		return false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.have == nil || bit(t.have, i)
}

// Verify checks ciphertext chunk i and its proof against the root. It
// returns an error wrapping ErrBadProof if the proof is malformed or
// contradicts a node the tree knows, and ErrBadChunk if the chunk has the
// wrong length, differs from a known leaf or does not hash to the root with
// its proof. It does not change the tree.
func (t *Tree) Verify(i int, ct []byte, p Proof) error {
	leaf := leafHash(ct)
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.live != nil {
		return t.verifySigned(i, leaf, len(ct), p)
	}
	_, err := t.verify(i, leaf, len(ct), p)
	return err
}

// verify checks a leaf hash with its proof and returns the path's nodes
// from the leaf up to the root.
func (t *Tree) verify(i int, leaf [32]byte, ctLen int, p Proof) ([][32]byte, error) {
	if i < 0 || i >= t.n {
		return nil, fmt.Errorf("verify chunk %d: index out of range [0, %d): %w", i, t.n, ErrBadChunk)
	}
	if want := chunkLenOf(t, i); ctLen >= 0 && ctLen != want {
		return nil, fmt.Errorf("verify chunk %d: length %d, want %d: %w", i, ctLen, want, ErrBadChunk)
	}
	if want := proofLen(t.sizes, i); len(p.Siblings) != want {
		return nil, fmt.Errorf("verify chunk %d: proof has %d siblings, want %d: %w", i, len(p.Siblings), want, ErrBadProof)
	}
	if t.isKnown(0, i) && t.levels[0][i] != leaf {
		return nil, fmt.Errorf("verify chunk %d: differs from the known chunk: %w", i, ErrBadChunk)
	}
	path := make([][32]byte, 0, len(t.sizes))
	h, k := leaf, 0
	path = append(path, h)
	for lvl := 0; lvl < len(t.sizes)-1; lvl++ {
		j := i >> lvl
		if sib := j ^ 1; sib < t.sizes[lvl] {
			s := p.Siblings[k]
			k++
			if t.isKnown(lvl, sib) && t.levels[lvl][sib] != s {
				return nil, fmt.Errorf("verify chunk %d: proof contradicts a known node: %w", i, ErrBadProof)
			}
			if j&1 == 0 {
				h = nodeHash(h, s)
			} else {
				h = nodeHash(s, h)
			}
		}
		path = append(path, h)
	}
	if h != t.Root() {
		return nil, fmt.Errorf("verify chunk %d: chunk and proof do not match the content id: %w", i, ErrBadChunk)
	}
	return path, nil
}

func (t *Tree) setLens(d *Descriptor) {
	t.chunkLen = int(d.ChunkSize) + Overhead
	t.lastLen = d.ChunkLen(t.n - 1)
}

// chunkLenOf returns the ciphertext length of chunk i.
func chunkLenOf(t *Tree, i int) int {
	if i == t.n-1 {
		return t.lastLen
	}
	return t.chunkLen
}

// Add verifies chunk i with its proof (as Verify) and then remembers the
// chunk's leaf, its path and the proof's siblings, so that the tree holds
// chunk i and can prove it with Proof.
func (t *Tree) Add(i int, ct []byte, p Proof) error {
	leaf := leafHash(ct)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.live != nil {
		return t.addSigned(i, leaf, len(ct), p)
	}
	return t.addLeaf(i, leaf, len(ct), p)
}

// addLeaf is Add for a leaf hash; ctLen < 0 skips the length check.
func (t *Tree) addLeaf(i int, leaf [32]byte, ctLen int, p Proof) error {
	path, err := t.verify(i, leaf, ctLen, p)
	if err != nil {
		return err
	}
	if t.have == nil {
		return nil
	}
	k := 0
	for lvl := range t.sizes {
		j := i >> lvl
		t.levels[lvl][j] = path[lvl]
		setBit(t.known[lvl], j)
		if lvl == len(t.sizes)-1 {
			break
		}
		if sib := j ^ 1; sib < t.sizes[lvl] {
			t.levels[lvl][sib] = p.Siblings[k]
			setBit(t.known[lvl], sib)
			k++
		}
	}
	if !bit(t.have, i) {
		setBit(t.have, i)
		t.held++
	}
	return nil
}

// Proof returns the proof of chunk i, which the tree must hold (see Has);
// otherwise the error wraps ErrNoChunk.
func (t *Tree) Proof(i int) (Proof, error) {
	if i < 0 || i >= t.n {
		return Proof{}, fmt.Errorf("proof of chunk %d: index out of range [0, %d): %w", i, t.n, ErrNoChunk)
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.have != nil && !bit(t.have, i) {
		return Proof{}, fmt.Errorf("proof of chunk %d: %w", i, ErrNoChunk)
	}
	if t.live != nil {
		return Proof{Sig: append([]byte(nil), t.live.sigs[i][:]...)}, nil
	}
	return t.proof(i), nil
}

func (t *Tree) proof(i int) Proof {
	p := Proof{Siblings: make([][32]byte, 0, proofLen(t.sizes, i))}
	for lvl := 0; lvl < len(t.sizes)-1; lvl++ {
		if sib := (i >> lvl) ^ 1; sib < t.sizes[lvl] {
			p.Siblings = append(p.Siblings, t.levels[lvl][sib])
		}
	}
	return p
}

// CheckChunk reports whether ct is exactly the ciphertext chunk i the tree
// holds. A seeder that re-encrypts chunks from the plaintext file on the fly
// calls it before sending each one: a changed file would otherwise reuse a
// (key, nonce) pair with a different plaintext. It returns an error wrapping
// ErrBadChunk on a mismatch and ErrNoChunk if the tree does not hold chunk i.
func (t *Tree) CheckChunk(i int, ct []byte) error {
	if i < 0 || i >= t.n {
		return fmt.Errorf("check chunk %d: index out of range [0, %d): %w", i, t.n, ErrNoChunk)
	}
	leaf := leafHash(ct)
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.have != nil && !bit(t.have, i) {
		return fmt.Errorf("check chunk %d: %w", i, ErrNoChunk)
	}
	if len(ct) != chunkLenOf(t, i) || t.levels[0][i] != leaf {
		return fmt.Errorf("check chunk %d: differs from the sealed chunk: %w", i, ErrBadChunk)
	}
	return nil
}
