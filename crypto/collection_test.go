package crypto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// rawManifest encodes entries as given, with no check and no reordering: a
// peer's hostile manifest.
func rawManifest(count uint32, files ...CollectionFile) []byte {
	b := append([]byte(manifestMagic), manifestVersion)
	b = binary.BigEndian.AppendUint32(b, count)
	for _, f := range files {
		b = binary.BigEndian.AppendUint64(b, uint64(f.Size))
		b = binary.BigEndian.AppendUint16(b, uint16(len(f.Path)))
		b = append(b, f.Path...)
	}
	return b
}

func TestManifestRoundTrip(t *testing.T) {
	m, _, err := NewManifest([]CollectionFile{
		{Path: "photos/2024/b.jpg", Size: 5},
		{Path: "readme.txt", Size: 0},
		{Path: "photos/2024/a.jpg", Size: 1 << 40},
		{Path: "Ωmega/ünï.txt", Size: 7},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"photos/2024/a.jpg", "photos/2024/b.jpg", "readme.txt", "Ωmega/ünï.txt"}
	if len(got.Files) != len(want) {
		t.Fatalf("files %v", got.Files)
	}
	for i, f := range got.Files {
		if f.Path != want[i] {
			t.Errorf("file %d: %q, want %q", i, f.Path, want[i])
		}
	}
	if i := got.Find("readme.txt"); i != 2 || got.Find("nope") != -1 {
		t.Errorf("Find: %d", i)
	}
	if off := got.Offsets(100); off[0] != 100 || off[1] != 100+1<<40 || off[3] != 100+1<<40+5 {
		t.Errorf("offsets %v", off)
	}
}

// TestNewManifestSanitizes: what a sealer finds on disk (separators of both
// kinds, "..", device names, two names equal but for case, a file and a
// folder whose names sanitize alike) becomes a valid manifest.
func TestNewManifestSanitizes(t *testing.T) {
	m, _, err := NewManifest([]CollectionFile{
		{Path: `../../etc/passwd`, Size: 1},
		{Path: `/abs/x`, Size: 1},
		{Path: `dir\CON.txt`, Size: 1},
		{Path: `a.txt`, Size: 1},
		{Path: `A.txt`, Size: 1},
		{Path: "-rf", Size: 1},
		{Path: "./", Size: 1},
		{Path: "x", Size: 1},
		{Path: "x/y", Size: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.MarshalBinary()
	if _, err := UnmarshalManifest(b); err != nil {
		t.Fatalf("the sealer's manifest does not decode: %v", err)
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
	}
	got := strings.Join(paths, "|")
	for _, want := range []string{"etc/passwd", "abs/x", "dir/_CON.txt", "A.txt", "a (2).txt", "_-rf", "unnamed", "x", "x (2)/y"} {
		if !strings.Contains("|"+got+"|", "|"+want+"|") {
			t.Errorf("paths %s lack %s", got, want)
		}
	}
}

// TestUnmarshalManifestRefuses: every hostile manifest a peer can seal is
// refused with ErrBadManifest.
func TestUnmarshalManifestRefuses(t *testing.T) {
	f := func(p string) CollectionFile { return CollectionFile{Path: p, Size: 1} }
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "not a manifest"},
		{"bad magic", append([]byte("HYDX\x01"), 0, 0, 0, 1), "not a manifest"},
		{"version", append([]byte("HYDC\x02"), 0, 0, 0, 1), "unknown version"},
		{"no file", rawManifest(0), "0 files"},
		{"huge count", rawManifest(MaxCollectionFiles + 1), "files"},
		{"count beyond the bytes", rawManifest(50000, f("a")), "cannot fit"},
		{"dot dot", rawManifest(1, f("../a")), `".."`},
		{"dot dot inside", rawManifest(1, f("a/../../b")), `".."`},
		{"absolute", rawManifest(1, f("/etc/passwd")), "absolute"},
		{"empty part", rawManifest(1, f("a//b")), "empty part"},
		{"trailing slash", rawManifest(1, f("a/")), "empty part"},
		{"empty path", rawManifest(2, f(""), f(strings.Repeat("b", 20))), "path of 0 bytes"},
		{"backslash", rawManifest(1, f(`a\..\b`)), "not a sanitized name"},
		{"device name", rawManifest(1, f("NUL")), "not a sanitized name"},
		{"control char", rawManifest(1, f("a\x1b[2J")), "not a sanitized name"},
		{"duplicate", rawManifest(2, f("a"), f("a")), "not in order"},
		{"case duplicate", rawManifest(2, f("A"), f("a")), "ignoring case"},
		{"file and folder", rawManifest(2, f("a"), f("a/b")), "also a folder"},
		{"unsorted", rawManifest(2, f("b"), f("a")), "not in order"},
		{"too deep", rawManifest(1, f(strings.Repeat("d/", MaxPathDepth)+"f")), "parts"},
		{"trailing bytes", append(rawManifest(1, f("a")), 0), "after the last"},
		{"truncated", rawManifest(2, f(strings.Repeat("a", 20)), f("b"))[:9+10+20+5], "truncated"},
		{"path past the end", rawManifest(1, f("abc"))[:20], "past the end"},
		{"sizes overflow", rawManifest(2, CollectionFile{Path: "a", Size: MaxSize}, CollectionFile{Path: "b", Size: 1}), "add up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalManifest(tt.b)
			if !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want ErrBadManifest saying %q", err, tt.want)
			}
		})
	}
}

