package expressio

import "context"

// conn is one client connection of any wire generation, as the framework
// sees it: Engine.IO 3 and 4 sessions speaking Socket.IO v4 and v5
// (client.go), and socket.io 0.9 sessions (the legacy protocol). Sockets,
// rooms, broadcasts and acks are written once, above it; nothing above it
// branches on protocol.
type conn interface {
	// send queues a prepared packet, encoded for the connection's wire
	// format (once per format, whoever else it goes to). It never waits
	// on the client.
	send(f *frame) error
	// sendDisconnect tells the client its socket in nsp is disconnected.
	sendDisconnect(nsp string)
	// close ends the whole connection.
	close()
	// violation closes the connection on a protocol error, logged.
	violation(what string, err error)
	// removeSocket forgets a socket that disconnected.
	removeSocket(s *Socket)
	// socketID names a new socket of the connection in nsp.
	socketID(nsp string) (string, error)
	// transport names the current transport.
	transport() string
	// context ends when the connection closes.
	context() context.Context
}

var _ conn = (*client)(nil)
