package crypto

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSanitizeName(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	tests := []struct{ in, want string }{
		{"movie.mp4", "movie.mp4"},
		{"Перевод — черновик.txt", "Перевод — черновик.txt"},
		{"日本語のファイル名.pdf", "日本語のファイル名.pdf"},
		{"مستند عربي.docx", "مستند عربي.docx"},
		{"نیم\u200cفاصله.txt", "نیم\u200cفاصله.txt"}, // ZWNJ kept (Persian)
		{"हिन्दी फ़ाइल.txt", "हिन्दी फ़ाइल.txt"},
		{"\U0001F469\u200d\U0001F467 family.jpg", "\U0001F469\u200d\U0001F467 family.jpg"}, // ZWJ kept
		{"e\u0301te\u0301.txt", "e\u0301te\u0301.txt"},                                     // combining marks kept (NFD)
		{"../../etc/passwd", ".._.._etc_passwd"},
		{"..", unnamed},
		{".", unnamed},
		{"", unnamed},
		{"   ", unnamed},
		{"a/b\\c", "a_b_c"},
		{"C:\\Windows\\evil.exe", "C__Windows_evil.exe"},
		{"x<y>z:\"q\"|?*.txt", "x_y_z__q____.txt"},
		{"bell\a\x00nul\nline\x7f\u0085.txt", "bell__nul_line__.txt"},
		{"para\u2028graph\u2029", "para_graph_"},
		{"invoice\u202egpj.exe", "invoicegpj.exe"},
		{"iso\u2066late\u2069d", "isolated"},
		{"trailing dots...", "trailing dots"},
		{"  spaced name . ", "spaced name"},
		{".hidden", ".hidden"},
		{"CON", "_CON"},
		{"nul.txt", "_nul.txt"},
		{"com1.log", "_com1.log"},
		{"console.txt", "console.txt"},
		{"COM\u00b9", "_COM\u00b9"},
		{"lpt\u00b3.txt", "_lpt\u00b3.txt"},
		{"conin$", "_conin$"},
		{"CONOUT$.log", "_CONOUT$.log"},
		{"com10.txt", "com10.txt"},
		{"-rf", "_-rf"},
		{"--help.txt", "_--help.txt"},
		{" -x", "_-x"},
		{"a-b", "a-b"},
		{"invoice\u200e\u200f\u061c.pdf", "invoice.pdf"},                   // LRM, RLM, ALM
		{"pay\u200bpal\u2060.exe\ufeff", "paypal.exe"},                     // zero-width space, word joiner, BOM
		{"tag\U000E0041\U000E007F.txt", "tag.txt"},                         // tag characters
		{"soft\u00adhyphen", "softhyphen"},                                 // soft hyphen is Cf
		{"pa\u200dy\u200cpal.exe", "paypal.exe"},                           // joiners between ASCII hide
		{"\u200dنیم\u200c", "نیم"},                                         // a joiner at an end joins nothing
		{"نیم\u200c\u200cفاصله", "نیمفاصله"},                               // nor two in a row
		{"\U0001F469\u200d\u200b\U0001F467", "\U0001F469\u200d\U0001F467"}, // what Cf removal leaves joined
		{"bad\xff\xfeutf8", "bad\uFFFDutf8"},
		{long + ".mkv", strings.Repeat("é", 125) + ".mkv"},
		{strings.Repeat("a", 300), strings.Repeat("a", 255)},
		{strings.Repeat("a", 250) + "." + strings.Repeat("b", 60), strings.Repeat("a", 250) + "." + strings.Repeat("b", 4)},
	}
	for _, tt := range tests {
		got := SanitizeName(tt.in)
		if got != tt.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		checkSafeName(t, got)
		if again := SanitizeName(got); again != got {
			t.Errorf("SanitizeName not idempotent on %q: %q", got, again)
		}
	}
}

// checkSafeName fails if name could escape a folder or misbehave on disk.
func checkSafeName(t testing.TB, name string) {
	t.Helper()
	if name == "" || name == "." || name == ".." || len(name) > MaxNameBytes || !utf8.ValidString(name) {
		t.Fatalf("unsafe name %q", name)
	}
	rs := []rune(name)
	for i, r := range rs {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || strings.ContainsRune("/\\<>:\"|?*\u2028\u2029", r) ||
			(unicode.Is(unicode.Cf, r) && !isJoiner(r)) {
			t.Fatalf("name %q holds %U", name, r)
		}
		if isJoiner(r) && (i == 0 || i == len(rs)-1 || rs[i-1] < utf8.RuneSelf || rs[i+1] < utf8.RuneSelf) {
			t.Fatalf("name %q holds a joiner %U next to ASCII or at an end", name, r)
		}
	}
	if strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") || strings.HasPrefix(name, "-") || isWindowsDevice(name) {
		t.Fatalf("name %q ends badly or is a device", name)
	}
}

func TestSanitizeMediaType(t *testing.T) {
	tests := []struct{ in, want string }{
		{"video/mp4", "video/mp4"},
		{"Text/Plain; Charset=UTF-8", "text/plain; charset=UTF-8"},
		{"", ""},
		{"nonsense", ""},
		{"video/mp4\r\nX-Evil: 1", ""},
		{"a/" + strings.Repeat("b", 300), ""},
	}
	for _, tt := range tests {
		got := SanitizeMediaType(tt.in)
		if got != tt.want {
			t.Errorf("SanitizeMediaType(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if SanitizeMediaType(got) != got {
			t.Errorf("SanitizeMediaType not idempotent on %q", got)
		}
	}
}
