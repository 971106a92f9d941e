package engineio

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers compare with errors.Is.
var (
	// ErrSessionClosed is returned when sending on a session that has closed.
	ErrSessionClosed = errors.New("engineio: session closed")
	// ErrQueueFull is returned when a send would overflow the session's
	// write queue; the session is closed when that happens.
	ErrQueueFull = errors.New("engineio: write queue full")
	// ErrServerClosed is returned by Shutdown when called twice, and is the
	// close error of sessions ended by it.
	ErrServerClosed = errors.New("engineio: server closed")
)

// Code is an Engine.IO error code, as Node's engine.io sends it in the JSON
// body of a failed request.
type Code int

// The Engine.IO error codes.
const (
	CodeUnknownTransport   Code = 0 // "Transport unknown"
	CodeUnknownSID         Code = 1 // "Session ID unknown"
	CodeBadHandshakeMethod Code = 2 // "Bad handshake method"
	CodeBadRequest         Code = 3 // "Bad request"
	CodeForbidden          Code = 4 // "Forbidden"
	CodeUnsupportedVersion Code = 5 // "Unsupported protocol version"
)

var codeMessages = [...]string{
	CodeUnknownTransport:   "Transport unknown",
	CodeUnknownSID:         "Session ID unknown",
	CodeBadHandshakeMethod: "Bad handshake method",
	CodeBadRequest:         "Bad request",
	CodeForbidden:          "Forbidden",
	CodeUnsupportedVersion: "Unsupported protocol version",
}

// Message returns the text Node's engine.io sends with the code.
func (c Code) Message() string {
	if c >= 0 && int(c) < len(codeMessages) {
		return codeMessages[c]
	}
	return "Unknown error"
}

// RequestError is a refused Engine.IO request: the HTTP status and the
// Engine.IO code that were sent to the client.
type RequestError struct {
	Status int
	Code   Code
	// Message overrides Code.Message in the response body when set.
	Message string
}

// Error implements error.
func (e *RequestError) Error() string {
	return fmt.Sprintf("engineio: request refused: %d %s", e.Status, e.text())
}

func (e *RequestError) text() string {
	if e.Message != "" {
		return e.Message
	}
	return e.Code.Message()
}
