package crypto

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Fuzz targets for every decoder of bytes from strangers: links and content
// IDs pasted by people, descriptors and proofs from peers, headers under a
// known key, stored trees. Seed corpora live in testdata/fuzz/<target>/.

// FuzzParseLink parses fuzzed link texts, and fuzzed link bodies given a
// valid checksum so that parsing goes past the checksum.
func FuzzParseLink(f *testing.F) {
	k := testKey(4)
	ck := [32]byte(testKey(5))
	sec := SwarmSecret(testKey(6))
	full := Link{ID: ContentID(testKey(9)), Secret: &sec, Key: &k, ClientKey: &ck, Peers: []string{testPeer(1, 7446), testPeer(2, 80)}}.Encode()
	fullBody, _ := b32.DecodeString(full[len("hydre:"):])
	f.Add(Link{ID: ContentID(testKey(9))}.Encode(), fullBody[:len(fullBody)-linkChecksumLen])
	f.Add(full, []byte{2, 0})
	f.Add(Link{ID: ContentID(testKey(9)), Secret: &sec}.Encode(), []byte{2, 4})
	f.Add("hydre:", []byte{})
	f.Add("HYDRE:AAAA", []byte{2, 0})
	f.Add("magnet:?xt=urn:btih:0000", []byte{1, 1})
	f.Fuzz(func(t *testing.T, s string, body []byte) {
		checkParsedLink(t, s)
		if len(body) < linkMaxLen {
			checkParsedLink(t, rawLink(body))
		}
	})
}

func checkParsedLink(t *testing.T, s string) {
	l, err := ParseLink(s)
	if err != nil {
		if !errors.Is(err, ErrBadLink) {
			t.Fatalf("error does not wrap ErrBadLink: %v", err)
		}
		return
	}
	if err := l.Validate(); err != nil {
		t.Fatalf("parsed link does not validate: %v", err)
	}
	enc := l.Encode()
	canonical := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return asciiLower(r)
	}, s)
	if canonical != enc {
		t.Fatalf("accepted text is not the canonical encoding:\n%q\n%q", canonical, enc)
	}
	l2, err := ParseLink(enc)
	if err != nil {
		t.Fatalf("re-parse: %v", err)
	}
	if l2.Encode() != enc {
		t.Fatal("link does not round-trip")
	}
	// The redacted forms do not depend on the secrets.
	other := l
	if l.Key != nil {
		other.Key = &Key{0xff}
	}
	if l.ClientKey != nil {
		other.ClientKey = &[32]byte{0xee}
	}
	if l.Secret != nil {
		other.Secret = &SwarmSecret{0xdd}
	}
	if l.String() != other.String() || fmt.Sprintf("%#v", l) != fmt.Sprintf("%#v", other) {
		t.Fatal("String shows a secret")
	}
}

func FuzzParseContentID(f *testing.F) {
	f.Add(ContentID(testKey(1)).String())
	f.Add(strings.Repeat("a", IDTextLen))
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseContentID(s)
		if err != nil {
			return
		}
		if strings.Map(asciiLower, strings.TrimSpace(s)) != id.String() {
			t.Fatalf("accepted %q, canonical %q", s, id.String())
		}
		if got, err := ParseContentID(id.String()); err != nil || got != id {
			t.Fatalf("content id does not round-trip: %v", err)
		}
	})
}

// FuzzOpenHeader fuzzes the header decoder under a known key: the fuzzer
// writes header plaintexts, which are sealed properly, so decoding (not
// authentication) is what gets exercised.
func FuzzOpenHeader(f *testing.F) {
	f.Add(encodeHeader(Header{Name: "a.txt", Size: 10, ChunkSize: MinChunkSize, MediaType: "text/plain"}), int64(10))
	f.Add(encodeHeader(Header{Name: "../../évil\x00", Size: 0, ChunkSize: MinChunkSize}), int64(0))
	f.Add(make([]byte, headerBlock), int64(0))
	f.Fuzz(func(t *testing.T, plain []byte, size int64) {
		if size < 0 || size > 1<<40 {
			size = 0
		}
		d := &Descriptor{Version: Version, ChunkSize: MinChunkSize, Size: size}
		k := testKey(3)
		n := nonceFor(nonceHeader, 0)
		d.SealedHeader = newAEAD(k).Seal(nil, n[:], plain, d.fixedPart())
		h, err := d.OpenHeader(k)
		if err != nil {
			if !errors.Is(err, ErrBadHeader) {
				t.Fatalf("error does not wrap ErrBadHeader: %v", err)
			}
			return
		}
		checkSafeName(t, h.Name)
		if SanitizeMediaType(h.MediaType) != h.MediaType || h.Size != size {
			t.Fatalf("header not sanitized or inconsistent: %+v", h)
		}
		// Re-sealing the opened header gives a header that opens the same.
		d2 := &Descriptor{Version: Version, ChunkSize: MinChunkSize, Size: size}
		d2.SealedHeader = sealHeader(k, d2, h)
		h2, err := d2.OpenHeader(k)
		if err != nil || h2 != h {
			t.Fatalf("header does not round-trip: %+v %v", h2, err)
		}
	})
}

