// Package legacy implements a socket.io 0.9 server, protocol revision 1,
// the one express.io and socket.io-client 0.9 speak.
//
// A Server is an http.Handler for the paths under its resource
// ("/socket.io" by default). It performs the handshake, serves the
// websocket, htmlfile, xhr-polling and jsonp-polling transports, the
// heartbeats, close timeouts and multi-packet framing, acknowledges
// packets that ask for it, and hands every session to a Handler. The
// packet codec (Packet, Decode, EncodeFrames, DecodeFrames, EventData,
// ParseEvent, AckData) has no I/O and can be used on its own.
//
// # Wire format
//
//	GET /socket.io/1/?t=…                       handshake (any method)
//	  → sid:heartbeat timeout:close timeout:transports
//	    "nSkCFrtvFzBJfwyCaAKu:60:60:websocket,htmlfile,xhr-polling,jsonp-polling"
//	GET /socket.io/1/websocket/<sid>            RFC 6455, one packet per text message
//	GET|POST /socket.io/1/xhr-polling/<sid>     long poll, or packets in the body
//	GET|POST /socket.io/1/jsonp-polling/<sid>   io.j[i]("…"); or form d=<JSON string>
//	GET|POST /socket.io/1/htmlfile/<sid>        <script>_("…");</script> stream
//	GET /socket.io/1/<transport>/<sid>?disconnect  ends the session
//
// A packet is type:id[+]:endpoint[:data], where type is 0 disconnect,
// 1 connect, 2 heartbeat, 3 message, 4 json, 5 event, 6 ack, 7 error,
// 8 noop:
//
//	1::                                  the server's connect echo, first on every session
//	5:::{"name":"chat","args":["hi"]}    an event on the default endpoint
//	5:1+::{"name":"echo","args":[1]}     an event whose sender waits for ack data
//	6:::1+[1]                            …and its ack
//	1::/chat                             join endpoint /chat
//
// A polling body with several packets frames each one as
// "\ufffd<length>\ufffd<packet>", the length in UTF-16 code units.
//
// # Example
//
//	srv := legacy.NewServer(handler, &legacy.Options{HeartbeatInterval: 10 * time.Second})
//	http.Handle("/socket.io/", srv) // or route the requests srv.Owns
//
// # Concurrency
//
// Each session has one writer: Send only appends to a bounded queue, which
// the transport drains (the pending poll, the htmlfile stream, or a
// WebSocket writer goroutine that runs only while the queue has work). A
// session whose queue overflows is closed, so a slow or dead client never
// delays anybody else. Packets of one session reach its Receiver in order,
// one at a time.
//
// # Differences from socket.io 0.9
//
// The session id comes from crypto/rand. Origins are checked on every
// request, polling and WebSocket alike, against one rule (same-origin
// unless Options.AllowedOrigins or AllowOrigin say otherwise; 0.9 allows
// all origins and reflects any one with credentials, where "*" here is
// answered "*", without credentials). The write queue is bounded, and so are POST bodies
// and WebSocket messages (1 MB; 0.9: 100 MB). Input that does not decode
// closes the session, where 0.9 ignores it, and the decoder is anchored
// and caps ack ids and endpoints. A second poll of the same transport
// while one is pending closes the session (0.9 leaves the first one
// hanging). Only RFC 6455 WebSockets are served (0.9 also speaks hixie-76
// and hybi-07-12, and flashsocket). JSONP and htmlfile bodies escape
// U+2028 and U+2029, which end a string literal in old JavaScript.
package legacy
