package crypto

import (
	"bytes"
	"errors"
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
