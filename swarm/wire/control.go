package wire

import (
	"fmt"
	"unicode/utf8"
)

// GoodbyeCode says why a peer closes the connection.
type GoodbyeCode uint8

// Goodbye codes.
const (
	ByeNormal      GoodbyeCode = 0 // done or shutting down
	ByeUnknown     GoodbyeCode = 1 // content not served here
	ByeVersion     GoodbyeCode = 2 // no common protocol version
	ByeFull        GoodbyeCode = 3 // connection limit reached
	ByeProtocol    GoodbyeCode = 4 // the peer broke the protocol
	ByeBanned      GoodbyeCode = 5 // the peer sent a bad chunk
	maxGoodbyeCode             = ByeBanned
)

// String says in words what the code means to the side that receives it.
func (c GoodbyeCode) String() string {
	switch c {
	case ByeNormal:
		return "closed normally"
	case ByeUnknown:
		return "does not serve this content"
	case ByeVersion:
		return "speaks another protocol version"
	case ByeFull:
		return "is full"
	case ByeProtocol:
		return "says we broke the protocol"
	case ByeBanned:
		return "banned us"
	}
	return fmt.Sprintf("code %d", uint8(c))
}

// Goodbye announces that the sender closes the connection, and why.
type Goodbye struct {
	Code   GoodbyeCode
	Reason string // short, UTF-8, for logs only
}

// Type implements Message.
func (Goodbye) Type() Type { return TypeGoodbye }

func (m Goodbye) appendBody(b []byte) []byte {
	reason := m.Reason
	if len(reason) > maxReasonLen {
		reason = reason[:maxReasonLen]
	}
	return append(append(b, byte(m.Code)), reason...)
}

func decodeGoodbye(body []byte) (Goodbye, error) {
	r := reader{b: body}
	m := Goodbye{Code: GoodbyeCode(r.u8())}
	if r.err != nil {
		return m, r.err
	}
	if m.Code > maxGoodbyeCode {
		return m, fmt.Errorf("unknown code %d", m.Code)
	}
	if !utf8.Valid(r.b) {
		return m, fmt.Errorf("reason is not UTF-8")
	}
	m.Reason = string(r.b)
	return m, nil
}

// KeepAlive is sent by a side that has nothing else to say for a while, so
// the other side's read timeout tells a dead circuit from a quiet one.
type KeepAlive struct{}

// Type implements Message.
func (KeepAlive) Type() Type { return TypeKeepAlive }

func (KeepAlive) appendBody(b []byte) []byte { return b }
