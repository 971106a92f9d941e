package packet

// EncodeFrame encodes p as the body of one WebSocket frame and reports
// whether it must be sent as a binary frame (otherwise as a text frame).
//
// A text packet is its type digit followed by Data, on both revisions. A
// binary Message is, on revision 3, a binary frame whose first byte is 4
// followed by Data; on revision 4, a binary frame of Data alone. In that
// revision-4 case the returned slice is p.Data itself; in every other case
// it is newly allocated.
//
// EncodeFrame panics if rev is not 3 or 4 or p.Type is invalid: both are
// programming errors.
func EncodeFrame(rev int, p Packet) (data []byte, binary bool) {
	checkRevision(rev)
	if rev == Revision4 && p.isBinary() {
		return p.Data, true
	}
	return AppendFrame(make([]byte, 0, 1+len(p.Data)), rev, p)
}

// AppendFrame is like EncodeFrame but appends the frame body to dst (which
// may be a pooled buffer) and returns the extended slice.
func AppendFrame(dst []byte, rev int, p Packet) (data []byte, binary bool) {
	checkRevision(rev)
	if p.isBinary() {
		if rev == Revision3 {
			dst = append(dst, byte(Message))
		}
		return append(dst, p.Data...), true
	}
	dst = append(dst, typeDigit(p.Type))
	return append(dst, p.Data...), false
}

// DecodeFrame decodes the body of one WebSocket frame; binary tells whether
// the frame was a binary frame.
//
// A text frame must be a type digit 0–6 followed by valid UTF-8 data, or a
// base64 binary message: "b" + base64 on revision 4, "b4" + base64 on
// revision 3. A binary frame is a Message: on revision 3 its first byte
// must be 4 (the type), on revision 4 it is all data and may be empty.
//
// Data of the result shares memory with data, except for base64 messages,
// which are decoded into a new slice. Errors wrap ErrInvalidPacket, or
// ErrUnknownRevision when rev is not 3 or 4.
func DecodeFrame(rev int, data []byte, binary bool) (Packet, error) {
	if rev != Revision3 && rev != Revision4 {
		return Packet{}, errorf(ErrUnknownRevision, "%d", rev)
	}
	if !binary {
		return decodeText(rev, data)
	}
	if rev == Revision4 {
		return Packet{Type: Message, Data: nilIfEmpty(data), Binary: true}, nil
	}
	if len(data) == 0 {
		return Packet{}, errorf(ErrInvalidPacket, "empty binary frame")
	}
	if data[0] != byte(Message) {
		return Packet{}, errorf(ErrInvalidPacket, "binary frame of type %d, want 4 (message)", data[0])
	}
	return Packet{Type: Message, Data: nilIfEmpty(data[1:]), Binary: true}, nil
}
