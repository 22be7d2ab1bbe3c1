package bridge

import (
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/anacrolix/torrent/metainfo"
)

func TestMapDiskPaths(t *testing.T) {
	long := strings.Repeat("x", 300)
	cjk := strings.Repeat("漢", 86) + ".mkv"
	cases := []struct {
		name  string
		files [][]string // nil: a single-file torrent
		want  []string
	}{
		{"plain", nil, []string{"plain"}},
		{"a\x00b", nil, []string{"a_b"}},
		{"/tmp/evil", [][]string{{"x"}}, []string{"_tmp_evil/x"}},
		{"..", nil, []string{"unnamed"}},
		{"d", [][]string{{"", "etc", "passwd"}, {"/root/.bashrc"}, {"..", "x"}}, []string{"d/etc/passwd", "d/_root_.bashrc", "d/unnamed/x"}},
		{"d", [][]string{{"a\x00"}, {"a\x01"}, {"a_"}}, []string{"d/a_", "d/a_~2", "d/a_~3"}},
		{"d", [][]string{{long + "1.bin"}, {long + "2.bin"}}, nil},
		{cjk, nil, nil},
	}
	for _, tc := range cases {
		info := &metainfo.Info{Name: tc.name, PieceLength: 1 << 15}
		if tc.files == nil {
			info.Length = 1
		}
		for _, f := range tc.files {
			info.Files = append(info.Files, metainfo.FileInfo{Path: f, Length: 1})
		}
		m := mapDiskPaths(info)
		seen := map[string]bool{}
		for i, f := range info.UpvertedFiles() {
			got := m[fileKey(f.BestPath())]
			if tc.want != nil && got != tc.want[i] {
				t.Errorf("%q file %d: %q, want %q", tc.name, i, got, tc.want[i])
			}
			if seen[got] {
				t.Errorf("%q file %d: %q shared with another file", tc.name, i, got)
			}
			seen[got] = true
			if !isSafeDiskPath(got) {
				t.Errorf("%q file %d: unsafe %q", tc.name, i, got)
			}
		}
	}
	if a, b := diskName(long+"1.bin"), diskName(long+"2.bin"); a == b || !strings.HasSuffix(a, ".bin") {
		t.Errorf("long names: %q and %q", a, b)
	}
}

// isSafeDiskPath reports whether a slash-separated relative path stays
// below its folder with bounded, clean elements.
func isSafeDiskPath(p string) bool {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p {
		return false
	}
	for _, e := range strings.Split(p, "/") {
		if e == "" || e == "." || e == ".." || len(e) > maxDiskName || !utf8.ValidString(e) ||
			strings.ContainsAny(e, "\x00\\") {
			return false
		}
	}
	return true
}
