package crypto

import (
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes bounds a sanitized file name, in bytes of UTF-8 (the usual
// file-system limit).
const MaxNameBytes = 255

// maxExtBytes is the longest extension SanitizeName keeps when it shortens a
// name.
const maxExtBytes = 32

// unnamed replaces a name that sanitizes to nothing.
const unnamed = "unnamed"

// SanitizeName returns a file name that is safe to create in a download
// folder on any desktop system, whatever a sealer (or an attacker) put in
// a header. It is applied when sealing and again when opening a header.
//
//   - invalid UTF-8 becomes U+FFFD; valid text in any script is kept as is;
//   - path separators (/ and \), characters Windows forbids (< > : " | ? *),
//     control characters (C0, DEL, C1) and line/paragraph separators become
//     "_"; bidirectional override and isolate controls are removed;
//   - leading white space and trailing white space and dots are trimmed, so
//     "." and ".." cannot remain;
//   - Windows device names (CON, NUL, COM1, ...) get a "_" prefix;
//   - the result is at most MaxNameBytes bytes, cut at a character boundary
//     and keeping a short extension; an empty result becomes "unnamed".
//
// SanitizeName is idempotent.
func SanitizeName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case isBidiControl(r):
			continue
		case r == '/' || r == '\\' || strings.ContainsRune(`<>:"|?*`, r),
			unicode.IsControl(r), r == '\u2028', r == '\u2029':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	s = trimName(b.String())
	if s == "" {
		return unnamed
	}
	if isWindowsDevice(s) {
		s = "_" + s
	}
	if len(s) > MaxNameBytes {
		s = shortenName(s)
	}
	return s
}

func trimName(s string) string {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	return strings.TrimRightFunc(s, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
}

// shortenName cuts s to MaxNameBytes, keeping its extension when short.
func shortenName(s string) string {
	ext := ""
	if i := strings.LastIndexByte(s, '.'); i > 0 && len(s)-i <= maxExtBytes {
		ext = s[i:]
		s = s[:i]
	}
	limit := MaxNameBytes - len(ext)
	for len(s) > limit {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	s = trimName(s)
	if s == "" {
		s = unnamed
	}
	return s + ext
}

func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// isWindowsDevice reports whether the part of s before its first dot is a
// reserved Windows device name.
func isWindowsDevice(s string) bool {
	base, _, _ := strings.Cut(s, ".")
	base = strings.ToUpper(strings.TrimRightFunc(base, unicode.IsSpace))
	switch base {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) &&
		base[3] >= '0' && base[3] <= '9' {
		return true
	}
	return false
}

// SanitizeMediaType returns mt in canonical form ("type/subtype" with
// optional parameters, lower case) or "" if it is not a valid media type or
// is longer than 255 bytes. It is idempotent.
func SanitizeMediaType(mt string) string {
	if mt == "" || len(mt) > maxMediaTypeLen {
		return ""
	}
	t, params, err := mime.ParseMediaType(mt)
	if err != nil || !strings.Contains(t, "/") {
		return ""
	}
	out := mime.FormatMediaType(t, params)
	if len(out) > maxMediaTypeLen {
		return ""
	}
	return out
}
