package socketio

import "errors"

// Errors returned by [Decoder.Decode], [SplitEvent], [ReconstructArgs] and the other
// helpers. They are wrapped with context, so test for them with [errors.Is]. Every
// error from [Decoder.Decode] is a protocol violation: the connection must be closed.
var (
	// ErrUnknownPacketType reports a packet whose first byte is not a type
	// '0'..'6', including an empty packet.
	ErrUnknownPacketType = errors.New("socketio: unknown packet type")

	// ErrInvalidPayload reports data that is not valid JSON or not of the kind the
	// packet type requires (socket.io-parser's "invalid payload").
	ErrInvalidPayload = errors.New("socketio: invalid payload")

	// ErrReservedEventName reports an event named connect, connect_error,
	// disconnect, disconnecting, newListener or removeListener. Node's parser
	// rejects these as "invalid payload"; this package gives them their own error
	// so that logs can tell them apart. Like every decode error, it is fatal.
	ErrReservedEventName = errors.New("socketio: reserved event name")

	// ErrIllegalAttachments reports a malformed attachment count ("5", "51",
	// "5a-", "51.23-"), a count of zero, or a placeholder whose num is not an
	// integer in [0, attachments).
	ErrIllegalAttachments = errors.New("socketio: illegal attachments")

	// ErrTooManyAttachments reports a binary packet that announces more
	// attachments than [Decoder.MaxAttachments].
	ErrTooManyAttachments = errors.New("socketio: too many attachments")

	// ErrInvalidNamespace reports a namespace (or v4 query) longer than
	// [MaxNamespaceLen] (or [MaxQueryLen]).
	ErrInvalidNamespace = errors.New("socketio: invalid namespace")

	// ErrInvalidAckID reports an ack id above [MaxAckID], an ack id on a packet
	// type that cannot carry one, or an ACK without an id.
	ErrInvalidAckID = errors.New("socketio: invalid ack id")

	// ErrUnexpectedBinary reports a binary message that arrives while no binary
	// packet is waiting for attachments.
	ErrUnexpectedBinary = errors.New("socketio: unexpected binary message")

	// ErrUnexpectedText reports a text message that arrives while a binary packet
	// is still waiting for attachments.
	ErrUnexpectedText = errors.New("socketio: unexpected text message")

	// ErrUnsupportedValue reports a value [BuildArgs] cannot encode as JSON
	// (a channel, a NaN, a cycle, ...).
	ErrUnsupportedValue = errors.New("socketio: unsupported value")
)
