package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	hcrypto "github.com/hydre-p2p/hydre/crypto"
)

// Version is the version of the wire protocol in docs/protocol.md (Part II).
const Version = 1

// Wire-format limits. A frame announcing more than its type allows is refused
// before its body is read.
const (
	frameHeaderLen = 5 // length (uint32, big endian) + type (uint8)
	// MaxChunkLen bounds the ciphertext of one chunk (the format's largest
	// chunk); a connection lowers it to its content's chunk length.
	MaxChunkLen = hcrypto.MaxChunkSize + hcrypto.Overhead
	// MaxChunks bounds the chunks of one content.
	MaxChunks = hcrypto.MaxChunks
	// MaxPEXAddrs bounds the addresses of one PEX message; the encoder
	// sends the first MaxPEXAddrs of a longer list.
	MaxPEXAddrs      = 32
	maxProofLen      = 4096 // a proof of a tree of 2^20 leaves is < 1 KiB
	maxDescriptorLen = hcrypto.MaxDescriptorLen
	maxAddrLen       = 72 // "<56>.onion:65535"
	maxReasonLen     = 256
	maxFrameLen      = 1 + 4 + 2 + maxProofLen + MaxChunkLen
)

// Type is the type byte of a frame.
type Type uint8

// Message types, in the order of docs/protocol.md (Part II).
const (
	TypeHello     Type = 1
	TypeWelcome   Type = 2
	TypeGoodbye   Type = 3
	TypeKeepAlive Type = 4
	TypeBitfield  Type = 5
	TypeHave      Type = 6
	TypeRequest   Type = 7
	TypeCancel    Type = 8
	TypePiece     Type = 9
	TypeReject    Type = 10
	TypePEX       Type = 11
)

// String names the type as docs/protocol.md does, in lower case.
func (t Type) String() string {
	switch t {
	case TypeHello:
		return "hello"
	case TypeWelcome:
		return "welcome"
	case TypeGoodbye:
		return "goodbye"
	case TypeKeepAlive:
		return "keep-alive"
	case TypeBitfield:
		return "bitfield"
	case TypeHave:
		return "have"
	case TypeRequest:
		return "request"
	case TypeCancel:
		return "cancel"
	case TypePiece:
		return "piece"
	case TypeReject:
		return "reject"
	case TypePEX:
		return "pex"
	}
	return fmt.Sprintf("type-%d", uint8(t))
}

// maxBody returns the largest body a frame of type t may carry, 0 for an
// unknown type.
func (t Type) maxBody() int {
	switch t {
	case TypeHello:
		return helloLen
	case TypeWelcome:
		return 1 + 2 + maxDescriptorLen
	case TypeGoodbye:
		return 1 + maxReasonLen
	case TypeKeepAlive:
		return 0
	case TypeBitfield:
		return MaxChunks / 8
	case TypeHave, TypeRequest, TypeCancel, TypeReject:
		return 4
	case TypePiece:
		return maxFrameLen - 1
	case TypePEX:
		return 1 + MaxPEXAddrs*(1+maxAddrLen)
	}
	return -1
}

// Message is one decoded frame.
type Message interface {
	// Type is the frame's type byte.
	Type() Type
	// appendBody appends the encoded body.
	appendBody(b []byte) []byte
}

// Errors of the frame codec; a peer that triggers one is disconnected.
var (
	// ErrFrameTooLarge is returned for a frame longer than its type allows.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrUnknownType is returned for a frame of an unknown type.
	ErrUnknownType = errors.New("unknown frame type")
	// ErrMalformed is returned for a body that does not decode.
	ErrMalformed = errors.New("malformed frame")
	// ErrUnexpectedType is returned by ReadFrameOf for a frame of a type
	// its phase of the protocol does not allow.
	ErrUnexpectedType = errors.New("unexpected frame type")
)

// AppendFrame appends the frame of m to b.
func AppendFrame(b []byte, m Message) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, byte(m.Type()))
	b = m.appendBody(b)
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

