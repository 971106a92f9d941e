package socketio

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Type is a Socket.IO packet type, sent as one ASCII digit.
type Type byte

// Packet types. The values are the wire digits.
const (
	// Connect asks to join a namespace (client) or confirms it (server).
	Connect Type = iota
	// Disconnect leaves a namespace.
	Disconnect
	// Event carries an event name and its arguments.
	Event
	// Ack answers an Event that had an ack id.
	Ack
	// ConnectError refuses a Connect (server to client only). Protocol v4 calls
	// it ERROR.
	ConnectError
	// BinaryEvent is an Event with binary attachments.
	BinaryEvent
	// BinaryAck is an Ack with binary attachments.
	BinaryAck
)

// String returns the name Node's parser uses for t, such as "BINARY_EVENT", or
// "Type(n)" for a value outside 0..6.
func (t Type) String() string {
	switch t {
	case Connect:
		return "CONNECT"
	case Disconnect:
		return "DISCONNECT"
	case Event:
		return "EVENT"
	case Ack:
		return "ACK"
	case ConnectError:
		return "CONNECT_ERROR"
	case BinaryEvent:
		return "BINARY_EVENT"
	case BinaryAck:
		return "BINARY_ACK"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// IsBinary reports whether t is BinaryEvent or BinaryAck.
func (t Type) IsBinary() bool { return t == BinaryEvent || t == BinaryAck }

// IsEvent reports whether t is Event or BinaryEvent.
func (t Type) IsEvent() bool { return t == Event || t == BinaryEvent }

// IsAck reports whether t is Ack or BinaryAck.
func (t Type) IsAck() bool { return t == Ack || t == BinaryAck }

// Revision is a revision of the Socket.IO protocol.
type Revision int

// Protocol revisions.
const (
	// V4 is spoken by socket.io-client 1.x and 2.x (socket.io-parser 2.x/3.x)
	// over Engine.IO 3.
	V4 Revision = 4
	// V5 is spoken by socket.io-client 3.x and 4.x (socket.io-parser 4.x) over
	// Engine.IO 4.
	V5 Revision = 5
)

// String returns "v4", "v5", or "v<n>" for another value.
func (r Revision) String() string { return "v" + strconv.Itoa(int(r)) }

// Limits enforced by [Decoder.Decode]. Exceeding one is a protocol error, detected
// before anything is allocated for the offending field.
const (
	// NoID is the ID of a packet without an ack id.
	NoID = -1

	// MaxAckID is the largest ack id accepted: 2^53-1, JavaScript's
	// Number.MAX_SAFE_INTEGER, the largest id a JS peer can count to exactly.
	// Longer digit runs (CVE-2020-36049) fail with ErrInvalidAckID.
	MaxAckID = 1<<53 - 1

	// MaxNamespaceLen is the longest namespace accepted, in bytes, "/" included.
	// Node has no limit; 256 bytes is far above any real name.
	MaxNamespaceLen = 256

	// MaxQueryLen is the longest query string accepted on a v4 namespace, in
	// bytes. Clients 1.x/2.x put their query (often a token) there.
	MaxQueryLen = 8 << 10

	// DefaultMaxAttachments is the attachment limit used when
	// [Decoder.MaxAttachments] is zero: socket.io-parser's maxAttachments default.
	DefaultMaxAttachments = 10
)

// Packet is one Socket.IO packet.
//
// A packet decoded by a [Decoder] owns all its memory: it does not alias the
// messages given to Decode.
type Packet struct {
	// Type is the packet type. Decode keeps the wire type (BinaryEvent,
	// BinaryAck); Encode picks the binary type itself from Attachments.
	Type Type

	// Namespace is the namespace, "/" when absent on the wire. Encode treats ""
	// as "/". It must not contain ','.
	Namespace string

	// Query is the query string a protocol v4 client appends to the namespace
	// ("0/admin?token=abc,"), without the '?'; empty when there is none. It is
	// only split off when decoding V4: in V5 a '?' is part of the namespace. Parse
	// it with net/url.ParseQuery.
	Query string

	// ID is the ack id of an event or ack, or NoID. Encode writes it only for
	// Event, Ack and their binary forms, and only when it is not negative.
	ID int64

	// Data is the JSON payload, nil when absent. For binary packets the
	// placeholders {"_placeholder":true,"num":N} are left in place: see
	// ReconstructArgs and InlineAttachments. Encode omits a nil Data and the JSON
	// literal null, as Node does.
	Data json.RawMessage

	// Attachments are the binary attachments of a BinaryEvent or BinaryAck, in
	// placeholder order. Encode ignores them on other packet types.
	Attachments [][]byte
}

// SplitNamespaceQuery splits a protocol v4 namespace such as "/admin?token=abc"
// into its name "/admin" and its query "token=abc" at the first '?'. Socket.IO 4.8
// does the same (with url.parse) for every packet of an EIO3 client.
func SplitNamespaceQuery(nsp string) (name, query string) {
	name, query, _ = strings.Cut(nsp, "?")
	return name, query
}
