package packet

import (
	"bytes"
	"encoding/base64"
)

// separator joins the packets of a revision-4 payload (ASCII record
// separator).
const separator = 0x1E

// appendPayloadV4 appends the revision-4 payload of pkts to dst.
func appendPayloadV4(dst []byte, pkts []Packet) []byte {
	size := 0
	for _, p := range pkts {
		size++ // type digit, "b", or the separator before the next packet
		if p.isBinary() {
			size += base64.StdEncoding.EncodedLen(len(p.Data))
		} else {
			size += len(p.Data)
		}
	}
	dst = grow(dst, size)
	for i, p := range pkts {
		if i > 0 {
			dst = append(dst, separator)
		}
		if p.isBinary() {
			dst = append(dst, 'b')
			dst = appendBase64(dst, p.Data)
			continue
		}
		dst = append(dst, typeDigit(p.Type))
		dst = append(dst, p.Data...)
	}
	return dst
}

// decodePayloadV4 splits body at the separators and decodes each packet.
func decodePayloadV4(body []byte, maxPackets int) ([]Packet, error) {
	if len(body) == 0 {
		return nil, errorf(ErrInvalidPayload, "empty body")
	}
	n := bytes.Count(body, []byte{separator}) + 1
	if maxPackets > 0 && n > maxPackets {
		return nil, errorf(ErrInvalidPayload, "%w: %d packets, limit %d", ErrTooManyPackets, n, maxPackets)
	}
	pkts := make([]Packet, 0, n)
	off := 0
	for i := 0; i < n; i++ {
		seg := body[off:]
		if j := bytes.IndexByte(seg, separator); j >= 0 {
			seg = seg[:j]
		}
		p, err := decodeText(Revision4, seg)
		if err != nil {
			return nil, packetError(i, off, err)
		}
		pkts = append(pkts, p)
		off += len(seg) + 1
	}
	return pkts, nil
}
