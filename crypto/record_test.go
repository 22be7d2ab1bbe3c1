package crypto

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// testHolder returns the per-content onion identity key of a test holder.
func testHolder(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
}

var recordNow = time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)

func testRecord(t testing.TB, seed byte, port int) HolderRecord {
	t.Helper()
	r, err := NewHolderRecord(testHolder(seed), port, recordNow.Add(time.Hour), ContentID(testKey(9)), SwarmSecret(testKey(6)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHolderRecordVerify(t *testing.T) {
	id, sec := ContentID(testKey(9)), SwarmSecret(testKey(6))
	good := testRecord(t, 1, 7446)
	if err := good.Verify(id, sec, recordNow); err != nil {
		t.Fatal(err)
	}
	if got := good.Address(); !strings.HasSuffix(got, ".onion:7446") || got != peerString([32]byte(testHolder(1).Public().(ed25519.PublicKey)), 7446) {
		t.Fatalf("Address = %q", got)
	}
	tamper := func(f func(*HolderRecord)) HolderRecord { r := good; f(&r); return r }
	tests := []struct {
		name string
		r    HolderRecord
		id   ContentID
		sec  SwarmSecret
		now  time.Time
		want string
	}{
		{"other content", good, ContentID(testKey(8)), sec, recordNow, "bad signature"},
		{"other swarm of the same content", good, id, SwarmSecret(testKey(7)), recordNow, "bad signature"},
		{"no secret", good, id, SwarmSecret{}, recordNow, "no swarm secret"},
		{"expired", good, id, sec, recordNow.Add(time.Hour), "expired"},
		{"too far ahead", good, id, sec, recordNow.Add(time.Hour - MaxRecordLifetime - RecordClockSkew - time.Second), "too far ahead"},
		{"port changed", tamper(func(r *HolderRecord) { r.Port = 80 }), id, sec, recordNow, "bad signature"},
		{"port 0", tamper(func(r *HolderRecord) { r.Port = 0 }), id, sec, recordNow, "port 0"},
		{"expiry extended", tamper(func(r *HolderRecord) { r.Expires += 60 }), id, sec, recordNow, "bad signature"},
		{"holder replaced", tamper(func(r *HolderRecord) { r.Holder = [32]byte(testHolder(2).Public().(ed25519.PublicKey)) }), id, sec, recordNow, "bad signature"},
		{"signature flipped", tamper(func(r *HolderRecord) { r.Sig[10] ^= 1 }), id, sec, recordNow, "bad signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Verify(tt.id, tt.sec, tt.now)
			if !errors.Is(err, ErrBadRecord) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want ErrBadRecord saying %q", err, tt.want)
			}
		})
	}
	// The edges of the accepted window.
	if err := good.Verify(id, sec, recordNow.Add(time.Hour-time.Second)); err != nil {
		t.Errorf("last second: %v", err)
	}
	if err := good.Verify(id, sec, recordNow.Add(time.Hour-MaxRecordLifetime-RecordClockSkew)); err != nil {
		t.Errorf("furthest ahead: %v", err)
	}
	for _, bad := range []struct {
		key  ed25519.PrivateKey
		port int
		sec  SwarmSecret
	}{{testHolder(1)[:32], 80, sec}, {testHolder(1), 0, sec}, {testHolder(1), 65536, sec}, {testHolder(1), 80, SwarmSecret{}}} {
		if _, err := NewHolderRecord(bad.key, bad.port, recordNow, id, bad.sec); !errors.Is(err, ErrBadRecord) {
			t.Errorf("NewHolderRecord(%d-byte key, port %d) = %v", len(bad.key), bad.port, err)
		}
	}
	if _, err := NewHolderRecord(testHolder(1), 80, time.Unix(-5, 0), id, sec); !errors.Is(err, ErrBadRecord) {
		t.Errorf("NewHolderRecord(before 1970) = %v", err)
	}
}

func TestRendezvousMessages(t *testing.T) {
	r1, r2 := testRecord(t, 1, 7446), testRecord(t, 2, 80)
	reg := EncodeRegister(r1)
	if len(reg) != 2+RecordLen {
		t.Fatalf("Register is %d bytes", len(reg))
	}
	if got, err := DecodeRegister(reg); err != nil || got != r1 {
		t.Fatalf("DecodeRegister = %v", err)
	}
	if err := DecodeAsk(EncodeAsk()); err != nil {
		t.Fatal(err)
	}
	ans, err := EncodeAnswer([]HolderRecord{r1, r2})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeAnswer(ans); err != nil || len(got) != 2 || got[0] != r1 || got[1] != r2 {
		t.Fatalf("DecodeAnswer = %v, %v", got, err)
	}
	if got, err := DecodeAnswer([]byte{1, 3, 0}); err != nil || len(got) != 0 {
		t.Fatalf("empty answer: %v, %v", got, err)
	}
	for b, want := range map[string]int{string(reg): TypeRegister, string(EncodeAsk()): TypeAsk, string(ans): TypeAnswer} {
		if got, err := MessageType([]byte(b)); err != nil || got != want {
			t.Errorf("MessageType = %d, %v; want %d", got, err, want)
		}
	}
	many := make([]HolderRecord, MaxAnswerRecords+1)
	for i := range many {
		many[i] = testRecord(t, byte(i+1), 7446)
	}
	full, err := EncodeAnswer(many[:MaxAnswerRecords])
	if err != nil || len(full) != MaxRendezvousMessage {
		t.Fatalf("full answer: %d bytes, %v", len(full), err)
	}
	if _, err := EncodeAnswer(many); !errors.Is(err, ErrBadRendezvous) {
		t.Errorf("EncodeAnswer(33) = %v", err)
	}
	if _, err := EncodeAnswer([]HolderRecord{r1, r1}); !errors.Is(err, ErrBadRendezvous) {
		t.Errorf("EncodeAnswer(twice) = %v", err)
	}
	over := append([]byte{1, 3, MaxAnswerRecords + 1}, full[3:3+RecordLen]...)
	port0 := append([]byte(nil), reg...)
	port0[2+32], port0[2+33] = 0, 0
	bigExpiry := append([]byte(nil), reg...)
	bigExpiry[2+34] = 0x80
	bad := []struct {
		name string
		b    []byte
		dec  func([]byte) error
		want string
	}{
		{"register empty", nil, decReg, "too short"},
		{"register version", append([]byte{2}, reg[1:]...), decReg, "unknown version 2"},
		{"register as answer", reg, decAns, "message type 1, want 3"},
		{"register short", reg[:len(reg)-1], decReg, "bytes, want"},
		{"register long", append(reg, 0), decReg, "bytes, want"},
		{"register port 0", port0, decReg, "port 0"},
		{"register expiry", bigExpiry, decReg, "expiry out of range"},
		{"ask with body", []byte{1, 2, 0}, DecodeAsk, "body"},
		{"answer no count", []byte{1, 3}, decAns, "count missing"},
		{"answer count over", over, decAns, "more than"},
		{"answer short", ans[:len(ans)-1], decAns, "bytes for 2 records"},
		{"answer trailing", append(ans, 0), decAns, "bytes for 2 records"},
		{"answer twice", append([]byte{1, 3, 2}, append(ans[3:3+RecordLen], ans[3:3+RecordLen]...)...), decAns, "holder twice"},
		{"answer too long", make([]byte, MaxRendezvousMessage+1), decAns, "longer than any message"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.dec(tt.b)
			if !errors.Is(err, ErrBadRendezvous) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrBadRendezvous saying %q", err, tt.want)
			}
		})
	}
	if _, err := MessageType([]byte{1, 4}); !errors.Is(err, ErrBadRendezvous) {
		t.Errorf("MessageType(type 4) = %v", err)
	}
}

