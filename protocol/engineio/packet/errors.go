package packet

import "errors"

// Errors returned by the decoders. Each returned error wraps one or more of
// these sentinels with context (a byte offset or packet index); test with
// errors.Is. Every error from DecodePayload matches ErrInvalidPayload, and
// also ErrInvalidPacket when one packet inside the payload is bad, or
// ErrTooManyPackets when the packet limit was hit.
var (
	// ErrInvalidPacket reports a malformed packet: an empty frame, an
	// unknown type, invalid base64 or invalid UTF-8 in a text packet.
	ErrInvalidPacket = errors.New("packet: invalid packet")

	// ErrInvalidPayload reports a malformed polling payload: a bad length
	// prefix, a length past the end of the body, a missing separator.
	ErrInvalidPayload = errors.New("packet: invalid payload")

	// ErrTooManyPackets reports a payload holding more packets than the
	// limit given to DecodePayload.
	ErrTooManyPackets = errors.New("packet: too many packets")

	// ErrInvalidJSONP reports a JSONP POST body without exactly one "d"
	// field, or with a bad percent escape.
	ErrInvalidJSONP = errors.New("packet: invalid JSONP body")

	// ErrUnknownRevision reports a protocol revision other than 3 or 4.
	ErrUnknownRevision = errors.New("packet: unknown protocol revision")
)
