package crypto

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

var updateVectors = flag.Bool("update", false, "rewrite testdata/crypto/vectors.json from the code")

const vectorsPath = "../testdata/crypto/vectors.json"

// vector is one test vector of docs/protocol.md, Part I. Byte strings are
// hex; the file bytes are data[i] = (i*31 + 7) mod 251 for i < size.
type vector struct {
	Name          string `json:"name"`
	Size          int    `json:"size"`
	ChunkSize     int    `json:"chunk_size"`
	Key           string `json:"key"`
	FileName      string `json:"file_name"`
	MediaType     string `json:"media_type"`
	Created       int64  `json:"created_unix"`
	Root          string `json:"root"`
	SealedHeader  string `json:"sealed_header"`
	Descriptor    string `json:"descriptor"`
	ContentID     string `json:"content_id_hex"`
	ContentIDText string `json:"content_id"`
	ProofIndex    int    `json:"proof_index"`
	Chunk         string `json:"chunk_ciphertext"`
	Leaf          string `json:"leaf"`
	Proof         string `json:"proof"`
	SwarmSecret   string `json:"swarm_secret"`
	Link          string `json:"link"`
	LinkPeer      string `json:"link_peer"`
}

type vectorFile struct {
	Comment string   `json:"comment"`
	Vectors []vector `json:"vectors"`
}

func vectorData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i*31 + 7) % 251)
	}
	return b
}

// computeVector fills a vector's outputs from its inputs.
func computeVector(t *testing.T, in vector) vector {
	t.Helper()
	var k Key
	if _, err := hex.Decode(k[:], []byte(in.Key)); err != nil {
		t.Fatal(err)
	}
	data := vectorData(in.Size)
	h := Header{Name: in.FileName, Size: int64(in.Size), MediaType: in.MediaType, ChunkSize: in.ChunkSize, Created: time.Unix(in.Created, 0)}
	s, err := sealWith(t.Context(), bytes.NewReader(data), h, k, 2)
	if err != nil {
		t.Fatal(err)
	}
	out := in
	d := s.Descriptor
	desc, _ := d.MarshalBinary()
	id := d.ID()
	out.Root = hex.EncodeToString(d.Root[:])
	out.SealedHeader = hex.EncodeToString(d.SealedHeader)
	out.Descriptor = hex.EncodeToString(desc)
	out.ContentID = hex.EncodeToString(id[:])
	out.ContentIDText = id.String()
	ct, p, err := s.ReadChunk(bytes.NewReader(data), in.ProofIndex)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := p.MarshalBinary()
	leaf := leafHash(ct)
	out.Chunk = hex.EncodeToString(ct)
	out.Leaf = hex.EncodeToString(leaf[:])
	out.Proof = hex.EncodeToString(pb)
	var sec SwarmSecret
	if _, err := hex.Decode(sec[:], []byte(in.SwarmSecret)); err != nil {
		t.Fatal(err)
	}
	out.Link = Link{ID: id, Secret: &sec, Key: &k, Peers: []string{in.LinkPeer}}.Encode()
	return out
}

func TestVectors(t *testing.T) {
	inputs := []vector{
		{Name: "empty file", Size: 0, ChunkSize: 1024, FileName: "empty.txt", MediaType: "text/plain", Created: 1800000000},
		{Name: "one byte", Size: 1, ChunkSize: 1024, FileName: "one.bin", Created: 0},
		{Name: "exactly one chunk", Size: 1024, ChunkSize: 1024, FileName: "Résumé 履歴書.pdf", MediaType: "application/pdf", Created: 1700000000},
		{Name: "five chunks and a tail", Size: 5*1024 + 100, ChunkSize: 1024, FileName: "clip.mp4", MediaType: "video/mp4", Created: 1763812800, ProofIndex: 4},
	}
	for i := range inputs {
		inputs[i].Key = hex.EncodeToString(bytes.Repeat([]byte{byte(0x10 * (i + 1))}, 32))
		inputs[i].SwarmSecret = hex.EncodeToString(bytes.Repeat([]byte{byte(0x10*(i+1) + 5)}, 32))
		inputs[i].LinkPeer = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:7446"
	}
	f := loadVectors(t, vectorsPath, func() vectorFile {
		f := vectorFile{Comment: "hydre sealed-content test vectors (docs/protocol.md, Part I). File bytes: data[i] = (i*31 + 7) mod 251. Regenerate with: go test ./crypto -run TestVectors -update"}
		for _, in := range inputs {
			f.Vectors = append(f.Vectors, computeVector(t, in))
		}
		return f
	})
	if len(f.Vectors) != len(inputs) {
		t.Fatalf("%d vectors, want %d", len(f.Vectors), len(inputs))
	}
	for _, want := range f.Vectors {
		t.Run(want.Name, func(t *testing.T) {
			got := computeVector(t, want)
			if got != want {
				gb, _ := json.MarshalIndent(got, "", "  ")
				t.Fatalf("code disagrees with the vector; got:\n%s", gb)
			}
			checkVectorAsReader(t, want)
		})
	}
}

