package crypto

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Rendezvous messages (docs/protocol.md, Part III, "Messages"), what a
// holder or a downloader says to a slot's host over one onion stream and
// what the host answers:
//
//	message  = version (1) = 1 || type (1) || body
//	Register = type 1, body = record (RecordLen)
//	Ask      = type 2, body empty
//	Answer   = type 3, body = count (1, <= MaxAnswerRecords) || count × record
//
// Records in an Answer have distinct holders. Decoders take exactly one
// message: no byte may be missing or left over.
const (
	RendezvousVersion = 1
	rvRegister        = 1
	rvAsk             = 2
	rvAnswer          = 3

	// MaxAnswerRecords bounds the records of an Answer, as PEX bounds its
	// addresses: a host picks which of its records to give.
	MaxAnswerRecords = 32
	// MaxRendezvousMessage is the longest message, an Answer with
	// MaxAnswerRecords records: read no more than this from a stream.
	MaxRendezvousMessage = 2 + 1 + MaxAnswerRecords*RecordLen
)

// EncodeRegister returns the Register message carrying r.
func EncodeRegister(r HolderRecord) []byte {
	b, _ := r.AppendBinary([]byte{RendezvousVersion, rvRegister})
	return b
}

// EncodeAsk returns the Ask message.
func EncodeAsk() []byte { return []byte{RendezvousVersion, rvAsk} }

// EncodeAnswer returns the Answer message carrying rs. Errors wrap
// ErrBadRendezvous: more than MaxAnswerRecords records, two with one
// holder, or a record with port 0.
func EncodeAnswer(rs []HolderRecord) ([]byte, error) {
	if len(rs) > MaxAnswerRecords {
		return nil, fmt.Errorf("encode answer: %d records is more than %d: %w", len(rs), MaxAnswerRecords, ErrBadRendezvous)
	}
	b := make([]byte, 0, 3+len(rs)*RecordLen)
	b = append(b, RendezvousVersion, rvAnswer, byte(len(rs)))
	seen := make(map[[32]byte]bool, len(rs))
	for i, r := range rs {
		if r.Port == 0 || r.Expires < 0 {
			return nil, fmt.Errorf("encode answer: record %d: port 0 or negative expiry: %w", i+1, ErrBadRendezvous)
		}
		if seen[r.Holder] {
			return nil, fmt.Errorf("encode answer: record %d: holder twice: %w", i+1, ErrBadRendezvous)
		}
		seen[r.Holder] = true
		b, _ = r.AppendBinary(b)
	}
	return b, nil
}

func rvHeader(b []byte, typ byte, op string) ([]byte, error) {
	if len(b) > MaxRendezvousMessage {
		return nil, fmt.Errorf("%s: %d bytes is longer than any message: %w", op, len(b), ErrBadRendezvous)
	}
	if len(b) < 2 {
		return nil, fmt.Errorf("%s: %d bytes is too short: %w", op, len(b), ErrBadRendezvous)
	}
	if b[0] != RendezvousVersion {
		return nil, fmt.Errorf("%s: unknown version %d: %w", op, b[0], ErrBadRendezvous)
	}
	if b[1] != typ {
		return nil, fmt.Errorf("%s: message type %d, want %d: %w", op, b[1], typ, ErrBadRendezvous)
	}
	return b[2:], nil
}

// MessageType returns the type of a rendezvous message (1 Register, 2 Ask,
// 3 Answer) after checking its version, so a host can tell what it got.
// Errors wrap ErrBadRendezvous.
func MessageType(b []byte) (int, error) {
	if len(b) < 2 || b[0] != RendezvousVersion || b[1] < rvRegister || b[1] > rvAnswer {
		return 0, fmt.Errorf("rendezvous message: bad version or type: %w", ErrBadRendezvous)
	}
	return int(b[1]), nil
}

// Message types MessageType returns.
const (
	TypeRegister = rvRegister
	TypeAsk      = rvAsk
	TypeAnswer   = rvAnswer
)

// DecodeRegister decodes a Register message. It checks the encoding only;
// the host then calls Verify on the record. Errors wrap ErrBadRendezvous.
func DecodeRegister(b []byte) (HolderRecord, error) {
	body, err := rvHeader(b, rvRegister, "decode register")
	if err != nil {
		return HolderRecord{}, err
	}
	r, err := UnmarshalHolderRecord(body)
	if err != nil {
		return HolderRecord{}, fmt.Errorf("decode register: %w", err)
	}
	return r, nil
}

