package wire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

const testOnion = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:7446"

func sampleMessages() []Message {
	var id [32]byte
	for i := range id {
		id[i] = byte(i)
	}
	return []Message{
		Hello{Version: Version, ID: id, Serving: true},
		Hello{Version: 9, ID: id},
		Hello{Version: Version, ID: id, Extra: true},
		Hello{Version: Version, ID: id, Serving: true, Extra: true},
		Welcome{Version: Version, Descriptor: []byte("descriptor bytes")},
		Goodbye{Code: ByeBanned, Reason: "bad chunk"},
		Goodbye{Code: ByeNormal, Reason: ""},
		KeepAlive{},
		Bitfield{Bits: []byte{0xff, 0x80}},
		Have{Index: 3},
		Request{Index: 0},
		Cancel{Index: MaxChunks - 1},
		Reject{Index: 7},
		Piece{Index: 2, Proof: []byte{1, 2, 3}, Data: bytes.Repeat([]byte{9}, 1000)},
		Piece{Index: 2, Proof: []byte{}, Data: []byte{1}},
		PEX{Addrs: []string{testOnion}},
		PEX{Addrs: []string{}},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		t.Run(m.Type().String(), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteFrame(&buf, m); err != nil {
				t.Fatal(err)
			}
			got, err := ReadFrame(&buf, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("got %#v, want %#v", got, m)
			}
			if buf.Len() != 0 {
				t.Fatalf("%d bytes left", buf.Len())
			}
		})
	}
}

func frame(length uint32, typ byte, body []byte) []byte {
	return append([]byte{byte(length >> 24), byte(length >> 16), byte(length >> 8), byte(length), typ}, body...)
}

func TestReadFrameRejects(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		want  error // nil: any error
	}{
		{"empty", nil, io.EOF},
		{"short header", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"zero length", frame(0, byte(TypeKeepAlive), nil), ErrMalformed},
		{"unknown type", frame(1, 200, nil), ErrUnknownType},
		{"huge piece", frame(1<<31, byte(TypePiece), nil), ErrFrameTooLarge},
		{"piece over chunk limit", AppendFrame(nil, Piece{Index: 1, Data: make([]byte, 1<<16+maxProofLen+1)}), ErrFrameTooLarge},
		{"keep-alive with body", frame(2, byte(TypeKeepAlive), []byte{0}), ErrFrameTooLarge},
		{"have too long", frame(6, byte(TypeHave), []byte{0, 0, 0, 0, 0}), ErrFrameTooLarge},
		{"have too short", frame(3, byte(TypeHave), []byte{0, 0}), ErrMalformed},
		{"index out of range", frame(5, byte(TypeRequest), []byte{0xff, 0, 0, 0}), ErrMalformed},
		{"truncated body", frame(5, byte(TypeHave), []byte{0, 0}), io.ErrUnexpectedEOF},
		{"bad magic", frame(uint32(helloLen+1), byte(TypeHello), bytes.Repeat([]byte{'x'}, helloLen)), ErrMalformed},
		{"hello unknown flag", frame(uint32(helloLen+1), byte(TypeHello), append(append([]byte("hydre\x01"), make([]byte, 32)...), 4)), ErrMalformed},
		{"piece without data", frame(7, byte(TypePiece), []byte{0, 0, 0, 1, 0, 0}), ErrMalformed},
		{"piece proof overruns", frame(8, byte(TypePiece), []byte{0, 0, 0, 1, 0, 9, 1}), ErrMalformed},
		{"pex clearnet", AppendFrame(nil, rawPEX("example.com:80")), ErrMalformed},
		{"pex bad checksum", AppendFrame(nil, rawPEX("3"+testOnion[1:])), ErrMalformed},
		{"goodbye bad code", frame(2, byte(TypeGoodbye), []byte{99}), ErrMalformed},
		{"goodbye not utf8", frame(3, byte(TypeGoodbye), []byte{0, 0xff}), ErrMalformed},
		{"welcome overruns", frame(4, byte(TypeWelcome), []byte{1, 0, 9}), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadFrame(bytes.NewReader(tt.input), 1<<16)
			if err == nil {
				t.Fatal("accepted")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// rawPEX encodes addresses without validation, as a hostile peer would.
type rawPEX string

func (rawPEX) Type() Type { return TypePEX }
func (r rawPEX) appendBody(b []byte) []byte {
	return append(append(b, 1, byte(len(r))), r...)
}
