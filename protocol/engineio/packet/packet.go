package packet

import (
	"strconv"
	"unicode/utf8"
)

// Protocol revisions understood by this package: the EIO query parameter.
const (
	// Revision3 is Engine.IO protocol 3 (engine.io 3.x, engine.io-parser 2.x,
	// socket.io-client 1.x and 2.x).
	Revision3 = 3
	// Revision4 is Engine.IO protocol 4 (engine.io 4+, engine.io-parser 4+
	// and 5.x, socket.io-client 3.x and 4.x).
	Revision4 = 4
)

// Content types of polling response bodies, as returned by EncodePayload.
const (
	// ContentTypeText is the type of text payloads (both revisions).
	ContentTypeText = "text/plain; charset=UTF-8"
	// ContentTypeBinary is the type of the revision-3 XHR2 binary payload.
	// A revision-3 POST with this Content-Type carries a binary payload.
	ContentTypeBinary = "application/octet-stream"
)

// Type is an Engine.IO packet type. It is sent as one ASCII digit.
type Type byte

// The packet types, numbered as on the wire.
const (
	Open    Type = iota // 0: handshake, server to client; Data is the JSON of OpenData
	Close               // 1: close the session
	Ping                // 2: heartbeat (rev 4: sent by the server; rev 3: by the client); also the upgrade probe
	Pong                // 3: heartbeat answer
	Message             // 4: application data, text or binary
	Upgrade             // 5: completes a transport upgrade
	Noop                // 6: no operation, used to end a pending poll during upgrade
)

// maxType is the highest valid Type.
const maxType = Noop

// String returns the name Node's engine.io-parser uses for t ("open",
// "message", …), or "Type(N)" for an invalid type.
func (t Type) String() string {
	switch t {
	case Open:
		return "open"
	case Close:
		return "close"
	case Ping:
		return "ping"
	case Pong:
		return "pong"
	case Message:
		return "message"
	case Upgrade:
		return "upgrade"
	case Noop:
		return "noop"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the seven packet types.
func (t Type) Valid() bool { return t <= maxType }

// Packet is one Engine.IO packet. Binary is true when Data is binary; only
// Message packets carry binary, and encoders ignore Binary on other types
// (their Data goes out as text). Text Data must be valid UTF-8, as Go's
// encoding/json produces.
//
// Decoded packets set Data to nil when it is empty, and may share memory
// with the decoded input (see DecodeFrame and DecodePayload).
type Packet struct {
	Type   Type
	Data   []byte
	Binary bool
}

// isBinary reports whether p is sent as binary: a Message with Binary set.
func (p Packet) isBinary() bool { return p.Binary && p.Type == Message }

// typeDigit returns the ASCII digit of t, panicking on an invalid type:
// encoding one is a programming error, not bad input.
func typeDigit(t Type) byte {
	if t > maxType {
		panic("packet: invalid packet type " + strconv.Itoa(int(t)))
	}
	return '0' + byte(t)
}

// checkRevision panics on a revision other than 3 or 4 (encoder misuse).
func checkRevision(rev int) {
	if rev != Revision3 && rev != Revision4 {
		panic("packet: unknown protocol revision " + strconv.Itoa(rev))
	}
}

// nilIfEmpty normalises empty data to nil.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// decodeText decodes one packet in its text form: a type digit followed by
// UTF-8 data, or base64 binary ("b" + base64 on rev 4, "b4" + base64 on
// rev 3). Text data aliases s.
func decodeText(rev int, s []byte) (Packet, error) {
	if len(s) == 0 {
		return Packet{}, errorf(ErrInvalidPacket, "empty packet")
	}
	c := s[0]
	if c == 'b' {
		b64 := s[1:]
		if rev == Revision3 {
			if len(s) < 2 || s[1] != '0'+byte(Message) {
				return Packet{}, errorf(ErrInvalidPacket, "base64 packet is not a message")
			}
			b64 = s[2:]
		}
		data, err := decodeBase64(b64)
		if err != nil {
			return Packet{}, err
		}
		return Packet{Type: Message, Data: data, Binary: true}, nil
	}
	if c < '0' || c > '0'+byte(maxType) {
		return Packet{}, errorf(ErrInvalidPacket, "unknown packet type %q", c)
	}
	data := s[1:]
	if !utf8.Valid(data) {
		return Packet{}, errorf(ErrInvalidPacket, "text packet is not valid UTF-8")
	}
	return Packet{Type: Type(c - '0'), Data: nilIfEmpty(data)}, nil
}
