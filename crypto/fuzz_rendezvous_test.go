package crypto

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// Fuzz targets for the rendezvous messages a slot host reads from anyone
// who holds the link (Register) and a downloader reads from a slot's host
// (Answer). Seed corpora live in testdata/fuzz/<target>/.

// FuzzDecodeRegister: a decoded Register re-encodes to the same bytes, and
// only the genuine record verifies.
func FuzzDecodeRegister(f *testing.F) {
	genuine := EncodeRegister(testRecord(f, 1, 7446))
	f.Add(genuine)
	f.Add(EncodeAsk())
	f.Add([]byte{1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkReadMessage(t, b)
		r, err := DecodeRegister(b)
		if err != nil {
			if !errors.Is(err, ErrBadRendezvous) {
				t.Fatalf("error does not wrap ErrBadRendezvous: %v", err)
			}
			return
		}
		if !bytes.Equal(EncodeRegister(r), b) {
			t.Fatal("register does not round-trip")
		}
		if r.Verify(ContentID(testKey(9)), SwarmSecret(testKey(6)), recordNow) == nil && !bytes.Equal(b, genuine) {
			t.Fatal("a fuzzed record verified")
		}
	})
}

// FuzzDecodeAnswer: a decoded Answer is bounded, re-encodes to the same
// bytes, and its verified records are genuine ones.
func FuzzDecodeAnswer(f *testing.F) {
	r1, r2 := testRecord(f, 1, 7446), testRecord(f, 2, 80)
	genuine := map[HolderRecord]bool{r1: true, r2: true}
	two, _ := EncodeAnswer([]HolderRecord{r1, r2})
	f.Add(two)
	f.Add([]byte{1, 3, 0})
	f.Add([]byte{1, 3, 33})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkReadMessage(t, b)
		rs, err := DecodeAnswer(b)
		if err != nil {
			if !errors.Is(err, ErrBadRendezvous) {
				t.Fatalf("error does not wrap ErrBadRendezvous: %v", err)
			}
			return
		}
		if len(rs) > MaxAnswerRecords || len(b) > MaxRendezvousMessage {
			t.Fatalf("%d records in %d bytes", len(rs), len(b))
		}
		enc, err := EncodeAnswer(rs)
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("answer does not round-trip: %v", err)
		}
		valid, bad := VerifyAnswer(rs, ContentID(testKey(9)), SwarmSecret(testKey(6)), recordNow)
		if len(valid)+bad != len(rs) {
			t.Fatal("VerifyAnswer lost records")
		}
		for _, r := range valid {
			if !genuine[r] {
				t.Fatal("a fuzzed record verified")
			}
		}
	})
}

// checkReadMessage: ReadMessage takes from a stream holding b exactly the
// message b starts with, which then decodes, and nothing past it.
func checkReadMessage(t *testing.T, b []byte) {
	r := bytes.NewReader(b)
	m, err := ReadMessage(r)
	if err != nil {
		if !errors.Is(err, ErrBadRendezvous) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("ReadMessage: unexpected error: %v", err)
		}
		return
	}
	if len(m) > MaxRendezvousMessage || !bytes.Equal(m, b[:len(m)]) || r.Len() != len(b)-len(m) {
		t.Fatalf("ReadMessage took %d of %d bytes", len(m), len(b))
	}
	typ, _ := MessageType(m)
	var derr error
	switch typ {
	case TypeRegister:
		_, derr = DecodeRegister(m)
	case TypeAsk:
		derr = DecodeAsk(m)
	case TypeAnswer:
		_, derr = DecodeAnswer(m)
	}
	// What ReadMessage frames may still fail the decoder's checks of the
	// records (port 0, a holder twice), never its lengths.
	if derr != nil && (strings.Contains(derr.Error(), "bytes") || strings.Contains(derr.Error(), "count missing")) {
		t.Fatalf("ReadMessage framed a message the decoder finds the wrong length: %v", derr)
	}
}
