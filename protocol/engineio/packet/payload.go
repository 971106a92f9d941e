package packet

import (
	"fmt"
	"slices"
)

// EncodePayload encodes pkts as the body of a polling response and returns
// it with its Content-Type.
//
// Revision 4: the packets in text form joined by the record separator 0x1E;
// a binary Message is "b" + base64. supportsBinary is ignored. An empty
// pkts gives an empty body (engine.io never sends one).
//
// Revision 3: when supportsBinary is true (the client did not ask for b64)
// and some packet is binary, the XHR2 binary payload (ContentTypeBinary):
// per packet a byte 0 (text) or 1 (binary), the packet's length in bytes
// as one byte per decimal digit, 0xFF, then the packet (type digit and
// UTF-8 text, or type byte 4 and the binary data). Otherwise the text
// payload (ContentTypeText): per packet "<length>:<packet>", where length
// counts UTF-16 code units as JavaScript's String.length does (so "😀"
// counts 2) and a binary Message is "b4" + base64. An empty pkts gives
// "0:", as engine.io 3 sends.
//
// Text Data that is not valid UTF-8 is sent, on revision 3, with each
// ill-formed sequence replaced by U+FFFD so the lengths stay right. On
// revision 4 text Data must not contain 0x1E (JSON from socket.io never
// does): the client would split the packet there.
//
// EncodePayload panics if rev is not 3 or 4 or a packet's Type is invalid.
func EncodePayload(rev int, pkts []Packet, supportsBinary bool) (body []byte, contentType string) {
	return AppendPayload(nil, rev, pkts, supportsBinary)
}

// AppendPayload is like EncodePayload but appends the body to dst (which
// may be a pooled buffer) and returns the extended slice.
func AppendPayload(dst []byte, rev int, pkts []Packet, supportsBinary bool) (body []byte, contentType string) {
	checkRevision(rev)
	if rev == Revision4 {
		return appendPayloadV4(dst, pkts), ContentTypeText
	}
	if supportsBinary && hasBinary(pkts) {
		return appendBinaryPayloadV3(dst, pkts), ContentTypeBinary
	}
	return appendTextPayloadV3(dst, pkts), ContentTypeText
}

// DecodePayload decodes the body of a polling POST into its packets.
// binaryBody is true when the request's Content-Type is
// application/octet-stream: on revision 3 the body is then an XHR2 binary
// payload (see EncodePayload); revision 4 has no binary payloads, and
// engine.io answers such a request with 400, so it is an error.
//
// maxPackets bounds the number of packets (<= 0: no limit beyond the body
// size). Every malformed body is an error, never a panic, and no allocation
// is larger than the body: an empty body or packet, a length prefix that is
// empty, has a leading zero, a non-digit, or points past the end, a length
// that does not end on a packet boundary (counted in UTF-16 units for the
// revision-3 text payload), an unknown type, invalid base64 or invalid
// UTF-8 in a text packet. Lengths and base64 are stricter than Node, which
// accepts "0x2:" as a length prefix, skips empty packets and ignores
// characters outside the base64 alphabet; no client sends those.
//
// Text Data of the result shares memory with body; base64 messages are
// decoded into new slices. Errors wrap ErrInvalidPayload, and also
// ErrInvalidPacket or ErrTooManyPackets where that is the cause, or are
// ErrUnknownRevision when rev is not 3 or 4.
func DecodePayload(rev int, body []byte, binaryBody bool, maxPackets int) ([]Packet, error) {
	switch {
	case rev == Revision4 && binaryBody:
		return nil, errorf(ErrInvalidPayload, "binary payload on revision 4")
	case rev == Revision4:
		return decodePayloadV4(body, maxPackets)
	case rev == Revision3 && binaryBody:
		return decodeBinaryPayloadV3(body, maxPackets)
	case rev == Revision3:
		return decodeTextPayloadV3(body, maxPackets)
	}
	return nil, errorf(ErrUnknownRevision, "%d", rev)
}

// hasBinary reports whether some packet is sent as binary.
func hasBinary(pkts []Packet) bool {
	for _, p := range pkts {
		if p.isBinary() {
			return true
		}
	}
	return false
}

// grow makes room for n more bytes in dst.
func grow(dst []byte, n int) []byte { return slices.Grow(dst, n) }

// appendPacket appends p to pkts unless that would exceed maxPackets.
func appendPacket(pkts []Packet, p Packet, maxPackets int) ([]Packet, error) {
	if maxPackets > 0 && len(pkts) >= maxPackets {
		return pkts, fmt.Errorf("%w: %w: more than %d packets", ErrInvalidPayload, ErrTooManyPackets, maxPackets)
	}
	return append(pkts, p), nil
}

// packetError wraps the error of the i-th packet, which starts at byte off
// of the body.
func packetError(i, off int, err error) error {
	return fmt.Errorf("%w: packet %d at byte %d: %w", ErrInvalidPayload, i, off, err)
}