// WriteFrame writes the frame of m to w in one Write.
func WriteFrame(w io.Writer, m Message) error {
	_, err := w.Write(AppendFrame(nil, m))
	if err != nil {
		return fmt.Errorf("write %s frame: %w", m.Type(), err)
	}
	return nil
}

// ReadFrame reads and decodes one frame. The length is checked against the
// type's limit before the body is read, and a piece frame against maxChunk
// (the content's chunk length; <= 0 means MaxChunkLen), so a peer cannot make
// the reader allocate more than one chunk and its proof; and the body's
// buffer grows as its bytes arrive, so that a header alone costs nothing.
func ReadFrame(r io.Reader, maxChunk int) (Message, error) {
	return ReadFrameOf(r, maxChunk)
}

// ReadFrameOf reads one frame as ReadFrame does, but of one of the types
// allowed only (any if none is given): a frame of another type is refused
// (ErrUnexpectedType) from its header, before any of its body is read. It
// reads the handshake, where each side expects a few small frames
// (docs/protocol.md, W2).
func ReadFrameOf(r io.Reader, maxChunk int, allowed ...Type) (Message, error) {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	t := Type(hdr[4])
	if n == 0 {
		return nil, fmt.Errorf("read frame: %w: zero length", ErrMalformed)
	}
	limit := t.maxBody()
	if limit < 0 {
		return nil, fmt.Errorf("read frame: %w %d", ErrUnknownType, hdr[4])
	}
	if len(allowed) > 0 && !slices.Contains(allowed, t) {
		return nil, fmt.Errorf("read frame: %w: %s", ErrUnexpectedType, t)
	}
	if t == TypePiece && maxChunk > 0 {
		limit = min(limit, 4+2+maxProofLen+maxChunk)
	}
	if uint64(n-1) > uint64(limit) {
		return nil, fmt.Errorf("read %s frame: %w: %d bytes", t, ErrFrameTooLarge, n-1)
	}
	body, err := readBody(r, int(n-1))
	if err != nil {
		return nil, fmt.Errorf("read %s frame: %w", t, noEOF(err))
	}
	return DecodeBody(t, body)
}

// bodyStep is the most a body's buffer grows by before the bytes it grew
// for have arrived: a peer that announces a large frame and sends nothing of
// it costs this much, not the length it announced.
const bodyStep = 32 << 10

// readBody reads n bytes, growing its buffer as they arrive (at most
// doubling what was read), so that the memory a frame takes is never more
// than about twice what its sender sent of it.
func readBody(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, 0, min(n, bodyStep))
	for len(b) < n {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(n-len(b), max(len(b), bodyStep)))
		}
		k, err := r.Read(b[len(b):min(cap(b), n)])
		b = b[:len(b)+k]
		if err != nil && len(b) < n {
			if err == io.EOF && len(b) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return b, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// DecodeBody decodes the body of a frame of type t. Byte slices of the
// result alias body.
func DecodeBody(t Type, body []byte) (Message, error) {
	if limit := t.maxBody(); limit < 0 {
		return nil, fmt.Errorf("decode: %w %d", ErrUnknownType, uint8(t))
	} else if len(body) > limit {
		return nil, fmt.Errorf("decode %s: %w", t, ErrFrameTooLarge)
	}
	var m Message
	var err error
	switch t {
	case TypeHello:
		m, err = decodeHello(body)
	case TypeWelcome:
		m, err = decodeWelcome(body)
	case TypeGoodbye:
		m, err = decodeGoodbye(body)
	case TypeKeepAlive:
		m = KeepAlive{}
	case TypeBitfield:
		m = Bitfield{Bits: body}
	case TypeHave, TypeRequest, TypeCancel, TypeReject:
		m, err = decodeIndexMsg(t, body)
	case TypePiece:
		m, err = decodePiece(body)
	case TypePEX:
		m, err = decodePEX(body)
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w: %w", t, ErrMalformed, err)
	}
	return m, nil
}

// reader walks a body, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errors.New("truncated")
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8 {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// done returns the first error, or one for trailing bytes.
func (r *reader) done() error {
	if r.err == nil && len(r.b) > 0 {
		return fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return r.err
}
