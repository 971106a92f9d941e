package packet

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"
)

// Markers of the revision-3 XHR2 binary payload.
const (
	binKindText   = 0    // the entry is a packet in text form (UTF-8)
	binKindBinary = 1    // the entry is type byte 4 followed by binary data
	binLengthEnd  = 0xFF // ends the digit bytes of an entry's length
)

// appendTextPayloadV3 appends the revision-3 text payload of pkts to dst:
// "<length>:<packet>" per packet, length in UTF-16 code units.
func appendTextPayloadV3(dst []byte, pkts []Packet) []byte {
	if len(pkts) == 0 {
		return append(dst, "0:"...)
	}
	// Upper bound for valid UTF-8: a UTF-16 length is never above the byte
	// length, so neither are its digits.
	size := 0
	for _, p := range pkts {
		n := 1 + len(p.Data)
		if p.isBinary() {
			n = 2 + base64.StdEncoding.EncodedLen(len(p.Data))
		}
		size += decimalLen(n) + 1 + n
	}
	dst = grow(dst, size)
	for _, p := range pkts {
		if p.isBinary() {
			dst = strconv.AppendInt(dst, int64(2+base64.StdEncoding.EncodedLen(len(p.Data))), 10)
			dst = append(dst, ':', 'b', '0'+byte(Message))
			dst = appendBase64(dst, p.Data)
			continue
		}
		digit := typeDigit(p.Type)
		units, valid := utf16Len(p.Data)
		if !valid {
			_, units = validUTF8Len(p.Data)
		}
		dst = strconv.AppendInt(dst, int64(1+units), 10)
		dst = append(dst, ':', digit)
		if valid {
			dst = append(dst, p.Data...)
		} else {
			dst, _ = appendValidUTF8(dst, p.Data)
		}
	}
	return dst
}

// appendBinaryPayloadV3 appends the revision-3 XHR2 binary payload of pkts
// to dst. Entry lengths count bytes: engine.io-parser 2.x UTF-8-encodes
// text packets before measuring them.
func appendBinaryPayloadV3(dst []byte, pkts []Packet) []byte {
	size := 0
	for _, p := range pkts {
		n := 1 + len(p.Data)
		size += 2 + decimalLen(n) + n
	}
	dst = grow(dst, size)
	for _, p := range pkts {
		if p.isBinary() {
			dst = append(dst, binKindBinary)
			dst = appendLengthBytes(dst, 1+len(p.Data))
			dst = append(dst, byte(Message))
			dst = append(dst, p.Data...)
			continue
		}
		digit := typeDigit(p.Type)
		dst = append(dst, binKindText)
		if utf8.Valid(p.Data) {
			dst = appendLengthBytes(dst, 1+len(p.Data))
			dst = append(dst, digit)
			dst = append(dst, p.Data...)
			continue
		}
		n, _ := validUTF8Len(p.Data)
		dst = appendLengthBytes(dst, 1+n)
		dst = append(dst, digit)
		dst, _ = appendValidUTF8(dst, p.Data)
	}
	return dst
}

// appendLengthBytes appends n as one byte per decimal digit (values 0–9),
// then 0xFF.
func appendLengthBytes(dst []byte, n int) []byte {
	start := len(dst)
	dst = strconv.AppendInt(dst, int64(n), 10)
	for i := start; i < len(dst); i++ {
		dst[i] -= '0'
	}
	return append(dst, binLengthEnd)
}

// decodeTextPayloadV3 decodes a revision-3 text payload.
func decodeTextPayloadV3(body []byte, maxPackets int) ([]Packet, error) {
	if len(body) == 0 {
		return nil, errorf(ErrInvalidPayload, "empty body")
	}
	var pkts []Packet
	pos := 0
	for pos < len(body) {
		start := pos
		n, next, err := parseLength(body, pos, ':', '0')
		if err != nil {
			return nil, err
		}
		pos = next
		end := advanceUTF16(body[pos:], n)
		if end < 0 {
			return nil, errorf(ErrInvalidPayload, "packet %d at byte %d: length %d does not match the data (UTF-16 units)", len(pkts), start, n)
		}
		p, err := decodeText(Revision3, body[pos:pos+end])
		if err != nil {
			return nil, packetError(len(pkts), start, err)
		}
		if pkts, err = appendPacket(pkts, p, maxPackets); err != nil {
			return nil, err
		}
		pos += end
	}
	return pkts, nil
}

// decodeBinaryPayloadV3 decodes a revision-3 XHR2 binary payload.
func decodeBinaryPayloadV3(body []byte, maxPackets int) ([]Packet, error) {
	if len(body) == 0 {
		return nil, errorf(ErrInvalidPayload, "empty body")
	}
	var pkts []Packet
	pos := 0
	for pos < len(body) {
		start := pos
		kind := body[pos]
		if kind != binKindText && kind != binKindBinary {
			return nil, errorf(ErrInvalidPayload, "packet %d at byte %d: kind byte %d, want 0 or 1", len(pkts), start, kind)
		}
		n, next, err := parseLength(body, pos+1, binLengthEnd, 0)
		if err != nil {
			return nil, err
		}
		pos = next
		entry := body[pos : pos+n]
		var p Packet
		if kind == binKindText {
			p, err = decodeText(Revision3, entry)
		} else if entry[0] != byte(Message) {
			err = errorf(ErrInvalidPacket, "binary packet of type %d, want 4 (message)", entry[0])
		} else {
			p = Packet{Type: Message, Data: nilIfEmpty(entry[1:]), Binary: true}
		}
		if err != nil {
			return nil, packetError(len(pkts), start, err)
		}
		if pkts, err = appendPacket(pkts, p, maxPackets); err != nil {
			return nil, err
		}
		pos += n
	}
	return pkts, nil
}

// parseLength parses the length prefix of a payload entry at body[pos:]:
// decimal digits (zero is the digit value zero, '0' for text, 0 for the
// binary payload) ended by the byte end. It returns the length, which is
// at least 1 and at most the number of bytes after end, and the position
// after end. It reads at most one digit more than the body length has, so
// a huge digit run costs nothing.
func parseLength(body []byte, pos int, end, zero byte) (n, next int, err error) {
	start := pos
	for ; pos < len(body); pos++ {
		c := body[pos]
		if c == end {
			break
		}
		d := c - zero
		if d > 9 {
			return 0, 0, errorf(ErrInvalidPayload, "byte %d: bad length prefix: non-digit %q", pos, c)
		}
		if pos > start && n == 0 {
			return 0, 0, errorf(ErrInvalidPayload, "byte %d: bad length prefix: leading zero", start)
		}
		n = n*10 + int(d)
		if n > len(body)-pos-2 { // the end byte and n bytes must follow
			return 0, 0, errorf(ErrInvalidPayload, "byte %d: length prefix points past the end of the body", start)
		}
	}
	switch {
	case pos == len(body):
		return 0, 0, errorf(ErrInvalidPayload, "byte %d: length prefix without its end", start)
	case pos == start:
		return 0, 0, errorf(ErrInvalidPayload, "byte %d: empty length prefix", start)
	case n == 0:
		return 0, 0, errorf(ErrInvalidPayload, "byte %d: empty packet", start)
	}
	return n, pos + 1, nil
}
