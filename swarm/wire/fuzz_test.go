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

// FuzzReadFrameOf reads frames in a phase that allows the types named by
// the first byte's bits: a frame of another type never decodes.
func FuzzReadFrameOf(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(uint16(1)<<m.Type(), AppendFrame(nil, m))
	}
	f.Add(uint16(1)<<TypeHello, frame(16<<20, byte(TypePiece), nil))
	f.Add(uint16(1)<<TypeWelcome|1<<TypeGoodbye, frame(64, byte(TypeWelcome), nil))
	f.Fuzz(func(t *testing.T, mask uint16, in []byte) {
		var allowed []Type
		for k := TypeHello; k <= TypePEX; k++ {
			if mask&(1<<k) != 0 {
				allowed = append(allowed, k)
			}
		}
		r := bytes.NewReader(in)
		for {
			m, err := ReadFrameOf(r, 1<<16, allowed...)
			if err != nil {
				return
			}
			if len(allowed) > 0 && mask&(1<<m.Type()) == 0 {
				t.Fatalf("%s read where only %v are allowed", m.Type(), allowed)
			}
		}
	})
}
