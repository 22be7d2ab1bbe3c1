package crypto

import (
	"bytes"
	"errors"
	"testing"
)

// sealedChunks seals a file of n chunks (the last one short) and returns the
// sealed result and its ciphertext chunks.
func sealedChunks(t testing.TB, n int) (*Sealed, [][]byte) {
	t.Helper()
	data := testData((n-1)*MinChunkSize+17, uint64(n))
	s := sealBytes(t, data, MinChunkSize, testKey(byte(n)))
	return s, ciphertexts(t, s, data)
}

func TestTreeShape(t *testing.T) {
	// The root of n leaves equals the RFC 6962 recursive definition.
	var mth func(leaves [][32]byte) [32]byte
	mth = func(leaves [][32]byte) [32]byte {
		if len(leaves) == 1 {
			return leaves[0]
		}
		k := 1
		for k*2 < len(leaves) {
			k *= 2
		}
		return nodeHash(mth(leaves[:k]), mth(leaves[k:]))
	}
	d := &Descriptor{Version: Version, ChunkSize: MinChunkSize}
	for n := 1; n <= 70; n++ {
		leaves := make([][32]byte, n)
		for i := range leaves {
			leaves[i] = leafHash([]byte{byte(i), byte(n)})
		}
		d.Size = int64(n) * MinChunkSize
		tr := newFullTree(d, append([][32]byte(nil), leaves...))
		if tr.Root() != mth(leaves) {
			t.Fatalf("n=%d: level-wise root differs from RFC 6962 root", n)
		}
		for i := range n {
			p, _ := tr.Proof(i)
			if len(p.Siblings) != proofLen(tr.sizes, i) || len(p.Siblings) > MaxProofDepth {
				t.Fatalf("n=%d i=%d: proof length %d", n, i, len(p.Siblings))
			}
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 8, 13} {
		s, cts := sealedChunks(t, n)
		full, partial := s.Tree, NewPartialTree(s.Descriptor)
		for _, tr := range []*Tree{full, partial} {
			for i, ct := range cts {
				p, _ := s.Tree.Proof(i)
				if err := tr.Verify(i, ct, p); err != nil {
					t.Fatalf("n=%d chunk %d: genuine chunk rejected: %v", n, i, err)
				}
				// Every flipped bit of the chunk is rejected.
				for bitPos := 0; bitPos < len(ct)*8; bitPos += 1 + bitPos/64 {
					bad := bytes.Clone(ct)
					bad[bitPos/8] ^= 1 << (bitPos % 8)
					if err := tr.Verify(i, bad, p); !errors.Is(err, ErrBadChunk) {
						t.Fatalf("n=%d chunk %d bit %d: err = %v, want ErrBadChunk", n, i, bitPos, err)
					}
					if _, err := DecryptChunk(s.Key, i, bad); !errors.Is(err, ErrBadChunk) {
						t.Fatalf("n=%d chunk %d bit %d: decrypt err = %v", n, i, bitPos, err)
					}
				}
				// Every flipped bit of the proof is rejected.
				for k := range p.Siblings {
					for bitPos := range 256 {
						bad := Proof{Siblings: append([][32]byte(nil), p.Siblings...)}
						bad.Siblings[k][bitPos/8] ^= 1 << (bitPos % 8)
						err := tr.Verify(i, ct, bad)
						if err == nil {
							t.Fatalf("n=%d chunk %d sibling %d bit %d: accepted", n, i, k, bitPos)
						}
						if tr == full && !errors.Is(err, ErrBadProof) {
							t.Fatalf("full tree: err = %v, want ErrBadProof", err)
						}
					}
				}
				// Truncated and extended chunks and proofs are rejected.
				if err := tr.Verify(i, ct[:len(ct)-1], p); !errors.Is(err, ErrBadChunk) {
					t.Fatalf("truncated chunk: %v", err)
				}
				if err := tr.Verify(i, append(bytes.Clone(ct), 0), p); !errors.Is(err, ErrBadChunk) {
					t.Fatalf("extended chunk: %v", err)
				}
				if len(p.Siblings) > 0 {
					if err := tr.Verify(i, ct, Proof{Siblings: p.Siblings[1:]}); !errors.Is(err, ErrBadProof) {
						t.Fatalf("short proof: %v", err)
					}
				}
				if err := tr.Verify(i, ct, Proof{Siblings: append(append([][32]byte(nil), p.Siblings...), [32]byte{})}); !errors.Is(err, ErrBadProof) {
					t.Fatalf("long proof: %v", err)
				}
				// A proof for i never verifies another chunk j, at i or at j.
				for j, other := range cts {
					if j == i {
						continue
					}
					if err := tr.Verify(i, other, p); err == nil {
						t.Fatalf("n=%d: chunk %d verified with proof of %d", n, j, i)
					}
					if err := tr.Verify(j, ct, p); err == nil {
						t.Fatalf("n=%d: chunk %d verified as %d", n, i, j)
					}
					if _, err := DecryptChunk(s.Key, j, ct); err == nil {
						t.Fatalf("n=%d: chunk %d decrypted as %d", n, i, j)
					}
				}
				if err := tr.Verify(-1, ct, p); err == nil {
					t.Fatal("index -1 accepted")
				}
				if err := tr.Verify(n, ct, p); err == nil {
					t.Fatal("index n accepted")
				}
			}
		}
	}
}

func TestPartialTree(t *testing.T) {
	s, cts := sealedChunks(t, 11)
	pt := NewPartialTree(s.Descriptor)
	for i := range cts {
		if pt.Has(i) {
			t.Fatalf("fresh partial tree has chunk %d", i)
		}
		if _, err := pt.Proof(i); !errors.Is(err, ErrNoChunk) {
			t.Fatalf("proof of missing chunk: %v", err)
		}
		if err := pt.CheckChunk(i, cts[i]); !errors.Is(err, ErrNoChunk) {
			t.Fatalf("check of missing chunk: %v", err)
		}
	}
	order := []int{7, 2, 10, 3}
	for _, i := range order {
		p, _ := s.Tree.Proof(i)
		if err := pt.Add(i, cts[i], p); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	// A bad chunk is not added.
	p5, _ := s.Tree.Proof(5)
	bad := bytes.Clone(cts[5])
	bad[0] ^= 1
	if err := pt.Add(5, bad, p5); err == nil || pt.Has(5) {
		t.Fatalf("bad chunk added: %v", err)
	}
	for i := range cts {
		want := i == 7 || i == 2 || i == 10 || i == 3
		if pt.Has(i) != want {
			t.Fatalf("Has(%d) = %v, want %v", i, pt.Has(i), want)
		}
		if !want {
			continue
		}
		p, err := pt.Proof(i)
		if err != nil {
			t.Fatal(err)
		}
		if err := NewPartialTree(s.Descriptor).Verify(i, cts[i], p); err != nil {
			t.Fatalf("proof %d from partial tree does not verify: %v", i, err)
		}
		if err := pt.CheckChunk(i, cts[i]); err != nil {
			t.Fatalf("check chunk %d: %v", i, err)
		}
		if err := pt.CheckChunk(i, cts[(i+1)%len(cts)]); !errors.Is(err, ErrBadChunk) {
			t.Fatalf("check wrong chunk: %v", err)
		}
	}
	// A proof that contradicts a learned node is a bad proof.
	p6, _ := s.Tree.Proof(6)
	p6.Siblings[0][0] ^= 1 // sibling of 6 is leaf 7, which pt knows
	if err := pt.Verify(6, cts[6], p6); !errors.Is(err, ErrBadProof) {
		t.Fatalf("contradicting proof: %v", err)
	}
	if pt.Full() {
		t.Fatal("partial tree says Full")
	}
}

func TestTreeMarshal(t *testing.T) {
	s, cts := sealedChunks(t, 9)
	pt := NewPartialTree(s.Descriptor)
	for _, i := range []int{0, 4, 8} {
		p, _ := s.Tree.Proof(i)
		if err := pt.Add(i, cts[i], p); err != nil {
			t.Fatal(err)
		}
	}
	for name, tr := range map[string]*Tree{"full": s.Tree, "partial": pt, "empty partial": NewPartialTree(s.Descriptor)} {
		t.Run(name, func(t *testing.T) {
			b, err := tr.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, err := UnmarshalTree(s.Descriptor, b)
			if err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			b2, _ := got.MarshalBinary()
			if !bytes.Equal(b, b2) {
				t.Fatal("tree does not round-trip")
			}
			for i := range cts {
				if got.Has(i) != tr.Has(i) {
					t.Fatalf("Has(%d) differs after round trip", i)
				}
				if got.Has(i) {
					p, err := got.Proof(i)
					if err != nil {
						t.Fatal(err)
					}
					if err := NewPartialTree(s.Descriptor).Verify(i, cts[i], p); err != nil {
						t.Fatalf("proof %d after round trip: %v", i, err)
					}
				}
			}
			// Every flipped byte and every truncation is rejected or harmless:
			// whatever loads still proves only genuine chunks.
			for k := range b {
				bad := bytes.Clone(b)
				bad[k] ^= 0x41
				checkLoadedTree(t, s, cts, bad)
			}
			for k := range b {
				if _, err := UnmarshalTree(s.Descriptor, b[:k]); err == nil {
					t.Fatalf("tree truncated to %d bytes accepted", k)
				}
			}
			if _, err := UnmarshalTree(s.Descriptor, append(bytes.Clone(b), 0)); err == nil {
				t.Fatal("extended tree accepted")
			}
		})
	}
	other, _ := sealedChunks(t, 4)
	b, _ := s.Tree.MarshalBinary()
	if _, err := UnmarshalTree(other.Descriptor, b); !errors.Is(err, ErrBadTree) {
		t.Fatalf("tree of another content: %v", err)
	}
}

// checkLoadedTree loads b (possibly corrupt) and checks that any tree it
// yields proves only genuine chunks.
func checkLoadedTree(t *testing.T, s *Sealed, cts [][]byte, b []byte) {
	t.Helper()
	tr, err := UnmarshalTree(s.Descriptor, b)
	if err != nil {
		if !errors.Is(err, ErrBadTree) {
			t.Fatalf("error does not wrap ErrBadTree: %v", err)
		}
		return
	}
	for i := range cts {
		if !tr.Has(i) {
			continue
		}
		p, err := tr.Proof(i)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Tree.Verify(i, cts[i], p); err != nil {
			t.Fatalf("loaded tree proves chunk %d wrongly: %v", i, err)
		}
	}
}

func TestProofMarshal(t *testing.T) {
	s, _ := sealedChunks(t, 6)
	p, _ := s.Tree.Proof(3)
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalProof(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Siblings) != len(p.Siblings) {
		t.Fatal("proof does not round-trip")
	}
	for i := range got.Siblings {
		if got.Siblings[i] != p.Siblings[i] {
			t.Fatal("proof does not round-trip")
		}
	}
	tooDeep := make([]byte, 1+32*65)
	tooDeep[0] = 65
	bad := [][]byte{nil, {}, b[:len(b)-1], append(bytes.Clone(b), 0), {1}, tooDeep}
	for _, x := range bad {
		if _, err := UnmarshalProof(x); !errors.Is(err, ErrBadProof) {
			t.Fatalf("UnmarshalProof(%d bytes) err = %v", len(x), err)
		}
	}
	if _, err := (Proof{Siblings: make([][32]byte, 65)}).MarshalBinary(); err == nil {
		t.Fatal("proof deeper than 64 marshaled")
	}
}
