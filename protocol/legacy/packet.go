package legacy

import (
	"fmt"
	"strconv"
)

// Type is a packet type, the first field of every packet.
type Type uint8

// The packet types of protocol 1.
const (
	Disconnect Type = iota // 0: leave an endpoint, or the whole session on ""
	Connect                // 1: join an endpoint; the server's "1::" opens a session
	Heartbeat              // 2: keep-alive, echoed by the client
	Message                // 3: a plain text message
	JSON                   // 4: a JSON message
	Event                  // 5: {"name":…,"args":[…]}
	Ack                    // 6: "<id>" or "<id>+[args]"
	Error                  // 7: "reason+advice"
	Noop                   // 8: ends a poll that had nothing to carry
)

// String returns the name Node's parser gives the type.
func (t Type) String() string {
	switch t {
	case Disconnect:
		return "disconnect"
	case Connect:
		return "connect"
	case Heartbeat:
		return "heartbeat"
	case Message:
		return "message"
	case JSON:
		return "json"
	case Event:
		return "event"
	case Ack:
		return "ack"
	case Error:
		return "error"
	case Noop:
		return "noop"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Limits on the fields a peer may send (CVE-2020-36049: a long digit run or
// name fails before anything is allocated for it).
const (
	// MaxIDLen is the longest ack id accepted, in digits. 16 digits hold
	// 2^53-1, the largest id a JavaScript peer counts to exactly.
	MaxIDLen = 16
	// MaxEndpointLen is the longest endpoint (namespace) accepted, in bytes.
	// Node has no limit; the 0.9 client may put a query on the endpoint.
	MaxEndpointLen = 1024
)

// Packet is one protocol 1 packet, type:id[+]:endpoint[:data].
//
// The zero value is "0::", a disconnect of the whole session.
type Packet struct {
	Type Type
	// ID is the ack id, decimal digits, or "" when none. A packet with an
	// id and without Ack is acknowledged by its receiver with "6:::<id>"
	// on receipt; with Ack, the receiver answers with data.
	ID string
	// Ack is the '+' after the id: the sender wants data in the ack. It is
	// only meaningful with an ID.
	Ack bool
	// Endpoint is the namespace, "" for the default one ("/chat" style
	// otherwise). It never contains ':'.
	Endpoint string
	// Data is everything after the third ':', raw. Empty data is not
	// written ("3::", not "3:::").
	Data []byte
}

// Encode returns the packet's wire form. It fails, with an error wrapping
// ErrInvalidPacket, on an unknown type, an ID that is not 1 to MaxIDLen
// digits, Ack without an ID, or an endpoint with ':' or longer than
// MaxEndpointLen.
func (p Packet) Encode() ([]byte, error) {
	return p.AppendEncode(make([]byte, 0, p.encodedLen()))
}

func (p Packet) encodedLen() int {
	return 4 + len(p.ID) + len(p.Endpoint) + len(p.Data)
}

// AppendEncode appends the packet's wire form to dst; see Encode.
func (p Packet) AppendEncode(dst []byte) ([]byte, error) {
	if p.Type > Noop {
		return dst, fmt.Errorf("%w: type %d", ErrInvalidPacket, p.Type)
	}
	if p.ID != "" && !validID(p.ID) {
		return dst, fmt.Errorf("%w: ack id %q", ErrInvalidPacket, p.ID)
	}
	if p.Ack && p.ID == "" {
		return dst, fmt.Errorf("%w: '+' without an ack id", ErrInvalidPacket)
	}
	if len(p.Endpoint) > MaxEndpointLen {
		return dst, fmt.Errorf("%w: endpoint longer than %d bytes", ErrInvalidPacket, MaxEndpointLen)
	}
	for i := 0; i < len(p.Endpoint); i++ {
		if p.Endpoint[i] == ':' {
			return dst, fmt.Errorf("%w: endpoint %q has a ':'", ErrInvalidPacket, p.Endpoint)
		}
	}
	dst = append(dst, '0'+byte(p.Type), ':')
	dst = append(dst, p.ID...)
	if p.Ack {
		dst = append(dst, '+')
	}
	dst = append(dst, ':')
	dst = append(dst, p.Endpoint...)
	if len(p.Data) > 0 {
		dst = append(dst, ':')
		dst = append(dst, p.Data...)
	}
	return dst, nil
}

// mustEncode encodes packets the server builds itself.
func mustEncode(p Packet) []byte {
	b, err := p.Encode()
	if err != nil {
		panic("legacy: " + err.Error())
	}
	return b
}

func validID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// Decode parses one packet. It follows Node's decoder regex
//
//	/([^:]+):([0-9]+)?(\+)?:([^:]+)?:?([\s\S]*)?/
//
// anchored at the start, with the type one digit 0-8, the id at most
// MaxIDLen digits and the endpoint at most MaxEndpointLen bytes; anything
// else fails with an error wrapping ErrInvalidPacket (where Node yields a
// packet without a type, which it then ignores). A '+' without an id is
// dropped, as Node does. Data aliases b. Decode runs in linear time and
// never panics.
func Decode(b []byte) (Packet, error) {
	var p Packet
	if len(b) < 3 || b[0] < '0' || b[0] > '8' || b[1] != ':' {
		return p, fmt.Errorf("%w: %s", ErrInvalidPacket, describe(b))
	}
	p.Type = Type(b[0] - '0')
	i := 2
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if i-2 == MaxIDLen {
			return Packet{}, fmt.Errorf("%w: ack id longer than %d digits", ErrInvalidPacket, MaxIDLen)
		}
		i++
	}
	id := b[2:i]
	if i < len(b) && b[i] == '+' {
		p.Ack = len(id) > 0
		i++
	}
	if i >= len(b) || b[i] != ':' {
		return Packet{}, fmt.Errorf("%w: %s", ErrInvalidPacket, describe(b))
	}
	i++
	start := i
	for i < len(b) && b[i] != ':' {
		if i-start == MaxEndpointLen {
			return Packet{}, fmt.Errorf("%w: endpoint longer than %d bytes", ErrInvalidPacket, MaxEndpointLen)
		}
		i++
	}
	p.ID = string(id)
	p.Endpoint = string(b[start:i])
	if i < len(b) {
		i++ // the ':' before the data
	}
	if i < len(b) {
		p.Data = b[i:len(b):len(b)]
	}
	return p, nil
}

// describe quotes the start of a bad packet for an error message.
func describe(b []byte) string {
	const max = 32
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "…"
	}
	return strconv.Quote(string(b))
}
