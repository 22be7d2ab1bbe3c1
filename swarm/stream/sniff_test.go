package stream

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/hydre-p2p/hydre/swarm/stream/streamtest"
)

// randomBytes returns n pseudo-random bytes of seed.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// utf16Bytes encodes s as UTF-16 (with a byte order mark if bom).
func utf16Bytes(s string, bigEndian, bom bool) []byte {
	var b []byte
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xfeff}, units...)
	}
	for _, u := range units {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return b
}

// utf32Bytes encodes s as UTF-32 with a byte order mark.
func utf32Bytes(s string, bigEndian bool) []byte {
	var b []byte
	for _, r := range "\ufeff" + s {
		u := uint32(r)
		if bigEndian {
			b = append(b, byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
		}
	}
	return b
}

func TestCheckMediaRefusesReferenceFormats(t *testing.T) {
	const leak = "http://127.0.0.1:9"
	type tc struct {
		name, file, mediaType string
		head                  []byte
	}
	var cases []tc
	for _, f := range streamtest.Hostile(leak) {
		cases = append(cases,
			tc{f.Format, "movie.mp4", "video/mp4", f.Data},
			tc{f.Format + ", UTF-8 BOM and blank lines", "movie.mp4", "video/mp4", append([]byte("\ufeff\r\n\n  "), f.Data...)},
			tc{f.Format + ", UTF-16LE", "movie.mp4", "", utf16Bytes(string(f.Data), false, true)},
			tc{f.Format + ", UTF-16BE", "movie.mp4", "", utf16Bytes(string(f.Data), true, true)},
			tc{f.Format + ", UTF-16LE without BOM", "movie.mp4", "", utf16Bytes(string(f.Data), false, false)},
			tc{f.Format + ", UTF-32BE", "movie.mp4", "", utf32Bytes(string(f.Data), true)},
			tc{f.Format + ", UTF-32LE", "movie.mp4", "", utf32Bytes(string(f.Data), false)},
		)
	}
	binary := randomBytes(3000, 1)
	cases = append(cases,
		tc{"m3u with a binary tail", "movie.mp4", "video/mp4", append([]byte("#EXTM3U\n"+leak+"/x\n"), binary...)},
		tc{"asx upper case with a binary tail", "movie.mp4", "video/mp4", append([]byte("<ASX version=\"3\">"), binary...)},
		tc{"Latin-1 text naming an address", "movie.mp4", "", []byte("vid\xe9o\n" + leak + "/x\n")},
		tc{"text naming a network share", "movie.mp4", "", []byte(`\\198.51.100.7\share\film.mp4` + "\n")},
		tc{"white space, then a playlist past the window", "movie.mp4", "", append(bytes.Repeat([]byte("\n"), sniffWindow), "#EXTM3U\n"...)[:sniffWindow]},
		tc{"named .m3u", "film.M3U", "video/mp4", binary},
		tc{"named .pls", "film.pls", "", binary},
		tc{"declared HLS", "movie.mp4", "application/vnd.apple.mpegURL", binary},
		tc{"declared m3u", "movie.mp4", "audio/x-mpegurl; charset=utf-8", binary},
		tc{"declared pls", "movie.mp4", "audio/x-scpls", binary},
		tc{"declared a URI list", "movie.mp4", "text/uri-list", binary},
		tc{"declared SVG (which may reference addresses)", "movie.mp4", "image/svg+xml", binary},
	)
	for _, c := range cases {
		err := checkMedia(c.file, c.mediaType, c.head)
		if !errors.Is(err, ErrNotMedia) {
			t.Errorf("%s: %v, want ErrNotMedia", c.name, err)
			continue
		}
		if !strings.Contains(err.Error(), "outside Tor") || !strings.Contains(err.Error(), `"`+c.file+`"`) {
			t.Errorf("%s: error %q does not say what and why", c.name, err)
		}
	}
}

func TestCheckMediaPassesMedia(t *testing.T) {
	binary := randomBytes(sniffWindow, 3)
	for _, c := range []struct {
		name, file, mediaType string
		head                  []byte
	}{
		{"random bytes", "movie.mp4", "video/mp4", binary},
		{"mp4", "movie.mp4", "video/mp4", append([]byte("\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"), binary[:100]...)},
		{"matroska", "film.mkv", "", append([]byte{0x1a, 0x45, 0xdf, 0xa3}, binary[:100]...)},
		{"ogg", "song.ogg", "audio/ogg", append([]byte("OggS\x00\x02"), binary[:100]...)},
		{"mp3 with an ID3 tag naming a web site", "song.mp3", "audio/mpeg", []byte("ID3\x04\x00\x00\x00\x00\x00\x30WXXX\x00\x00\x00\x15\x00\x00\x00http://example.org/\x00")},
		{"plain text without an address", "notes.txt", "text/plain", []byte("hydre stream test bytes\n")},
		{"short", "a.mp4", "", []byte("ab")},
		{"empty", "a.mp4", "", nil},
	} {
		if err := checkMedia(c.file, c.mediaType, c.head); err != nil {
			t.Errorf("%s: %v, want media", c.name, err)
		}
	}
}
