package crypto

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
)

// liveChunks seals a live content of n chunks of MinChunkSize (the last
// shorter) from data, and returns its sealer, the data and every chunk's
// ciphertext and proof.
func liveChunks(t testing.TB, n int) (*Live, []byte, [][]byte, []Proof) {
	t.Helper()
	data := testData((n-1)*MinChunkSize+17, uint64(n)+100)
	l, err := NewLive(Header{Name: "show.mkv", MediaType: "video/x-matroska", Size: int64(len(data)), ChunkSize: MinChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	for i := n - 1; i >= 0; i-- { // any order: a torrent's pieces come in any order
		if err := l.AddChunk(bytes.NewReader(data), i); err != nil {
			t.Fatal(err)
		}
	}
	cts := make([][]byte, n)
	proofs := make([]Proof, n)
	for i := range n {
		ct, p, err := l.ReadChunk(bytes.NewReader(data), i)
		if err != nil {
			t.Fatal(err)
		}
		cts[i], proofs[i] = ct, p
	}
	return l, data, cts, proofs
}

func TestLiveRoundTrip(t *testing.T) {
	l, data, cts, proofs := liveChunks(t, 5)
	db, err := l.Descriptor.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	d, err := UnmarshalDescriptor(db, l.Descriptor.ID())
	if err != nil {
		t.Fatal(err)
	}
	if !d.Live() || d.Version != VersionLive {
		t.Fatalf("descriptor version %d", d.Version)
	}
	h, err := d.OpenHeader(l.Key)
	if err != nil || h.Name != "show.mkv" || h.Size != int64(len(data)) {
		t.Fatalf("header %+v, %v", h, err)
	}
	// A blind host checks every chunk with the descriptor only; a reader
	// decrypts them back to the data.
	host := NewPartialTree(d)
	var got []byte
	for i := range cts {
		pb, err := proofs[i].MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		p, err := UnmarshalProof(pb)
		if err != nil {
			t.Fatal(err)
		}
		if err := host.Add(i, cts[i], p); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		pt, err := DecryptChunk(l.Key, i, cts[i])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, pt...)
	}
	if !bytes.Equal(got, data) || !host.Full() {
		t.Fatal("data differs after a live round trip")
	}
	// The host proves what it holds to the next host.
	next := NewPartialTree(d)
	p, err := host.Proof(3)
	if err != nil {
		t.Fatal(err)
	}
	if err := next.Add(3, cts[3], p); err != nil {
		t.Fatal(err)
	}
}

func TestLiveRefusesForgeries(t *testing.T) {
	l, data, cts, proofs := liveChunks(t, 4)
	_, _, otherCTs, otherProofs := liveChunks(t, 4)
	d := l.Descriptor
	flip := func(b []byte) []byte { c := bytes.Clone(b); c[len(c)/2] ^= 1; return c }
	merkle, _ := sealedChunks(t, 4)
	mp, _ := merkle.Tree.Proof(1)
	for _, tc := range []struct {
		name string
		i    int
		ct   []byte
		p    Proof
		want error
	}{
		{"flipped chunk", 1, flip(cts[1]), proofs[1], ErrBadChunk},
		{"flipped signature", 1, cts[1], Proof{Sig: flip(proofs[1].Sig)}, ErrBadChunk},
		{"signature of another index", 2, cts[1], proofs[1], ErrBadChunk},
		{"chunk of another index with its signature", 2, cts[1], proofs[2], ErrBadChunk},
		{"another content's chunk", 1, otherCTs[1], otherProofs[1], ErrBadChunk},
		{"merkle proof", 1, cts[1], mp, ErrBadProof},
		{"short signature", 1, cts[1], Proof{Sig: proofs[1].Sig[:63]}, ErrBadProof},
		{"index out of range", 4, cts[1], proofs[1], ErrBadChunk},
		{"short chunk", 1, cts[1][:10], proofs[1], ErrBadChunk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewPartialTree(d)
			if err := tr.Add(tc.i, tc.ct, tc.p); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tr.Has(tc.i) {
				t.Fatal("a refused chunk is held")
			}
		})
	}
	// A tree that holds a chunk refuses another one for the index, even
	// signed with the content's key (a sealer that equivocates).
	tr := NewPartialTree(d)
	if err := tr.Add(0, cts[0], proofs[0]); err != nil {
		t.Fatal(err)
	}
	forged := bytes.Clone(cts[0])
	forged[0] ^= 1
	sig := ed25519.Sign(l.priv, liveMessage(d.ID(), 0, leafHash(forged)))
	if err := tr.Add(0, forged, Proof{Sig: sig}); !errors.Is(err, ErrBadChunk) {
		t.Fatalf("a second chunk 0 signed by the key: %v", err)
	}
	// The sealer never signs a chunk twice: changed data is refused.
	changed := bytes.Clone(data)
	changed[5] ^= 1
	if err := l.AddChunk(bytes.NewReader(changed), 0); !errors.Is(err, ErrBadChunk) {
		t.Fatalf("re-adding changed data: %v", err)
	}
	if err := l.AddChunk(bytes.NewReader(data), 0); err != nil {
		t.Fatalf("re-adding the same data: %v", err)
	}
}

