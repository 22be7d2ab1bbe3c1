package crypto

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSealLargeSparseFile seals a sparse file just over 4 GiB (offsets and
// sizes past 32 bits) and reads bytes on both sides of the 4 GiB mark back.
func TestSealLargeSparseFile(t *testing.T) {
	const size = 4<<30 + 12345
	path := filepath.Join(t.TempDir(), "big.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Skipf("file system cannot hold a sparse %d-byte file: %v", int64(size), err)
	}
	marks := map[int64][]byte{
		0:             []byte("start"),
		1<<32 - 3:     []byte("across-4GiB"),
		size - 7:      []byte("the end"),
		3<<30 + 12345: []byte("middle"),
	}
	for off, b := range marks {
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Seal(t.Context(), f, Header{Name: "big.bin", Size: size})
	if err != nil {
		t.Fatal(err)
	}
	d := s.Descriptor
	if want := size/DefaultChunkSize + 1; d.NumChunks() != want {
		t.Fatalf("NumChunks = %d, want %d", d.NumChunks(), want)
	}
	if off, n := d.PlainRange(d.NumChunks() - 1); off != size-12345 || n != 12345 {
		t.Fatalf("last chunk range (%d, %d)", off, n)
	}
	h, err := d.OpenHeader(s.Key)
	if err != nil || h.Size != size {
		t.Fatalf("header %+v, %v", h, err)
	}
	r := NewReader(t.Context(), d, s.Key, SealedSource{Sealed: s, File: f})
	for off, want := range marks {
		got := make([]byte, len(want))
		if _, err := r.ReadAt(got, off); err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("read at %d: %q, want %q", off, got, want)
		}
	}
	// The chunk across the 4 GiB mark proves against a fresh partial tree.
	i := int((1<<32 - 3) / DefaultChunkSize)
	ct, p, err := s.ReadChunk(f, i)
	if err != nil {
		t.Fatal(err)
	}
	if err := NewPartialTree(d).Verify(i, ct, p); err != nil {
		t.Fatal(err)
	}
}
