// Package engineio implements an Engine.IO server for protocol revisions 3
// (engine.io 3.x, used by socket.io-client 1.x and 2.x) and 4 (engine.io
// 4+, used by socket.io-client 3.x and 4.x), chosen per request by the EIO
// query parameter.
//
// A Server is an http.Handler. It performs the handshake, serves the
// polling (XHR, and JSONP for revision 3) and WebSocket transports, the
// upgrade from one to the other, the heartbeat of each revision and the
// payload framing, and hands every session to a Handler. The packet and
// payload codec itself is package packet.
//
// # Example
//
//	srv := engineio.NewServer(handler, &engineio.Options{PingInterval: 10 * time.Second})
//	http.Handle("/engine.io/", srv)
//
// # Concurrency
//
// Each session has one writer: Send only appends to a bounded queue, which
// the transport drains (a pending poll, or a WebSocket writer goroutine that
// runs only while the queue has work). A session whose queue overflows is
// closed, so a slow or dead client never delays anybody else. Messages of
// one session reach its Receiver in order, one at a time.
//
// # Differences from Node
//
// Revision 3 is allowed by default (Node: allowEIO3 false). The write
// queue is bounded (Node: unbounded). Cross-origin requests are refused
// unless allowed, on WebSocket as on polling.
package engineio
