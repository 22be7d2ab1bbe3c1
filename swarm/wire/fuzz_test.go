package wire

import (
	"bytes"
	"reflect"
	"testing"
)

func FuzzReadFrame(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(AppendFrame(nil, m))
	}
	f.Add(frame(1<<31, byte(TypePiece), nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		for {
			m, err := ReadFrame(r, 1<<16)
			if err != nil {
				return
			}
			again, err := DecodeBody(m.Type(), m.appendBody(nil))
			if err != nil {
				t.Fatalf("re-decode %s: %v", m.Type(), err)
			}
			if !reflect.DeepEqual(normalize(again), normalize(m)) {
				t.Fatalf("round trip: %#v != %#v", again, m)
			}
		}
	})
}

func FuzzDecodeBody(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(uint8(m.Type()), m.appendBody(nil))
	}
	f.Fuzz(func(t *testing.T, typ uint8, body []byte) {
		m, err := DecodeBody(Type(typ), body)
		if err != nil {
			return
		}
		if m.Type() != Type(typ) {
			t.Fatalf("type %s, want %d", m.Type(), typ)
		}
		if len(AppendFrame(nil, m)) > frameHeaderLen+maxFrameLen {
			t.Fatal("decoded message re-encodes over the frame limit")
		}
	})
}

// normalize maps empty slices to nil so DeepEqual compares content.
func normalize(m Message) Message {
	switch v := m.(type) {
	case Piece:
		if len(v.Proof) == 0 {
			v.Proof = nil
		}
		return v
	case Welcome:
		if len(v.Descriptor) == 0 {
			v.Descriptor = nil
		}
		return v
	case Bitfield:
		if len(v.Bits) == 0 {
			v.Bits = nil
		}
		return v
	case PEX:
		if len(v.Addrs) == 0 {
			v.Addrs = nil
		}
		return v
	}
	return m
}
