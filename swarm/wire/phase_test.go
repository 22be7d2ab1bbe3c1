package wire

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
)

// failAfter hands out its bytes, then fails every read: what a peer that
// sent a frame's header and nothing more looks like to the reader.
type failAfter struct{ b []byte }

var errStalled = errors.New("stalled")

func (r *failAfter) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, errStalled
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// TestReadFrameOfRefusesOtherTypes: in a phase that allows a few types, a
// frame of another type is refused from its header, before its body.
func TestReadFrameOfRefusesOtherTypes(t *testing.T) {
	hello := AppendFrame(nil, Hello{Version: Version})
	for _, tc := range []struct {
		name    string
		in      []byte
		allowed []Type
		want    error
	}{
		{"piece header before hello", frame(16<<20, byte(TypePiece), nil), []Type{TypeHello}, ErrUnexpectedType},
		{"bitfield before hello", frame(1<<17, byte(TypeBitfield), nil), []Type{TypeHello}, ErrUnexpectedType},
		{"oversized hello", frame(1<<20, byte(TypeHello), nil), []Type{TypeHello}, ErrFrameTooLarge},
		{"piece before welcome", frame(16<<20, byte(TypePiece), nil), []Type{TypeWelcome, TypeGoodbye}, ErrUnexpectedType},
		{"hello", hello, []Type{TypeHello}, nil},
		{"any", hello, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ReadFrameOf(&failAfter{b: tc.in}, 0, tc.allowed...)
			if tc.want == nil {
				if err != nil || m.Type() != TypeHello {
					t.Fatalf("got %v %v, want the hello", m, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if errors.Is(err, errStalled) {
				t.Fatal("the body was read")
			}
		})
	}
}

// TestReadBodyAsItArrives: a piece frame's header announcing 16 MiB costs
// the reader what arrived of the body (and one step), not 16 MiB; a body
// that does come whole is read whole.
func TestReadBodyAsItArrives(t *testing.T) {
	const n = 1000
	in := make([][]byte, n)
	for i := range in {
		in[i] = frame(1+MaxChunkLen, byte(TypePiece), make([]byte, 100))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range in {
		if _, err := ReadFrame(&failAfter{b: in[i]}, 0); !errors.Is(err, errStalled) {
			t.Fatalf("error %v, want the stall", err)
		}
	}
	runtime.ReadMemStats(&after)
	per := (after.TotalAlloc - before.TotalAlloc) / n
	t.Logf("%d bytes allocated per stalled 16 MiB frame", per)
	if per > 64<<10 {
		t.Fatalf("%d bytes allocated per frame header, want at most 64 KiB", per)
	}
	p := Piece{Index: 1, Proof: []byte{1}, Data: bytes.Repeat([]byte{7}, 3<<20+17)}
	m, err := ReadFrame(io.MultiReader(bytes.NewReader(AppendFrame(nil, p))), 0)
	if err != nil || !bytes.Equal(m.(Piece).Data, p.Data) {
		t.Fatalf("whole piece: %v", err)
	}
}
