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
//     "_";
//   - invisible format characters (Unicode category Cf: bidirectional
//     overrides, isolates and marks, zero-width spaces, the BOM, tags, ...),
//     which can disguise an extension or make two names look the same, are
//     removed, but for ZWJ and ZWNJ between two non-ASCII characters (Persian,
//     Indic scripts, emoji sequences need them; between ASCII letters they
//     only hide);
//   - leading white space and trailing white space and dots are trimmed, so
//     "." and ".." cannot remain;
//   - Windows device names (CON, NUL, COM1, COM¹, CONIN$, ...) and names that
//     begin with "-" (which a shell glob turns into a command's option) get a
//     "_" prefix;
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
		case isJoiner(r):
			b.WriteRune(r) // kept or dropped by keepJoiners
		case unicode.Is(unicode.Cf, r):
			continue
		case r == '/' || r == '\\' || strings.ContainsRune(`<>:"|?*`, r),
			unicode.IsControl(r), r == '\u2028', r == '\u2029':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	s = trimName(keepJoiners(b.String()))
	if s == "" {
		return unnamed
	}
	if isWindowsDevice(s) || strings.HasPrefix(s, "-") {
		s = "_" + s
	}
	if len(s) > MaxNameBytes {
		s = shortenName(s)
	}
	return s
}

// isJoiner reports whether r is ZERO WIDTH JOINER or NON-JOINER.
func isJoiner(r rune) bool { return r == '\u200c' || r == '\u200d' }

// joinable reports whether a joiner may stand next to r: a visible
// character outside ASCII.
func joinable(r rune) bool { return r >= utf8.RuneSelf && !isJoiner(r) && !unicode.IsSpace(r) }

// keepJoiners drops every joiner that does not stand alone between two
// joinable characters. Only joiners are dropped, so the neighbours of those
// kept stay as they were: a second pass keeps the same ones.
func keepJoiners(s string) string {
	if !strings.ContainsFunc(s, isJoiner) {
		return s
	}
	rs := []rune(s)
	out := rs[:0:0]
	for i, r := range rs {
		if isJoiner(r) && (i == 0 || i == len(rs)-1 || !joinable(rs[i-1]) || !joinable(rs[i+1])) {
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

func trimName(s string) string {
	s = strings.TrimLeftFunc(s, func(r rune) bool { return unicode.IsSpace(r) || isJoiner(r) })
	return strings.TrimRightFunc(s, func(r rune) bool { return r == '.' || unicode.IsSpace(r) || isJoiner(r) })
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

// isWindowsDevice reports whether the part of s before its first dot is a
// reserved Windows device name: CON, PRN, AUX, NUL, COM and LPT followed by
// a digit or a superscript 1, 2 or 3, CONIN$ and CONOUT$.
func isWindowsDevice(s string) bool {
	base, _, _ := strings.Cut(s, ".")
	base = strings.ToUpper(strings.TrimRightFunc(base, unicode.IsSpace))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	for _, p := range []string{"COM", "LPT"} {
		if d, ok := strings.CutPrefix(base, p); ok {
			switch d {
			case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "\u00b9", "\u00b2", "\u00b3":
				return true
			}
		}
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
