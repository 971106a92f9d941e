// Package wsconn is the server side of a WebSocket connection (RFC 6455),
// shaped for servers that hold many mostly idle connections and broadcast
// to them.
//
// It exists because a gorilla/websocket Conn, which the engine used
// before, keeps a read buffer and a write buffer for the whole life of a
// connection and can only wait for data while holding them: about 10 KB
// per idle connection before anything else. A Conn of this package:
//
//   - waits for data in the Go runtime's network poller with no buffer
//     at all, and borrows a read buffer from its Upgrader's pool only
//     while bytes are arriving;
//   - can be parked (Park, on Linux): one goroutine of the Upgrader
//     watches every parked connection with epoll and wakes a connection
//     when bytes come, so an idle connection needs no goroutine and no
//     stack;
//   - lets its owner try a write without waiting (TryWrite), so a
//     broadcast writes to a ready socket from the broadcasting goroutine,
//     and only a socket that is not ready needs a writer goroutine;
//   - writes frames prepared once and shared by every connection they go
//     to (AppendFrame), because server frames are not masked.
//
// The opening handshake is still gorilla/websocket's Upgrader, a
// well-kept implementation of the header checks; after it, the
// connection's bytes are read and written here. No extension and no
// subprotocol is negotiated, so compressed or extended frames are a
// protocol error.
//
// A Conn has one reader and one writer: ReadMessage may not be called
// concurrently with itself, nor TryWrite, Write and WriteClose with each
// other. Close may be called at any time from any goroutine.
package wsconn
