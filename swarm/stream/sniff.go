package stream

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"path"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrNotMedia is returned (wrapped) for a content the server will not hand
// to a player: a playlist or another reference format, which players follow
// to the addresses it names, outside Tor.
var ErrNotMedia = errors.New("not media")

// sniffWindow is how much of a content's start is read to tell media from
// a reference format. Players decide from their first kilobyte or two.
const sniffWindow = 4096

// markers are the starts of reference formats, lower-case, matched after a
// byte order mark and white space whatever follows them (the rest may be
// binary: parsers skip lines they do not understand).
var markers = []struct{ prefix, kind string }{
	{"#extm3u", "an m3u or HLS playlist"},
	{"#extinf", "an m3u playlist"},
	{"#ext-x-", "an HLS playlist"},
	{"#extvlcopt", "an m3u playlist"},
	{"[playlist]", "a pls playlist"},
	{"[reference]", "an ASF reference file"},
	{"[address]", "a NetShow channel file"},
	{"<asx", "an asx playlist"},
	{"<smil", "a smil playlist"},
	{"<playlist", "an xspf playlist"},
	{"<mpd", "a DASH manifest"},
	{"<?xml", "an XML document (asx, smil, xspf, wpl and DASH are XML)"},
	{"<?wpl", "a wpl playlist"},
	{"<!doctype", "an HTML or XML document"},
	{"<html", "an HTML document"},
	{"<rss", "an RSS feed"},
	{"<feed", "an Atom feed"},
	{"<winampxml", "a b4s playlist"},
	{"# mpv edl", "an mpv EDL file"},
	{"edl://", "an mpv EDL file"},
	{"ffconcat", "an ffmpeg concat script"},
	{"v=0", "an SDP session description (RTP addresses)"},
	{"rtsptext", "a RealMedia reference file"},
}

// playlistExts are file extensions of reference formats: players pick a
// playlist parser from the address's extension alone.
var playlistExts = map[string]bool{
	".m3u": true, ".m3u8": true, ".m4u": true, ".mxu": true, ".pls": true, ".asx": true, ".wax": true,
	".wvx": true, ".wmx": true, ".smil": true, ".smi": true, ".xspf": true, ".jspf": true, ".ram": true,
	".rpm": true, ".qtl": true, ".wpl": true, ".zpl": true, ".b4s": true, ".cue": true, ".sdp": true,
	".mpd": true, ".edl": true, ".ffconcat": true, ".nsc": true, ".strm": true, ".url": true,
	".vlc": true, ".xml": true,
}

// playlistTypes are media types of reference formats, or fragments of them:
// players pick a playlist parser from the Content-Type alone.
var playlistTypes = []string{"mpegurl", "scpls", "x-ms-asx", "x-ms-wax", "x-ms-wvx", "x-ms-wmx", "x-ms-wpl",
	"smil", "xspf", "dash+xml", "uri-list", "x-pn-realaudio", "x-quicktime-media-link", "xml", "sdp", "x-cue",
	"x-ms-asf-plugin", "x-mpeg-url", "x-scpls"}

// checkMedia returns an error wrapping ErrNotMedia if a content named name,
// of declared media type mediaType, whose first bytes are head, is a
// playlist or another reference format (whatever its name says, the bytes
// decide; a playlist's name or type is refused too, since players trust
// them).
func checkMedia(name, mediaType string, head []byte) error {
	kind := ""
	if mt, _, err := mime.ParseMediaType(mediaType); err == nil {
		for _, p := range playlistTypes {
			if strings.Contains(mt, p) {
				kind = "declared a playlist (" + mt + ")"
				break
			}
		}
	}
	if ext := strings.ToLower(path.Ext(name)); playlistExts[ext] {
		kind = "named as a playlist (" + ext + ")"
	}
	if k := referenceKind(head); k != "" {
		kind = k
	}
	if kind == "" {
		return nil
	}
	return fmt.Errorf("%w: %q is %s, which a player would follow to the addresses it names, outside Tor; hydre does not hand it to a player",
		ErrNotMedia, name, kind)
}

// referenceKind says which reference format head, the first bytes of a
// content, is ("" for none): one of markers at its start, or text (in any
// of the encodings players read: UTF-8, UTF-16, UTF-32, 8-bit) that names
// an address, is markup, or is only white space.
func referenceKind(head []byte) string {
	text, isText := decodeHead(head)
	t := strings.TrimLeft(text, " \t\r\n\f\v\u00a0\ufeff")
	start := strings.ToLower(t[:min(len(t), 16)])
	for _, m := range markers {
		if strings.HasPrefix(start, m.prefix) {
			return m.kind
		}
	}
	if !isText {
		return ""
	}
	switch {
	case strings.HasPrefix(t, "<"):
		return "a markup document (asx, smil, xspf, wpl and DASH playlists are markup)"
	case strings.Contains(text, "://"):
		return "a text file naming addresses (a playlist)"
	case strings.Contains(text, `\\`):
		return "a text file naming network shares (a playlist)"
	case t == "" && len(head) >= sniffWindow:
		return "a text file beginning with white space only (a playlist may follow)"
	}
	return ""
}

// decodeHead returns head as text, decoding a UTF-8, UTF-16 or UTF-32 byte
// order mark (or BOM-less UTF-16, told by its zero bytes as XML does), and
// whether it is text: no control character but white space. 8-bit text
// that is not UTF-8 (Latin-1, say) is text: the bytes are kept.
func decodeHead(head []byte) (string, bool) {
	var units []uint16
	switch {
	case bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}):
		head = head[3:]
	case bytes.HasPrefix(head, []byte{0, 0, 0xfe, 0xff}):
		return decodeUTF32(head[4:], true)
	case bytes.HasPrefix(head, []byte{0xff, 0xfe, 0, 0}):
		return decodeUTF32(head[4:], false)
	case bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		units = utf16Units(head[2:], true)
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}):
		units = utf16Units(head[2:], false)
	case len(head) >= 4 && head[0] == 0 && head[1] != 0 && head[2] == 0 && head[3] != 0:
		units = utf16Units(head, true)
	case len(head) >= 4 && head[0] != 0 && head[1] == 0 && head[2] != 0 && head[3] == 0:
		units = utf16Units(head, false)
	}
	if units != nil {
		s := string(utf16.Decode(units))
		return s, isText(s)
	}
	return string(head), isText(string(head))
}

// utf16Units splits b into 16-bit units (an odd last byte is dropped).
func utf16Units(b []byte, bigEndian bool) []uint16 {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		if bigEndian {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		} else {
			u = append(u, uint16(b[i+1])<<8|uint16(b[i]))
		}
	}
	return u
}

// decodeUTF32 decodes b as UTF-32 (a trailing partial unit is dropped).
func decodeUTF32(b []byte, bigEndian bool) (string, bool) {
	var sb strings.Builder
	for i := 0; i+3 < len(b); i += 4 {
		var r uint32
		if bigEndian {
			r = uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		} else {
			r = uint32(b[i+3])<<24 | uint32(b[i+2])<<16 | uint32(b[i+1])<<8 | uint32(b[i])
		}
		if r > utf8.MaxRune {
			r = utf8.RuneError
		}
		sb.WriteRune(rune(r))
	}
	s := sb.String()
	return s, isText(s)
}

// isText reports whether s holds no control character other than white
// space (tab, line feed, vertical tab, form feed, carriage return). Bytes
// that are not UTF-8 count as text (8-bit encodings).
func isText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && (c < '\t' || c > '\r') || c == 0x7f {
			return false
		}
	}
	return true
}