func TestLiveTreeCodecAndResume(t *testing.T) {
	data := testData(6*MinChunkSize, 3)
	l, err := NewLive(Header{Name: "a", Size: int64(len(data)), ChunkSize: MinChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 4} {
		if err := l.AddChunk(bytes.NewReader(data), i); err != nil {
			t.Fatal(err)
		}
	}
	tb, err := l.Tree.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalTree(l.Descriptor, tb)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if back.Has(i) != (i == 0 || i == 4) {
			t.Fatalf("chunk %d held: %v", i, back.Has(i))
		}
	}
	// Tampered signature, Merkle tree bytes, wrong descriptor: refused.
	bad := bytes.Clone(tb)
	bad[len(bad)-1] ^= 1
	if _, err := UnmarshalTree(l.Descriptor, bad); !errors.Is(err, ErrBadTree) {
		t.Fatalf("tampered signature: %v", err)
	}
	merkle, _ := sealedChunks(t, 6)
	mb, _ := merkle.Tree.MarshalBinary()
	if _, err := UnmarshalTree(l.Descriptor, mb); !errors.Is(err, ErrBadTree) {
		t.Fatalf("merkle tree for a live descriptor: %v", err)
	}
	if _, err := UnmarshalTree(merkle.Descriptor, tb); !errors.Is(err, ErrBadTree) {
		t.Fatalf("live tree for a merkle descriptor: %v", err)
	}
	// Resume with the seed and finish; a wrong seed is refused.
	wrong, _ := NewLive(Header{Size: 1})
	if _, err := ResumeLive(l.Descriptor, l.Key, back, wrong.Seed()); err == nil {
		t.Fatal("resumed with another content's signing key")
	}
	r, err := ResumeLive(l.Descriptor, l.Key, back, l.Seed())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if err := r.AddChunk(bytes.NewReader(data), i); err != nil {
			t.Fatal(err)
		}
	}
	if !r.Tree.Full() {
		t.Fatal("tree not full after every chunk")
	}
	host := NewPartialTree(l.Descriptor)
	for i := range 6 {
		ct, p, err := r.ReadChunk(bytes.NewReader(data), i)
		if err != nil {
			t.Fatal(err)
		}
		if err := host.Add(i, ct, p); err != nil {
			t.Fatalf("chunk %d signed after resume: %v", i, err)
		}
	}
}

// FuzzLiveVerify feeds a proof's bytes, a chunk and an index to the tree of
// a live content: only the genuine (index, chunk, signature) may verify.
func FuzzLiveVerify(f *testing.F) {
	l, _, cts, proofs := liveChunks(f, 5)
	for i := range cts {
		pb, _ := proofs[i].MarshalBinary()
		f.Add(i, cts[i], pb)
	}
	f.Add(0, []byte{}, []byte{proofSigned})
	f.Add(1, cts[1], []byte{0})
	f.Fuzz(func(t *testing.T, i int, ct, pb []byte) {
		p, err := UnmarshalProof(pb)
		if err != nil {
			if !errors.Is(err, ErrBadProof) {
				t.Fatalf("error does not wrap ErrBadProof: %v", err)
			}
			return
		}
		tr := NewPartialTree(l.Descriptor)
		err = tr.Add(i, ct, p)
		genuine := i >= 0 && i < len(cts) && bytes.Equal(ct, cts[i])
		if err == nil && !genuine {
			t.Fatalf("forged chunk %d verified", i)
		}
		if err != nil && !errors.Is(err, ErrBadChunk) && !errors.Is(err, ErrBadProof) {
			t.Fatalf("unexpected error: %v", err)
		}
		if err == nil && !tr.Has(i) {
			t.Fatal("verified chunk not held")
		}
	})
}

// FuzzUnmarshalLiveTree loads stored live trees: whatever loads proves only
// genuine chunks.
func FuzzUnmarshalLiveTree(f *testing.F) {
	l, _, cts, proofs := liveChunks(f, 6)
	pt := NewPartialTree(l.Descriptor)
	for _, i := range []int{1, 5} {
		_ = pt.Add(i, cts[i], proofs[i])
	}
	part, _ := pt.MarshalBinary()
	full, _ := l.Tree.MarshalBinary()
	f.Add(part)
	f.Add(full)
	f.Add([]byte{1, 2, 0, 0, 0, 6, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := UnmarshalTree(l.Descriptor, b)
		if err != nil {
			if !errors.Is(err, ErrBadTree) {
				t.Fatalf("error does not wrap ErrBadTree: %v", err)
			}
			return
		}
		host := NewPartialTree(l.Descriptor)
		for i := range cts {
			if !tr.Has(i) {
				continue
			}
			p, err := tr.Proof(i)
			if err != nil {
				t.Fatal(err)
			}
			if err := host.Add(i, cts[i], p); err != nil {
				t.Fatalf("loaded tree gives a wrong proof for %d: %v", i, err)
			}
		}
	})
}
