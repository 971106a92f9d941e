// Package packet implements the Engine.IO packet and payload codec: how
// packets are written in WebSocket frames and in the bodies of HTTP
// long-polling requests. It is pure: no I/O, no state, only the standard
// library, and every function is safe for concurrent use.
//
// # Revisions
//
// Two protocol revisions are supported, chosen by the EIO query parameter:
//
//   - Revision 3 (engine.io 3.x and engine.io-parser 2.x; socket.io-client
//     1.x and 2.x). Polling bodies are length-prefixed: the text payload
//     "<length>:<packet>…", lengths in UTF-16 code units, binary as
//     "b4"+base64; or, when the client supports binary, the XHR2 binary
//     payload (application/octet-stream). Binary WebSocket frames start
//     with the type byte 4. JSONP polling wraps the text payload in a
//     script (EncodeJSONP, DecodeJSONPBody).
//   - Revision 4 (engine.io 4+ and engine.io-parser 5.x; socket.io-client
//     3.x and 4.x). Polling packets are joined by the record separator
//     0x1E, binary as "b"+base64; binary WebSocket frames hold the raw data.
//
// A packet is its type digit (0 open, 1 close, 2 ping, 3 pong, 4 message,
// 5 upgrade, 6 noop) followed by its data. Only messages carry binary.
//
// # Bad input
//
// Decoders treat their input as hostile: every malformed frame or body is
// an error wrapping one of the package's sentinel errors, never a panic,
// and no allocation is larger than the input. DecodePayload also takes a
// packet limit. Decoded packets may share memory with the input; keep the
// input unchanged while they are in use. Encoders panic only on
// programming errors: a revision other than 3 or 4, an invalid packet type.
//
// # Example
//
// Answer a revision-4 poll, then read a revision-3 POST:
//
//	body, contentType := packet.EncodePayload(4, []packet.Packet{
//		{Type: packet.Message, Data: []byte("hello")},
//		{Type: packet.Message, Data: []byte{1, 2, 3}, Binary: true},
//	}, true)
//	// body is "4hello\x1ebAQID", contentType "text/plain; charset=UTF-8"
//
//	pkts, err := packet.DecodePayload(3, []byte("6:4hello2:2probe"), false, 16)
//	// pkts: message "hello", ping "probe"
//
// One WebSocket frame:
//
//	data, binary := packet.EncodeFrame(4, packet.Packet{Type: packet.Ping})
//	// data is "2", binary false
//	p, err := packet.DecodeFrame(4, data, binary)
package packet
