package legacy

import "errors"

// Sentinel errors. Callers compare with errors.Is; most are wrapped with
// details.
var (
	// ErrInvalidPacket reports a packet that does not decode, or that
	// cannot be encoded (see Packet.Encode).
	ErrInvalidPacket = errors.New("legacy: invalid packet")
	// ErrInvalidPayload reports a multi-packet payload whose framing is
	// broken: a missing U+FFFD, a bad length, trailing bytes.
	ErrInvalidPayload = errors.New("legacy: invalid payload")
	// ErrInvalidEvent reports event data that is not {"name":string,
	// "args":[…]}, or event arguments that are not a JSON array.
	ErrInvalidEvent = errors.New("legacy: invalid event")

	// ErrUnauthorized, returned (or wrapped) by Options.Authorize, refuses
	// a handshake with 403 "handshake unauthorized"; any other error gives
	// 500 "handshake error".
	ErrUnauthorized = errors.New("legacy: unauthorized")

	// ErrSessionClosed is returned when sending on a session that has closed.
	ErrSessionClosed = errors.New("legacy: session closed")
	// ErrQueueFull is returned when a send would overflow the session's
	// write queue; the session is closed when that happens.
	ErrQueueFull = errors.New("legacy: write queue full")
	// ErrServerClosed is returned by Shutdown when called twice.
	ErrServerClosed = errors.New("legacy: server closed")
)
