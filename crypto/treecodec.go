package crypto

import (
	"encoding/binary"
	"fmt"
)

// Tree encoding (for a node's own storage, not the wire):
//
//	format (1) = 1 || kind (1): 0 full, 1 partial || leaves (4, big endian)
//	full:    leaves * 32-byte leaf hashes
//	partial: held-chunks bitset (ceil(leaves/8) bytes, bit i = byte i/8, bit i%8)
//	         then for each level from the leaves up: its known-nodes bitset,
//	         then the 32-byte hashes of its known nodes in order.
const (
	treeFormat      = 1
	treeKindFull    = 0
	treeKindPartial = 1
	treeKindLive    = 2 // held-chunks bitset, then leaf (32) || signature (64) of each held chunk
	treeHeaderLen   = 1 + 1 + 4
)

// MarshalBinary encodes the tree for storage (a full tree as its leaves, a
// partial one as what it knows). UnmarshalTree reverses it.
func (t *Tree) MarshalBinary() ([]byte, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	b := make([]byte, 0, treeHeaderLen+32*t.n)
	b = append(b, treeFormat, treeKindFull)
	b = binary.BigEndian.AppendUint32(b, uint32(t.n))
	if t.live != nil {
		b[1] = treeKindLive
		b = appendBits(b, t.have, t.n)
		for i := range t.n {
			if bit(t.have, i) {
				b = append(b, t.levels[0][i][:]...)
				b = append(b, t.live.sigs[i][:]...)
			}
		}
		return b, nil
	}
	if t.have == nil {
		for _, l := range t.levels[0] {
			b = append(b, l[:]...)
		}
		return b, nil
	}
	b[1] = treeKindPartial
	b = appendBits(b, t.have, t.n)
	for lvl, size := range t.sizes {
		b = appendBits(b, t.known[lvl], size)
		for j := 0; j < size; j++ {
			if bit(t.known[lvl], j) {
				b = append(b, t.levels[lvl][j][:]...)
			}
		}
	}
	return b, nil
}

func appendBits(b []byte, set []uint64, n int) []byte {
	for i := 0; i < n; i += 8 {
		var c byte
		for k := 0; k < 8 && i+k < n; k++ {
			if bit(set, i+k) {
				c |= 1 << k
			}
		}
		b = append(b, c)
	}
	return b
}

// readBits decodes a bitset of n bits from b, rejecting stray bits past n.
func readBits(b []byte, n int) ([]uint64, []byte, error) {
	nb := (n + 7) / 8
	if len(b) < nb {
		return nil, nil, fmt.Errorf("bitset cut short")
	}
	set := make([]uint64, (n+63)/64)
	for i := 0; i < nb; i++ {
		for k := 0; k < 8; k++ {
			if b[i]&(1<<k) == 0 {
				continue
			}
			if 8*i+k >= n {
				return nil, nil, fmt.Errorf("stray bit past %d", n)
			}
			setBit(set, 8*i+k)
		}
	}
	return set, b[nb:], nil
}

// UnmarshalTree decodes a tree stored by MarshalBinary and checks it
// against d: a full tree must rebuild d's root, and every chunk a partial
// tree holds must prove against it (nodes that prove nothing are dropped).
// Errors wrap ErrBadTree.
func UnmarshalTree(d *Descriptor, b []byte) (*Tree, error) {
	n := d.NumChunks()
	if len(b) < treeHeaderLen || b[0] != treeFormat {
		return nil, fmt.Errorf("unmarshal tree: bad header: %w", ErrBadTree)
	}
	if got := int(binary.BigEndian.Uint32(b[2:6])); got != n {
		return nil, fmt.Errorf("unmarshal tree: %d leaves, descriptor has %d chunks: %w", got, n, ErrBadTree)
	}
	rest := b[treeHeaderLen:]
	if d.Live() != (b[1] == treeKindLive) {
		return nil, fmt.Errorf("unmarshal tree: kind %d for a descriptor of version %d: %w", b[1], d.Version, ErrBadTree)
	}
	switch b[1] {
	case treeKindLive:
		return unmarshalLive(d, rest)
	case treeKindFull:
		if len(rest) != 32*n {
			return nil, fmt.Errorf("unmarshal tree: %d bytes for %d leaves: %w", len(rest), n, ErrBadTree)
		}
		leaves := make([][32]byte, n)
		for i := range leaves {
			copy(leaves[i][:], rest[32*i:])
		}
		t := newFullTree(d, leaves)
		if t.Root() != d.Root {
			return nil, fmt.Errorf("unmarshal tree: leaves do not match the root: %w", ErrBadTree)
		}
		return t, nil
	case treeKindPartial:
		return unmarshalPartial(d, rest)
	default:
		return nil, fmt.Errorf("unmarshal tree: unknown kind %d: %w", b[1], ErrBadTree)
	}
}

func unmarshalPartial(d *Descriptor, b []byte) (*Tree, error) {
	stored := NewPartialTree(d)
	have, b, err := readBits(b, stored.n)
	if err != nil {
		return nil, fmt.Errorf("unmarshal tree: held chunks: %v: %w", err, ErrBadTree)
	}
	for lvl, size := range stored.sizes {
		var known []uint64
		known, b, err = readBits(b, size)
		if err != nil {
			return nil, fmt.Errorf("unmarshal tree: level %d: %v: %w", lvl, err, ErrBadTree)
		}
		for j := 0; j < size; j++ {
			if !bit(known, j) {
				continue
			}
			if len(b) < 32 {
				return nil, fmt.Errorf("unmarshal tree: level %d: hashes cut short: %w", lvl, ErrBadTree)
			}
			copy(stored.levels[lvl][j][:], b)
			b = b[32:]
		}
		stored.known[lvl] = known
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("unmarshal tree: %d trailing bytes: %w", len(b), ErrBadTree)
	}
	// Rebuild from the held chunks only, each checked against the root.
	t := NewPartialTree(d)
	for i := 0; i < t.n; i++ {
		if !bit(have, i) {
			continue
		}
		if !stored.isKnown(0, i) {
			return nil, fmt.Errorf("unmarshal tree: held chunk %d has no leaf: %w", i, ErrBadTree)
		}
		p := Proof{Siblings: make([][32]byte, 0, proofLen(stored.sizes, i))}
		for lvl := 0; lvl < len(stored.sizes)-1; lvl++ {
			if sib := (i >> lvl) ^ 1; sib < stored.sizes[lvl] {
				if !stored.isKnown(lvl, sib) {
					return nil, fmt.Errorf("unmarshal tree: held chunk %d lacks a sibling: %w", i, ErrBadTree)
				}
				p.Siblings = append(p.Siblings, stored.levels[lvl][sib])
			}
		}
		if err := t.addLeaf(i, stored.levels[0][i], -1, p); err != nil {
			return nil, fmt.Errorf("unmarshal tree: held chunk %d: %v: %w", i, err, ErrBadTree)
		}
	}
	return t, nil
}