// checkVectorAsReader checks a vector the way an independent downloader
// would: from the content ID and the link only, using the published bytes.
func checkVectorAsReader(t *testing.T, v vector) {
	t.Helper()
	l, err := ParseLink(v.Link)
	if err != nil {
		t.Fatal(err)
	}
	if l.ID.String() != v.ContentIDText || len(l.Peers) != 1 || l.Peers[0] != v.LinkPeer || l.Secret == nil || hex.EncodeToString(l.Secret[:]) != v.SwarmSecret {
		t.Fatal("link does not carry the vector's id and peer")
	}
	desc, _ := hex.DecodeString(v.Descriptor)
	d, err := UnmarshalDescriptor(desc, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	h, err := d.OpenHeader(*l.Key)
	if err != nil {
		t.Fatal(err)
	}
	if h.Name != v.FileName || h.Size != int64(v.Size) {
		t.Fatalf("header %+v", h)
	}
	ct, _ := hex.DecodeString(v.Chunk)
	pb, _ := hex.DecodeString(v.Proof)
	p, err := UnmarshalProof(pb)
	if err != nil {
		t.Fatal(err)
	}
	if err := NewPartialTree(d).Verify(v.ProofIndex, ct, p); err != nil {
		t.Fatal(err)
	}
	plain, err := DecryptChunk(*l.Key, v.ProofIndex, ct)
	if err != nil {
		t.Fatal(err)
	}
	off, n := d.PlainRange(v.ProofIndex)
	if !bytes.Equal(plain, vectorData(v.Size)[off:off+int64(n)]) {
		t.Fatal("chunk does not decrypt to the file bytes")
	}
}

// TestVectorsIndependent runs testdata/crypto/check_vectors.py, a second
// implementation of Part I written from the specification (Python, b3sum,
// python3-cryptography), over the vectors.
func TestVectorsIndependent(t *testing.T) {
	if _, err := exec.LookPath("b3sum"); err != nil {
		skipUnlessCI(t, "b3sum not installed: independent check skipped")
	}
	// Prefer Debian's python, which has python3-cryptography from
	// scripts/deps.sh, over another python3 earlier on PATH.
	python := ""
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import cryptography").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		skipUnlessCI(t, "python3 with python3-cryptography not installed: independent check skipped")
	}
	out, err := exec.CommandContext(t.Context(), python, "../testdata/crypto/check_vectors.py").CombinedOutput()
	if err != nil {
		t.Fatalf("independent implementation disagrees: %v\n%s", err, out)
	}
}

// skipUnlessCI skips t with msg on a developer's machine; in CI, where
// scripts/deps.sh has installed every tool, a missing tool is a failure.
func skipUnlessCI(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// loadVectors reads the JSON vectors at path, after writing them there
// from compute when -update is given: the code's answers, once checked,
// become the file every implementation is held to.
func loadVectors[V any](t *testing.T, path string, compute func() V) V {
	t.Helper()
	if *updateVectors {
		b, err := json.MarshalIndent(compute(), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read vectors (regenerate with -update): %v", err)
	}
	var v V
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