// FuzzUnmarshalDescriptor feeds raw descriptors; the fuzzer's bytes are
// checked against their own ID so decoding goes past the ID check.
func FuzzUnmarshalDescriptor(f *testing.F) {
	s := sealBytes(f, testData(3000, 1), MinChunkSize, testKey(1))
	good, _ := s.Descriptor.MarshalBinary()
	f.Add(good, false)
	f.Add(good[:descriptorFixedLen], true)
	f.Add([]byte{1}, false)
	f.Fuzz(func(t *testing.T, b []byte, wrongID bool) {
		id := ContentID(hashDomain(domainDescriptor, b))
		if wrongID {
			id[0] ^= 1
		}
		d, err := UnmarshalDescriptor(b, id)
		if err != nil {
			if !errors.Is(err, ErrBadDescriptor) {
				t.Fatalf("error does not wrap ErrBadDescriptor: %v", err)
			}
			return
		}
		if wrongID {
			t.Fatal("descriptor accepted under a wrong id")
		}
		if d.ID() != id {
			t.Fatal("ID() differs from the id checked")
		}
		enc, err := d.MarshalBinary()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("descriptor does not round-trip: %v", err)
		}
		if n := d.NumChunks(); n < 1 || n > MaxChunks {
			t.Fatalf("NumChunks = %d", n)
		}
		if _, err := d.OpenHeader(testKey(1)); err == nil && !bytes.Equal(b, good) {
			t.Fatal("a fuzzed header opened under the test key")
		}
	})
}

// FuzzProofVerify feeds a proof's bytes, a chunk and an index to a tree of a
// real content: only the genuine (index, chunk, proof) may verify.
func FuzzProofVerify(f *testing.F) {
	s, cts := sealedChunks(f, 7)
	for i := range cts {
		p, _ := s.Tree.Proof(i)
		pb, _ := p.MarshalBinary()
		f.Add(i, cts[i], pb, false)
	}
	f.Add(0, []byte{}, []byte{0}, true)
	f.Add(3, cts[3], []byte{64}, true)
	f.Fuzz(func(t *testing.T, i int, ct, pb []byte, partial bool) {
		p, err := UnmarshalProof(pb)
		if err != nil {
			if !errors.Is(err, ErrBadProof) {
				t.Fatalf("error does not wrap ErrBadProof: %v", err)
			}
			return
		}
		tr := s.Tree
		if partial {
			tr = NewPartialTree(s.Descriptor)
		}
		err = tr.Verify(i, ct, p)
		genuine := i >= 0 && i < len(cts) && bytes.Equal(ct, cts[i])
		if err == nil && !genuine {
			t.Fatalf("forged chunk %d verified", i)
		}
		if err != nil && !errors.Is(err, ErrBadChunk) && !errors.Is(err, ErrBadProof) {
			t.Fatalf("unexpected error: %v", err)
		}
		if err == nil && partial {
			if err := tr.Add(i, ct, p); err != nil || !tr.Has(i) {
				t.Fatalf("add after verify: %v", err)
			}
		}
	})
}

func FuzzUnmarshalTree(f *testing.F) {
	s, cts := sealedChunks(f, 9)
	full, _ := s.Tree.MarshalBinary()
	pt := NewPartialTree(s.Descriptor)
	for _, i := range []int{1, 5, 8} {
		p, _ := s.Tree.Proof(i)
		_ = pt.Add(i, cts[i], p)
	}
	part, _ := pt.MarshalBinary()
	f.Add(full)
	f.Add(part)
	f.Add([]byte{1, 1, 0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, b []byte) { checkLoadedTree(t, s, cts, b) })
}

func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{"a.txt", "../x", "CON.txt", strings.Repeat("é", 300) + ".mkv", "\u202e\x00/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := SanitizeName(s)
		checkSafeName(t, got)
		if SanitizeName(got) != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, SanitizeName(got))
		}
		if utf8.ValidString(s) && len(s) <= MaxNameBytes && got != s && safeAlready(s) {
			t.Fatalf("safe name %q changed to %q", s, got)
		}
	})
}

// safeAlready reports whether s needs no change: letters, digits, spaces
// (inside), dots (not at the end), dashes (not at the start) and a few
// punctuation marks.
func safeAlready(s string) bool {
	if s == "" || strings.TrimSpace(s) != s || strings.HasSuffix(s, ".") || strings.HasPrefix(s, "-") || isWindowsDevice(s) {
		return false
	}
	for _, r := range s {
		if !(r == ' ' || r == '.' || r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || (r >= 0x4e00 && r <= 0x9fff) || (r >= 0x400 && r <= 0x4ff)) {
			return false
		}
	}
	return true
}
