package crypto

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestWriteFuzzCorpus writes the checked-in seed corpora of the fuzz
// targets (testdata/fuzz/<target>/) when run with -update; otherwise it
// checks that every target has one.
func TestWriteFuzzCorpus(t *testing.T) {
	k := testKey(4)
	ck := [32]byte(testKey(5))
	s, cts := sealedChunks(t, 7)
	p3, _ := s.Tree.Proof(3)
	pb3, _ := p3.MarshalBinary()
	full, _ := s.Tree.MarshalBinary()
	pt := NewPartialTree(s.Descriptor)
	_ = pt.Add(3, cts[3], p3)
	part, _ := pt.MarshalBinary()
	desc, _ := s.Descriptor.MarshalBinary()
	sec := SwarmSecret(testKey(6))
	r1, r2 := testRecord(t, 1, 7446), testRecord(t, 2, 80)
	answer, _ := EncodeAnswer([]HolderRecord{r1, r2})
	corpus := map[string][][]any{
		"FuzzParseLink": {
			{Link{ID: ContentID(testKey(9)), Secret: &sec, Key: &k, ClientKey: &ck, Peers: []string{testPeer(1, 7446)}}.Encode(), []byte{2, 7}},
			{Link{ID: ContentID(testKey(9)), Secret: &sec}.Encode(), append([]byte{2, 1}, make([]byte, 65)...)},
			{"hydre:aebagbaf", []byte{2, 0, 0}},
		},
		"FuzzParseContentID": {{ContentID(testKey(2)).String()}},
		"FuzzOpenHeader": {
			{encodeHeader(Header{Name: "video.mkv", Size: 99, ChunkSize: MinChunkSize, MediaType: "video/x-matroska"}), int64(99)},
			{encodeHeader(Header{Name: "..\\..\\x\u202e", ChunkSize: MinChunkSize}), int64(0)},
		},
		"FuzzUnmarshalDescriptor": {{desc, false}, {desc[:50], false}},
		"FuzzProofVerify":         {{3, cts[3], pb3, false}, {3, cts[4], pb3, true}, {6, cts[6], []byte{0}, true}},
		"FuzzUnmarshalTree":       {{full}, {part}},
		"FuzzSanitizeName":        {{"日本語.txt"}, {"CON"}, {"a/../b"}},
		"FuzzDecodeRegister":      {{EncodeRegister(r1)}, {EncodeRegister(r1)[:50]}},
		"FuzzDecodeAnswer":        {{answer}, {[]byte{1, 3, 0}}, {answer[:RecordLen]}},
	}
	for target, entries := range corpus {
		dir := filepath.Join("testdata", "fuzz", target)
		if !*updateVectors {
			if files, err := os.ReadDir(dir); err != nil || len(files) == 0 {
				t.Errorf("%s has no seed corpus in %s (run with -update)", target, dir)
			}
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, args := range entries {
			var b strings.Builder
			b.WriteString("go test fuzz v1\n")
			for _, a := range args {
				switch v := a.(type) {
				case string:
					fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(v))
				case []byte:
					fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(v)))
				case int:
					fmt.Fprintf(&b, "int(%d)\n", v)
				case int64:
					fmt.Fprintf(&b, "int64(%d)\n", v)
				case bool:
					fmt.Fprintf(&b, "bool(%t)\n", v)
				default:
					t.Fatalf("corpus value of type %T", a)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
