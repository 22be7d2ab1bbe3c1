package crypto

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
)

// A live content is sealed chunk by chunk while its data arrives, so that
// it can be named, and fetched, before its end exists: a bridge node hands
// out the link of a torrent it has only begun to leech. Its descriptor
// (VersionLive) carries, where a Merkle root would be, a fresh Ed25519
// public key; the sealer signs each ciphertext chunk with it,
//
//	sig_i = Ed25519-Sign(priv, "hydre live chunk" || content ID || i (8) || H(0x00 || ct_i))
//
// and a chunk's proof is that signature. Blind hosts check it with the key
// alone, as they check a Merkle proof against the root. Unlike a root, a key
// does not bind the sealer to one content: whoever holds the private key can
// sign another chunk for an index. The sealer keeps it only until the last
// chunk is signed (Live.Seed is what it persists meanwhile), and a tree that
// holds a chunk refuses any other for that index.

// liveContext starts every signed message.
const liveContext = "hydre live chunk"

// liveTree is what a live content's Tree holds beside the leaves
// (levels[0]) and the held-chunks bitset.
type liveTree struct {
	key  [32]byte // the descriptor's Root: the public key
	id   ContentID
	sigs [][SignatureSize]byte
}

func newLiveTree(d *Descriptor) *Tree {
	n := d.NumChunks()
	t := &Tree{n: n, sizes: []int{n}}
	t.setLens(d)
	t.levels = [][][32]byte{make([][32]byte, n)}
	t.have = make([]uint64, (n+63)/64)
	t.live = &liveTree{key: d.Root, id: d.ID(), sigs: make([][SignatureSize]byte, n)}
	return t
}

// liveMessage returns the message signed for chunk i of leaf hash leaf.
func liveMessage(id ContentID, i int, leaf [32]byte) []byte {
	m := make([]byte, 0, len(liveContext)+32+8+32)
	m = append(m, liveContext...)
	m = append(m, id[:]...)
	m = binary.BigEndian.AppendUint64(m, uint64(i))
	return append(m, leaf[:]...)
}

// verifySigned checks a live chunk's leaf and signature; t.mu is held.
func (t *Tree) verifySigned(i int, leaf [32]byte, ctLen int, p Proof) error {
	if i < 0 || i >= t.n {
		return fmt.Errorf("verify chunk %d: index out of range [0, %d): %w", i, t.n, ErrBadChunk)
	}
	if want := chunkLenOf(t, i); ctLen >= 0 && ctLen != want {
		return fmt.Errorf("verify chunk %d: length %d, want %d: %w", i, ctLen, want, ErrBadChunk)
	}
	if len(p.Sig) != SignatureSize || len(p.Siblings) != 0 {
		return fmt.Errorf("verify chunk %d: a live content's proof is a %d-byte signature: %w", i, SignatureSize, ErrBadProof)
	}
	if bit(t.have, i) && t.levels[0][i] != leaf {
		return fmt.Errorf("verify chunk %d: differs from the known chunk: %w", i, ErrBadChunk)
	}
	if !ed25519.Verify(t.live.key[:], liveMessage(t.live.id, i, leaf), p.Sig) {
		return fmt.Errorf("verify chunk %d: signature does not match the content id: %w", i, ErrBadChunk)
	}
	return nil
}

// addSigned verifies and then holds a live chunk; t.mu is held.
func (t *Tree) addSigned(i int, leaf [32]byte, ctLen int, p Proof) error {
	if err := t.verifySigned(i, leaf, ctLen, p); err != nil {
		return err
	}
	if !bit(t.have, i) {
		t.levels[0][i] = leaf
		copy(t.live.sigs[i][:], p.Sig)
		setBit(t.have, i)
		t.held++
	}
	return nil
}