// TestCollectionSealOpen seals a collection's plaintext under a format-2
// header and reads its manifest back through OpenHeader and OpenManifest; a
// single file's header stays format 1, byte for byte what it was.
func TestCollectionSealOpen(t *testing.T) {
	m, _, err := NewManifest([]CollectionFile{{Path: "a/x.bin", Size: 3000}, {Path: "b.txt", Size: 10}})
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := m.MarshalBinary()
	h, err := CollectionHeader("holiday", m, mb, MinChunkSize)
	if err != nil {
		t.Fatal(err)
	}
	region := ManifestRegion(int64(len(mb)), MinChunkSize)
	if h.Size != region+3010 || region != MinChunkSize || h.ManifestLen != int64(len(mb)) {
		t.Fatalf("header %+v, region %d", h, region)
	}
	plain := make([]byte, h.Size)
	copy(plain, mb)
	s, err := Seal(t.Context(), bytes.NewReader(plain), h)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Descriptor.OpenHeader(s.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Collection() || got.ManifestLen != h.ManifestLen || got.Name != "holiday" {
		t.Fatalf("opened %+v", got)
	}
	if _, err := OpenManifest(got, plain[:region]); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(plain[:region])
	bad[len(bad)-1] = 1
	if _, err := OpenManifest(got, bad); !errors.Is(err, ErrBadManifest) {
		t.Errorf("non-zero padding: %v", err)
	}
	short := got
	short.Size--
	if _, err := OpenManifest(short, plain[:region]); !errors.Is(err, ErrBadManifest) {
		t.Errorf("sizes that do not fill the content: %v", err)
	}
	single := encodeHeader(Header{Name: "a", Size: 1, ChunkSize: MinChunkSize})
	if single[0] != headerFormat || len(single) != headerBlock {
		t.Errorf("a single file's header changed: format %d, %d bytes", single[0], len(single))
	}
}

// TestCollectionHeaderRefuses: a format-2 header whose manifest is longer
// than the content, or out of bounds, does not decode.
func TestCollectionHeaderRefuses(t *testing.T) {
	for _, ml := range []int64{1, MaxManifestLen + 1, 5000} {
		b := encodeHeader(Header{Name: "c", Size: 2048, ChunkSize: MinChunkSize, ManifestLen: ml})
		if _, err := decodeHeader(b); err == nil {
			t.Errorf("manifest length %d accepted", ml)
		}
	}
}
