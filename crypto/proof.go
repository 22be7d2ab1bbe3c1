package crypto

import "fmt"

// MaxProofDepth bounds the number of sibling hashes in a proof.
const MaxProofDepth = 64

// Proof proves that a ciphertext chunk belongs to a content: the sibling
// hashes on the path from the chunk's leaf to the root, bottom up, skipping
// the levels where the path's node has no sibling (it is promoted as is).
// The proof of a live content's chunk is instead the signature of the key
// its descriptor names (Sig, SignatureSize bytes).
type Proof struct {
	Siblings [][32]byte
	Sig      []byte
}

// SignatureSize is the length of a live content's chunk signature.
const SignatureSize = 64

// proofSigned marks a signature proof: a count byte no Merkle proof uses.
const proofSigned = 0x80

// MarshalBinary encodes the proof: count (1 byte, <= MaxProofDepth) followed
// by count 32-byte hashes; or, for a signature, 0x80 followed by the 64-byte
// signature.
func (p Proof) MarshalBinary() ([]byte, error) {
	if p.Sig != nil {
		if len(p.Sig) != SignatureSize || len(p.Siblings) != 0 {
			return nil, fmt.Errorf("marshal proof: a signature of %d bytes: %w", len(p.Sig), ErrBadProof)
		}
		return append([]byte{proofSigned}, p.Sig...), nil
	}
	if len(p.Siblings) > MaxProofDepth {
		return nil, fmt.Errorf("marshal proof: %d siblings is more than %d: %w", len(p.Siblings), MaxProofDepth, ErrBadProof)
	}
	b := make([]byte, 0, 1+32*len(p.Siblings))
	b = append(b, byte(len(p.Siblings)))
	for _, s := range p.Siblings {
		b = append(b, s[:]...)
	}
	return b, nil
}

// UnmarshalProof decodes a proof received from anyone. The length must be
// exactly 1 + 32*count with count <= MaxProofDepth. Errors wrap ErrBadProof.
func UnmarshalProof(b []byte) (Proof, error) {
	if len(b) == 0 {
		return Proof{}, fmt.Errorf("unmarshal proof: empty: %w", ErrBadProof)
	}
	if b[0] == proofSigned {
		if len(b) != 1+SignatureSize {
			return Proof{}, fmt.Errorf("unmarshal proof: %d bytes for a signature: %w", len(b), ErrBadProof)
		}
		return Proof{Sig: append([]byte(nil), b[1:]...)}, nil
	}
	n := int(b[0])
	if n > MaxProofDepth {
		return Proof{}, fmt.Errorf("unmarshal proof: %d siblings is more than %d: %w", n, MaxProofDepth, ErrBadProof)
	}
	if len(b) != 1+32*n {
		return Proof{}, fmt.Errorf("unmarshal proof: %d bytes for %d siblings: %w", len(b), n, ErrBadProof)
	}
	p := Proof{Siblings: make([][32]byte, n)}
	for i := range p.Siblings {
		copy(p.Siblings[i][:], b[1+32*i:])
	}
	return p, nil
}

// levelSizes returns the number of nodes of each level of a tree of n
// leaves, from the leaves (n) up to the root (1).
func levelSizes(n int) []int {
	sizes := []int{n}
	for n > 1 {
		n = (n + 1) / 2
		sizes = append(sizes, n)
	}
	return sizes
}

// proofLen returns the number of siblings in the proof of leaf i.
func proofLen(sizes []int, i int) int {
	k := 0
	for lvl := 0; lvl < len(sizes)-1; lvl++ {
		if (i>>lvl)^1 < sizes[lvl] {
			k++
		}
	}
	return k
}