func unmarshalLive(d *Descriptor, b []byte) (*Tree, error) {
	t := newLiveTree(d)
	have, b, err := readBits(b, t.n)
	if err != nil {
		return nil, fmt.Errorf("unmarshal tree: held chunks: %v: %w", err, ErrBadTree)
	}
	for i := range t.n {
		if !bit(have, i) {
			continue
		}
		if len(b) < 32+SignatureSize {
			return nil, fmt.Errorf("unmarshal tree: signatures cut short: %w", ErrBadTree)
		}
		leaf := [32]byte(b[:32])
		if err := t.addSigned(i, leaf, -1, Proof{Sig: b[32 : 32+SignatureSize]}); err != nil {
			return nil, fmt.Errorf("unmarshal tree: held chunk %d: %v: %w", i, err, ErrBadTree)
		}
		b = b[32+SignatureSize:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("unmarshal tree: %d trailing bytes: %w", len(b), ErrBadTree)
	}
	return t, nil
}

// Live seals a live content: NewLive names it before its data exists, and
// AddChunk seals, signs and holds each chunk once its plaintext is final.
// The embedded Sealed serves chunks as for any content (ReadChunk).
type Live struct {
	Sealed
	priv ed25519.PrivateKey
}

// NewLive starts a live content of h.Size bytes: a fresh content key and
// signing key, the descriptor and an empty tree. h.ChunkSize 0 selects the
// default as Seal does; h.Name and h.MediaType are sanitized.
func NewLive(h Header) (*Live, error) {
	k, err := NewKey()
	if err != nil {
		return nil, fmt.Errorf("new live content: %w", err)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(rand.Reader, seed); err != nil {
		return nil, fmt.Errorf("new live content: signing key: %w", err)
	}
	h, err = prepareHeader(h)
	if err != nil {
		return nil, fmt.Errorf("new live content: %w", err)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	d := &Descriptor{Version: VersionLive, ChunkSize: uint32(h.ChunkSize), Size: h.Size,
		Root: [32]byte(priv.Public().(ed25519.PublicKey))}
	d.SealedHeader = sealHeader(k, d, h)
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("new live content: %w", err)
	}
	return &Live{Sealed: Sealed{Key: k, Descriptor: d, Tree: newLiveTree(d)}, priv: priv}, nil
}

// ResumeLive rebuilds the sealer of a live content after a restart from its
// descriptor, key, stored tree and Seed. It refuses a seed that is not the
// descriptor's signing key.
func ResumeLive(d *Descriptor, k Key, t *Tree, seed []byte) (*Live, error) {
	if !d.Live() || t.live == nil || t.live.id != d.ID() {
		return nil, fmt.Errorf("resume live content: not a live content's tree: %w", ErrBadTree)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("resume live content: signing key of %d bytes", len(seed))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if [32]byte(priv.Public().(ed25519.PublicKey)) != d.Root {
		return nil, fmt.Errorf("resume live content: the signing key is not the content's")
	}
	return &Live{Sealed: Sealed{Key: k, Descriptor: d, Tree: t}, priv: priv}, nil
}

// Seed returns the signing key's seed: a secret, kept (mode 0600) only until
// the last chunk is signed.
func (l *Live) Seed() []byte { return l.priv.Seed() }

// AddChunk reads plaintext chunk i from r, encrypts and signs it, and holds
// it in the tree. The bytes must be final: the chunk can never be signed
// again with other data. A chunk already held is checked against r instead
// (ErrBadChunk if r changed).
func (l *Live) AddChunk(r io.ReaderAt, i int) error {
	d := l.Descriptor
	if i < 0 || i >= d.NumChunks() {
		return fmt.Errorf("add live chunk %d: index out of range: %w", i, ErrNoChunk)
	}
	off, n := d.PlainRange(i)
	buf := make([]byte, n, n+Overhead)
	if err := readAtFull(r, buf, off); err != nil {
		return fmt.Errorf("add live chunk %d: %w", i, err)
	}
	ct := sealChunk(newAEAD(l.Key), i, buf[:0], buf)
	if l.Tree.Has(i) {
		if err := l.Tree.CheckChunk(i, ct); err != nil {
			return fmt.Errorf("add live chunk %d: data changed since it was signed: %w", i, err)
		}
		return nil
	}
	leaf := leafHash(ct)
	sig := ed25519.Sign(l.priv, liveMessage(l.Tree.live.id, i, leaf))
	return l.Tree.Add(i, ct, Proof{Sig: sig})
}
