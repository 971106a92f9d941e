package expressio

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers compare with errors.Is.
var (
	// ErrDisconnected is returned when writing to a socket that has
	// disconnected.
	ErrDisconnected = errors.New("expressio: socket disconnected")
	// ErrAlreadyResponded is returned by a second Respond for one request.
	ErrAlreadyResponded = errors.New("expressio: already responded")
	// ErrUnknownRoute is returned when forwarding to a route that does not
	// exist.
	ErrUnknownRoute = errors.New("expressio: unknown route")
	// ErrAckTimeout is returned when a client does not acknowledge an emit
	// in time.
	ErrAckTimeout = errors.New("expressio: ack timeout")
	// ErrMisplacedAck is returned when an OnAck callback is passed
	// anywhere but as the last argument of an Emit to one socket.
	ErrMisplacedAck = errors.New("expressio: OnAck goes last in an Emit to one socket")
	// ErrNoSocket is returned by the socket-only methods of a request
	// forwarded from HTTP.
	ErrNoSocket = errors.New("expressio: no socket behind an HTTP request")
	// ErrServerClosed is returned by Shutdown when the server is already
	// shut down.
	ErrServerClosed = errors.New("expressio: server closed")
)

// ConnectError rejects a socket in handshake middleware. Clients of
// protocol v5 (socket.io-client 3.x/4.x) receive it as connect_error with
// err.message and err.data; clients of protocol v4 (1.x/2.x) receive an
// "error" event carrying Data, or Message when Data is nil, as Node's
// socket.io 4 does.
type ConnectError struct {
	Message string
	Data    any
}

// Error implements error.
func (e *ConnectError) Error() string {
	return fmt.Sprintf("expressio: connection refused: %s", e.Message)
}