func decReg(b []byte) error { _, err := DecodeRegister(b); return err }
func decAns(b []byte) error { _, err := DecodeAnswer(b); return err }

// TestVerifyAnswer: what a slot host can and cannot do to an answer. It can
// leave records out and pass on expired or foreign ones (dropped); it can
// add holders of its own making (they verify: fakes cost one circuit each);
// it cannot alter a real holder's record.
func TestVerifyAnswer(t *testing.T) {
	id, sec := ContentID(testKey(9)), SwarmSecret(testKey(6))
	real := testRecord(t, 1, 7446)
	stale, _ := NewHolderRecord(testHolder(2), 7446, recordNow.Add(-time.Minute), id, sec)
	foreign, _ := NewHolderRecord(testHolder(3), 7446, recordNow.Add(time.Hour), id, SwarmSecret(testKey(7)))
	moved := real
	moved.Holder = [32]byte(testHolder(4).Public().(ed25519.PublicKey))
	fake, _ := NewHolderRecord(testHolder(5), 9, recordNow.Add(time.Hour), id, sec)
	b, err := EncodeAnswer([]HolderRecord{stale, real, foreign, moved, fake})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := DecodeAnswer(b)
	if err != nil {
		t.Fatal(err)
	}
	valid, bad := VerifyAnswer(rs, id, sec, recordNow)
	if bad != 3 || len(valid) != 2 || valid[0] != real || valid[1] != fake {
		t.Fatalf("VerifyAnswer kept %d, dropped %d", len(valid), bad)
	}
}

func TestReadMessage(t *testing.T) {
	r1, r2 := testRecord(t, 1, 7446), testRecord(t, 2, 80)
	ans, _ := EncodeAnswer([]HolderRecord{r1, r2})
	stream := append(append(append(EncodeRegister(r1), EncodeAsk()...), ans...), []byte{1, 3, 0}...)
	rd := bytes.NewReader(stream)
	for i, want := range [][]byte{EncodeRegister(r1), EncodeAsk(), ans, {1, 3, 0}} {
		got, err := ReadMessage(rd)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	if _, err := ReadMessage(rd); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last message: %v", err)
	}
	for _, tt := range []struct {
		b    []byte
		want error
	}{
		{[]byte{1}, io.ErrUnexpectedEOF},
		{[]byte{2, 2}, ErrBadRendezvous},
		{[]byte{1, 9}, ErrBadRendezvous},
		{[]byte{1, 3}, io.ErrUnexpectedEOF},
		{[]byte{1, 3, 33}, ErrBadRendezvous},
		{ans[:len(ans)-1], io.ErrUnexpectedEOF},
		{EncodeRegister(r1)[:50], io.ErrUnexpectedEOF},
	} {
		if _, err := ReadMessage(bytes.NewReader(tt.b)); !errors.Is(err, tt.want) {
			t.Errorf("ReadMessage(% x...) = %v, want %v", tt.b[:min(len(tt.b), 3)], err, tt.want)
		}
	}
}
