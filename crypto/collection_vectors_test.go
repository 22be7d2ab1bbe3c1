package crypto

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

const collectionVectorsPath = "../testdata/crypto/collection.json"

// collVector is one collection test vector of docs/protocol.md, §13. Byte
// strings are hex; file k of a collection holds bytes
// (i*31 + 7 + k) mod 251 for i < its size.
type collVector struct {
	Name         string           `json:"name"`
	Key          string           `json:"key"`
	Collection   string           `json:"collection_name"`
	ChunkSize    int              `json:"chunk_size"`
	Created      int64            `json:"created_unix"`
	Files        []CollectionFile `json:"files"`
	Manifest     string           `json:"manifest"`
	Size         int64            `json:"size"`
	SealedHeader string           `json:"sealed_header"`
	Descriptor   string           `json:"descriptor"`
	ContentID    string           `json:"content_id_hex"`
}

type collVectorFile struct {
	Comment string       `json:"comment"`
	Vectors []collVector `json:"vectors"`
}

func collFileData(k int, size int64) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte((i*31 + 7 + k) % 251)
	}
	return b
}

// collPlaintext is a collection's plaintext: the manifest, its padding, the
// files in manifest order.
func collPlaintext(m *Manifest, mb []byte, h Header) []byte {
	plain := make([]byte, ManifestRegion(int64(len(mb)), int64(h.ChunkSize)), h.Size)
	copy(plain, mb)
	for k, f := range m.Files {
		plain = append(plain, collFileData(k, f.Size)...)
	}
	return plain
}

func computeCollVector(t *testing.T, in collVector) collVector {
	t.Helper()
	var k Key
	if _, err := hex.Decode(k[:], []byte(in.Key)); err != nil {
		t.Fatal(err)
	}
	m, _, err := NewManifest(in.Files)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	h, err := CollectionHeader(in.Collection, m, mb, in.ChunkSize)
	if err != nil {
		t.Fatal(err)
	}
	h.Created = time.Unix(in.Created, 0)
	s, err := sealWith(t.Context(), bytes.NewReader(collPlaintext(m, mb, h)), h, k, 2)
	if err != nil {
		t.Fatal(err)
	}
	out := in
	out.Files = m.Files
	d := s.Descriptor
	desc, _ := d.MarshalBinary()
	id := d.ID()
	out.Manifest = hex.EncodeToString(mb)
	out.Size = h.Size
	out.SealedHeader = hex.EncodeToString(d.SealedHeader)
	out.Descriptor = hex.EncodeToString(desc)
	out.ContentID = hex.EncodeToString(id[:])
	return out
}

func TestCollectionVectors(t *testing.T) {
	inputs := []collVector{
		{Name: "one file in a folder", Collection: "notes", ChunkSize: 1024, Created: 1800000000,
			Files: []CollectionFile{{Path: "notes/todo.txt", Size: 100}}},
		{Name: "a tree across chunks", Collection: "holiday 2026", ChunkSize: 1024, Created: 1790000000,
			Files: []CollectionFile{{Path: "photos/b.jpg", Size: 1500}, {Path: "photos/a.jpg", Size: 700}, {Path: "empty", Size: 0}, {Path: "Résumé/履歴書.pdf", Size: 2049}}},
	}
	for i := range inputs {
		inputs[i].Key = hex.EncodeToString(bytes.Repeat([]byte{byte(0x21 * (i + 1))}, 32))
	}
	f := loadVectors(t, collectionVectorsPath, func() collVectorFile {
		f := collVectorFile{Comment: "hydre collection test vectors (docs/protocol.md, §13). File k holds bytes (i*31 + 7 + k) mod 251, k in manifest order. Regenerate with: go test ./crypto -run TestCollectionVectors -update"}
		for _, in := range inputs {
			f.Vectors = append(f.Vectors, computeCollVector(t, in))
		}
		return f
	})
	if len(f.Vectors) != len(inputs) {
		t.Fatalf("%d vectors, want %d", len(f.Vectors), len(inputs))
	}
	for _, want := range f.Vectors {
		t.Run(want.Name, func(t *testing.T) {
			gb, _ := json.Marshal(computeCollVector(t, want))
			wb, _ := json.Marshal(want)
			if !bytes.Equal(gb, wb) {
				t.Fatalf("code disagrees with the vector; got:\n%s", gb)
			}
			// As a reader: the descriptor's header opens to a collection
			// whose manifest decodes to the vector's files.
			var k Key
			hex.Decode(k[:], []byte(want.Key))
			desc, _ := hex.DecodeString(want.Descriptor)
			var id ContentID
			hex.Decode(id[:], []byte(want.ContentID))
			d, err := UnmarshalDescriptor(desc, id)
			if err != nil {
				t.Fatal(err)
			}
			h, err := d.OpenHeader(k)
			if err != nil {
				t.Fatal(err)
			}
			mb, _ := hex.DecodeString(want.Manifest)
			region := make([]byte, ManifestRegion(h.ManifestLen, int64(h.ChunkSize)))
			copy(region, mb)
			m, err := OpenManifest(h, region)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Files) != len(want.Files) || m.Files[0] != want.Files[0] {
				t.Fatalf("manifest %+v", m.Files)
			}
		})
	}
}

// FuzzUnmarshalManifest: no input panics or allocates without bound, and a
// manifest that decodes encodes back to the same bytes (one encoding per
// manifest) and passes the sealer's checks unchanged.
func FuzzUnmarshalManifest(f *testing.F) {
	for _, files := range [][]CollectionFile{
		{{Path: "a", Size: 1}},
		{{Path: "d/x.mp4", Size: 1 << 30}, {Path: "d/y.mp4", Size: 0}, {Path: "z", Size: 5}},
	} {
		m, _, err := NewManifest(files)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := m.MarshalBinary()
		f.Add(b)
	}
	f.Add(rawManifest(2, CollectionFile{Path: "../a", Size: 1}, CollectionFile{Path: "b", Size: 2}))
	f.Add(rawManifest(MaxCollectionFiles))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := UnmarshalManifest(b)
		if err != nil {
			return
		}
		again, err := m.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %v", err)
		}
		m2, _, err := NewManifest(m.Files)
		if err != nil {
			t.Fatal(err)
		}
		for i := range m.Files {
			if m2.Files[i] != m.Files[i] {
				t.Fatalf("the sealer changes a valid manifest: %q -> %q", m.Files[i].Path, m2.Files[i].Path)
			}
		}
	})
}