// DecodeAsk checks an Ask message. Errors wrap ErrBadRendezvous.
func DecodeAsk(b []byte) error {
	body, err := rvHeader(b, rvAsk, "decode ask")
	if err != nil {
		return err
	}
	if len(body) != 0 {
		return fmt.Errorf("decode ask: %d bytes of body, want 0: %w", len(body), ErrBadRendezvous)
	}
	return nil
}

// DecodeAnswer decodes an Answer message: at most MaxAnswerRecords records
// with distinct holders, no byte missing or left over. It checks the
// encoding only; VerifyAnswer keeps the records that verify. Errors wrap
// ErrBadRendezvous.
func DecodeAnswer(b []byte) ([]HolderRecord, error) {
	body, err := rvHeader(b, rvAnswer, "decode answer")
	if err != nil {
		return nil, err
	}
	if len(body) < 1 {
		return nil, fmt.Errorf("decode answer: count missing: %w", ErrBadRendezvous)
	}
	n := int(body[0])
	if n > MaxAnswerRecords {
		return nil, fmt.Errorf("decode answer: %d records is more than %d: %w", n, MaxAnswerRecords, ErrBadRendezvous)
	}
	if len(body)-1 != n*RecordLen {
		return nil, fmt.Errorf("decode answer: %d bytes for %d records: %w", len(body)-1, n, ErrBadRendezvous)
	}
	rs := make([]HolderRecord, 0, n)
	seen := make(map[[32]byte]bool, n)
	for i := range n {
		r, err := UnmarshalHolderRecord(body[1+i*RecordLen : 1+(i+1)*RecordLen])
		if err != nil {
			return nil, fmt.Errorf("decode answer: record %d: %w", i+1, err)
		}
		if seen[r.Holder] {
			return nil, fmt.Errorf("decode answer: record %d: holder twice: %w", i+1, ErrBadRendezvous)
		}
		seen[r.Holder] = true
		rs = append(rs, r)
	}
	return rs, nil
}

// VerifyAnswer returns the records of rs that verify for content id of the
// swarm of secret at now (in their order) and how many did not: a host may
// pass on records that expired or that someone forged, and each is simply
// dropped.
func VerifyAnswer(rs []HolderRecord, id ContentID, secret SwarmSecret, now time.Time) (valid []HolderRecord, bad int) {
	for _, r := range rs {
		if r.Verify(id, secret, now) != nil {
			bad++
			continue
		}
		valid = append(valid, r)
	}
	return valid, bad
}

// ReadMessage reads one rendezvous message from r: the two header bytes,
// then exactly the body its type implies, never more than
// MaxRendezvousMessage bytes, so a stream from a stranger can neither make
// it allocate more nor read past the message. The result still goes to
// DecodeRegister, DecodeAsk or DecodeAnswer. Errors wrap ErrBadRendezvous
// (bad version, type or count) or the reader's error (io.ErrUnexpectedEOF
// for a message cut short).
func ReadMessage(r io.Reader) ([]byte, error) {
	b := make([]byte, 2, 3)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("read rendezvous message: %w", err)
	}
	typ, err := MessageType(b)
	if err != nil {
		return nil, fmt.Errorf("read rendezvous message: %w", err)
	}
	n := 0
	switch typ {
	case rvRegister:
		n = RecordLen
	case rvAnswer:
		b = b[:3]
		if _, err := io.ReadFull(r, b[2:]); err != nil {
			return nil, fmt.Errorf("read rendezvous message: answer count: %w", unexpectedEOF(err))
		}
		if b[2] > MaxAnswerRecords {
			return nil, fmt.Errorf("read rendezvous message: %d records is more than %d: %w", b[2], MaxAnswerRecords, ErrBadRendezvous)
		}
		n = int(b[2]) * RecordLen
	}
	b = append(b, make([]byte, n)...)
	if _, err := io.ReadFull(r, b[len(b)-n:]); err != nil {
		return nil, fmt.Errorf("read rendezvous message: body: %w", unexpectedEOF(err))
	}
	return b, nil
}

// unexpectedEOF turns an io.EOF after a message began into
// io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
