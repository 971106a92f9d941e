// Package socketio implements the Socket.IO packet codec, protocol revisions 4
// and 5, with no I/O: it turns Engine.IO messages into packets and packets into
// Engine.IO messages, and validates everything a peer sends.
//
// A packet is one text message, "<type>[<n>-][<namespace>,][<ack id>][<JSON>]",
// followed, for a binary packet, by its n attachments as binary messages:
//
//	2["chat","hello"]                      EVENT on "/"
//	2/admin,12["chat","hello"]             EVENT on "/admin", ack id 12
//	312["ok"]                              ACK of id 12
//	51-["upload",{"_placeholder":true,"num":0}]  + 1 binary message
//
// [Decoder] reassembles and validates packets, one Decoder per connection;
// [Packet.Encode] and [Packet.AppendText] write them. [SplitEvent] splits an
// event payload into its name and arguments; [BuildArgs] builds a payload from
// Go values, turning []byte into attachments; [ReconstructArgs] and
// [InlineAttachments] put incoming attachments back in place of their
// placeholders.
//
// # Example
//
//	var dec socketio.Decoder // one per connection; zero value: v5
//	p, err := dec.Decode([]byte(`2/chat,1["msg","hi"]`), false)
//	if err != nil {
//		// protocol violation: close the connection
//	}
//	name, args, err := socketio.SplitEvent(p.Data) // "msg", [`"hi"`]
//
//	data, atts, _ := socketio.BuildArgs("hi")
//	reply := socketio.Packet{Type: socketio.Ack, Namespace: p.Namespace, ID: p.ID, Data: data, Attachments: atts}
//	text, bins := reply.Encode() // `3/chat,1["hi"]`, no binary messages
//
// # Revisions
//
// Revision 5 (socket.io-parser 4.x) is spoken by socket.io-client 3.x and 4.x
// over Engine.IO 4; revision 4 (socket.io-parser 3.x, and 2.x in client 1.x) by
// socket.io-client 1.x and 2.x over Engine.IO 3. The frame layout is the same;
// they differ in CONNECT and CONNECT_ERROR:
//
//   - v5 CONNECT carries the auth object ("0/admin,{"token":"x"}"); the server
//     answers with {"sid": socket id} ("0/admin,{"sid":"..."}").
//   - v4 CONNECT carries no JSON: a client's query rides on the namespace
//     ("0/admin?token=x,"), and the Decoder splits it into Packet.Query for V4.
//     A v4 client never sends CONNECT for "/": the server connects it to "/" by
//     itself. The server answers with a bare "0" or "0/admin,".
//   - CONNECT_ERROR (ERROR in v4) holds {"message","data"} in v5 and a string
//     (or the error's data) in v4.
//
// Validation follows socket.io-parser 4.2.x (which socket.io 4.8 also applies
// to its Engine.IO 3 clients) for both revisions, with its later fixes:
// attachment counts must be 1..MaxAttachments (CVE-2026-33151,
// GHSA-2m8v-j782-fhvr), placeholders must point at an attachment
// (CVE-2022-2421), and event names must be strings or numbers (CVE-2023-32695)
// and not reserved. It is stricter than Node where Node accepts what no client
// sends: an empty packet (a CONNECT to "/" for Node), whitespace before the
// payload (read as ack id 0 by Node), data on a v4 CONNECT, an ack id on
// CONNECT, DISCONNECT or CONNECT_ERROR, and an EVENT or ACK without data or an
// ACK without id are all rejected. Ack ids are capped at [MaxAckID], namespaces
// at [MaxNamespaceLen] and v4 queries at [MaxQueryLen] (CVE-2020-36049), so a
// long digit run or name fails before anything is allocated for it.
//
// # Concurrency
//
// A [Decoder] holds the state of one connection and must not be used
// concurrently. Packets and the functions of this package are safe for
// concurrent use as long as no one modifies the packet meanwhile: a broadcast
// can encode one packet and share the frame among many connections.
package socketio
