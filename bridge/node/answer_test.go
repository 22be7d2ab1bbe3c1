package node

import (
	"bufio"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

func testLink(b byte) string {
	var k hcrypto.Key
	k[0] = b
	var id hcrypto.ContentID
	id[0] = b
	return hcrypto.Link{ID: id, Key: &k}.Encode()
}

// readAnswer feeds the lines of text to an answerReader as Request does.
func readAnswer(text string) ([]FileLink, error) {
	var a answerReader
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		files, err := a.add(sc.Text())
		if files != nil || err != nil {
			return files, err
		}
	}
	return nil, nil
}

func TestAnswerRoundTrip(t *testing.T) {
	for _, files := range [][]FileLink{
		{{Link: testLink(1)}},
		{{Path: "album/a.flac", Link: testLink(1)}},
		{{Path: "album/cd 1/01 \"intro\".flac", Link: testLink(1)}, {Path: "album/cover\n.jpg", Link: testLink(2)}},
	} {
		var b strings.Builder
		if err := writeAnswer(&b, files); err != nil {
			t.Fatal(err)
		}
		got, err := readAnswer(b.String())
		if err != nil || !slices.Equal(got, files) {
			t.Fatalf("answer %q read as %v, %v; want %v", b.String(), got, err, files)
		}
	}
}

func TestAnswerRefusals(t *testing.T) {
	l1, l2 := testLink(1), testLink(2)
	for _, tc := range []struct {
		name, text, want string
	}{
		{"bad link", "link hydre:nope\n", "bad link"},
		{"bad path", "link " + l1 + " album/a\nend 1\n", "bad file path"},
		{"empty path", "link " + l1 + ` ""` + "\nend 1\n", "bad file path"},
		{"count too high", "link " + l1 + ` "a/b"` + "\nend 2\n", "announced"},
		{"count too low", "link " + l1 + ` "a/b"` + "\nlink " + l2 + ` "a/c"` + "\nend 1\n", "announced"},
		{"nothing announced", "end 0\n", "announced"},
		{"mixed", "link " + l1 + ` "a/b"` + "\nlink " + l2 + "\n", "mixed"},
		{"refusal", "error bridge disk quota exceeded\n", "bridge node: bridge disk quota exceeded"},
		{"other", "hello\n", errNotAnswer.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := readAnswer(tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) || files != nil {
				t.Fatalf("got %v, %v; want an error with %q", files, err, tc.want)
			}
		})
	}
	var b strings.Builder
	for range maxAnswerFiles + 1 {
		b.WriteString("link " + l1 + ` "a/b"` + "\n")
	}
	if _, err := readAnswer(b.String()); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("endless answer: %v", err)
	}
}

// TestLocalDir checks that paths from a stranger's torrent stay inside
// the download folder.
func TestLocalDir(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"", ""},
		{"song.flac", ""},
		{"album/song.flac", "album"},
		{"album/cd 1/song.flac", "album/cd 1"},
		{"../../etc/passwd", "unnamed/unnamed/etc"},
		{"album/../../x", "album/unnamed/unnamed"},
		{"/abs/file", "unnamed/abs"},
		{`c:\windows/x`, "c__windows"},
		{"a/./b/x", "a/unnamed/b"},
		{"CON/x", "_CON"},
		{"a\x00b/x", "a_b"},
	} {
		got := FileLink{Path: tc.path}.LocalDir()
		if got != filepath.FromSlash(tc.want) || (got != "" && !filepath.IsLocal(got)) {
			t.Errorf("LocalDir(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

// FuzzAnswer feeds a node's answer lines to the reader: it never panics,
// a complete answer's every folder stays local, and what it accepts
// writes back to the same answer.
func FuzzAnswer(f *testing.F) {
	l1, l2 := testLink(1), testLink(2)
	f.Add("link " + l1 + "\n")
	f.Add("link " + l1 + ` "album/a"` + "\nlink " + l2 + ` "album/../b"` + "\nend 2\n")
	f.Add("wait 1 2\nerror no\n")
	f.Fuzz(func(t *testing.T, text string) {
		files, err := readAnswer(text)
		if err != nil || files == nil {
			return
		}
		for _, x := range files {
			if d := x.LocalDir(); d != "" && !filepath.IsLocal(d) {
				t.Fatalf("path %q gives folder %q outside the download folder", x.Path, d)
			}
		}
		var b strings.Builder
		if err := writeAnswer(&b, files); err != nil {
			t.Fatal(err)
		}
		again, err := readAnswer(b.String())
		if err != nil || !slices.Equal(again, files) {
			t.Fatalf("answer %v written and read back as %v, %v", files, again, err)
		}
	})
}
