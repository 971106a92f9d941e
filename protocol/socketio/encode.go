package socketio

import "strconv"

// wireType returns the type written on the wire: an Event or Ack with
// attachments becomes binary, a binary type without attachments becomes plain.
func (p *Packet) wireType() Type {
	switch p.Type {
	case Event, BinaryEvent:
		if len(p.Attachments) > 0 {
			return BinaryEvent
		}
		return Event
	case Ack, BinaryAck:
		if len(p.Attachments) > 0 {
			return BinaryAck
		}
		return Ack
	}
	return p.Type
}

// hasNamespace reports whether the namespace (or a v4 query) goes on the wire.
func (p *Packet) hasNamespace() bool {
	return (p.Namespace != "" && p.Namespace != "/") || p.Query != ""
}

// hasID reports whether the ack id goes on the wire: only events and acks carry
// one, so a Connect built without setting ID (0) still encodes as "0".
func (p *Packet) hasID() bool {
	return p.ID >= 0 && (p.Type.IsEvent() || p.Type.IsAck())
}

// hasData reports whether Data goes on the wire: Node skips null and undefined.
func (p *Packet) hasData() bool {
	return len(p.Data) > 0 && string(p.Data) != "null"
}

// Encode returns the text frame of p and its binary attachments; each attachment
// is sent as its own Engine.IO binary message after the text, in order.
//
// The frame is laid out as Node's encoder does: the type digit; for a binary
// packet the attachment count and '-'; the namespace followed by ',' unless it
// is "/" (with "?Query" appended when Query is set, the protocol v4 form
// "0/admin?token=abc,"); the ack id of an event or ack unless negative (other
// types never carry one); then Data unless nil or null. An Event or Ack with Attachments is sent as BinaryEvent or BinaryAck,
// and a binary type without attachments as the plain one. So the server's
// CONNECT reply is Packet{Type: Connect, Namespace: "/admin", ID: NoID} → "0/admin,"
// in v4, and with Data {"sid":"..."} → `0/admin,{"sid":"..."}` in v5.
//
// Encode does not validate Data or the placeholders in it (BuildArgs writes
// them); the returned attachments are p.Attachments itself, or nil for a packet
// type that has none. An invalid Type makes an undecodable frame.
func (p *Packet) Encode() (text []byte, attachments [][]byte) {
	size := 1 + len(p.Data)
	if p.wireType().IsBinary() {
		size += 4
		attachments = p.Attachments
	}
	if p.hasNamespace() {
		size += len(p.Namespace) + 2 + len(p.Query)
	}
	if p.hasID() {
		size += 20
	}
	return p.AppendText(make([]byte, 0, size)), attachments
}

// AppendText appends the text frame of p to dst and returns the extended buffer,
// for callers that encode into pooled buffers. It writes what Encode returns as
// text.
func (p *Packet) AppendText(dst []byte) []byte {
	t := p.wireType()
	dst = append(dst, '0'+byte(t))
	if t.IsBinary() {
		dst = strconv.AppendInt(dst, int64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if p.hasNamespace() {
		if p.Namespace == "" {
			dst = append(dst, '/')
		} else {
			dst = append(dst, p.Namespace...)
		}
		if p.Query != "" {
			dst = append(dst, '?')
			dst = append(dst, p.Query...)
		}
		dst = append(dst, ',')
	}
	if p.hasID() {
		dst = strconv.AppendInt(dst, p.ID, 10)
	}
	if p.hasData() {
		dst = append(dst, p.Data...)
	}
	return dst
}
