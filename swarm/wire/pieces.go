package wire

import (
	"encoding/binary"
	"fmt"
)

// Bitfield lists the chunks the sender holds, verified: bit i (most
// significant bit first) of byte i/8 is chunk i. It is the first frame after
// the handshake in both directions; trailing bits are zero.
type Bitfield struct{ Bits []byte }

// Type implements Message.
func (Bitfield) Type() Type { return TypeBitfield }

func (m Bitfield) appendBody(b []byte) []byte { return append(b, m.Bits...) }

// Have announces one more verified chunk.
type Have struct{ Index uint32 }

// Request asks for one chunk; it is answered by a Piece or a Reject.
type Request struct{ Index uint32 }

// Cancel withdraws a Request; a Piece may still arrive if it was on its way.
type Cancel struct{ Index uint32 }

// Reject answers a Request the sender will not serve (not held, or too many
// outstanding requests).
type Reject struct{ Index uint32 }

// Type implements Message.
func (Have) Type() Type { return TypeHave }

// Type implements Message.
func (Request) Type() Type { return TypeRequest }

// Type implements Message.
func (Cancel) Type() Type { return TypeCancel }

// Type implements Message.
func (Reject) Type() Type { return TypeReject }

func (m Have) appendBody(b []byte) []byte    { return binary.BigEndian.AppendUint32(b, m.Index) }
func (m Request) appendBody(b []byte) []byte { return binary.BigEndian.AppendUint32(b, m.Index) }
func (m Cancel) appendBody(b []byte) []byte  { return binary.BigEndian.AppendUint32(b, m.Index) }
func (m Reject) appendBody(b []byte) []byte  { return binary.BigEndian.AppendUint32(b, m.Index) }

func decodeIndexMsg(t Type, body []byte) (Message, error) {
	r := reader{b: body}
	i := r.u32()
	if err := r.done(); err != nil {
		return nil, err
	}
	if i >= MaxChunks {
		return nil, fmt.Errorf("chunk index %d out of range", i)
	}
	switch t {
	case TypeHave:
		return Have{i}, nil
	case TypeRequest:
		return Request{i}, nil
	case TypeCancel:
		return Cancel{i}, nil
	default:
		return Reject{i}, nil
	}
}

// Piece carries one ciphertext chunk with the Merkle proof that ties it to
// the descriptor's root.
type Piece struct {
	Index uint32
	Proof []byte // crypto.Proof, binary
	Data  []byte // ciphertext
}

// Type implements Message.
func (Piece) Type() Type { return TypePiece }

func (m Piece) appendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, m.Index)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Proof)))
	b = append(b, m.Proof...)
	return append(b, m.Data...)
}

func decodePiece(body []byte) (Piece, error) {
	r := reader{b: body}
	var m Piece
	m.Index = r.u32()
	n := int(r.u16())
	if n > maxProofLen {
		return m, fmt.Errorf("proof of %d bytes", n)
	}
	m.Proof = r.take(n)
	if r.err != nil {
		return m, r.err
	}
	if m.Index >= MaxChunks {
		return m, fmt.Errorf("chunk index %d out of range", m.Index)
	}
	if len(r.b) == 0 || len(r.b) > MaxChunkLen {
		return m, fmt.Errorf("chunk of %d bytes", len(r.b))
	}
	m.Data = r.b
	return m, nil
}
