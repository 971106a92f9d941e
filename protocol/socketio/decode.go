package socketio

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Decoder reassembles packets from the Engine.IO messages of one connection: a
// text message holds a packet, and a binary packet is followed by its
// attachments as binary messages.
//
// The zero value decodes protocol v5 with Node's default limits. A Decoder is
// not safe for concurrent use; give each connection its own.
type Decoder struct {
	// Revision is the protocol spoken on the connection: V4 for Engine.IO 3
	// clients, V5 (or zero) for Engine.IO 4 clients.
	Revision Revision

	// MaxAttachments is the largest attachment count a binary packet may
	// announce (socket.io-parser's maxAttachments). Zero or less means
	// DefaultMaxAttachments (10).
	MaxAttachments int

	pending *Packet // binary packet waiting for attachments
	want    int     // attachments pending needs
}

// Decode takes one Engine.IO message, binary reporting whether it was a binary
// message. It returns the packet once it is complete, or (nil, nil) while a
// binary packet waits for more attachments.
//
// Any invalid input returns an error wrapping one of this package's sentinels
// (ErrInvalidPayload, ErrIllegalAttachments, ...). Such an error is a protocol
// violation: the connection must be closed. The Decoder is reset, so it holds
// no buffered attachments afterwards.
//
// Decode does not retain data: the packet's Namespace, Data and Attachments are
// copies.
func (d *Decoder) Decode(data []byte, binary bool) (*Packet, error) {
	if binary {
		if d.pending == nil {
			return nil, ErrUnexpectedBinary
		}
		p := d.pending
		// Never nil: an empty attachment is an empty buffer, not null.
		p.Attachments = append(p.Attachments, append(make([]byte, 0, len(data)), data...))
		if len(p.Attachments) < d.want {
			return nil, nil
		}
		d.Reset()
		return p, nil
	}
	if d.pending != nil {
		n, want := len(d.pending.Attachments), d.want
		d.Reset()
		return nil, fmt.Errorf("%w: %d of %d attachments received", ErrUnexpectedText, n, want)
	}
	p, want, err := d.parse(data)
	if err != nil {
		return nil, err
	}
	if want > 0 {
		p.Attachments = make([][]byte, 0, want)
		d.pending, d.want = p, want
		return nil, nil
	}
	return p, nil
}

// Pending reports whether a binary packet is waiting for attachments.
func (d *Decoder) Pending() bool { return d.pending != nil }

// Reset drops a binary packet waiting for attachments, if any (Node's
// Decoder.destroy). Call it when the connection closes to release them early.
func (d *Decoder) Reset() {
	d.pending, d.want = nil, 0
}

func (d *Decoder) maxAttachments() int {
	if d.MaxAttachments <= 0 {
		return DefaultMaxAttachments
	}
	return d.MaxAttachments
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parse decodes a text message; want is the attachment count of a binary packet.
func (d *Decoder) parse(s []byte) (p *Packet, want int, err error) {
	if len(s) == 0 {
		return nil, 0, fmt.Errorf("%w: empty packet", ErrUnknownPacketType)
	}
	if s[0] < '0' || s[0] > '6' {
		return nil, 0, fmt.Errorf("%w %q", ErrUnknownPacketType, s[0])
	}
	t := Type(s[0] - '0')
	i := 1

	// Attachment count: "<digits>-".
	if t.IsBinary() {
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start || i == len(s) || s[i] != '-' {
			return nil, 0, fmt.Errorf("%w: count must be digits followed by '-'", ErrIllegalAttachments)
		}
		max := d.maxAttachments()
		for _, c := range s[start:i] {
			want = want*10 + int(c-'0')
			if want > max {
				return nil, 0, fmt.Errorf("%w: more than %d", ErrTooManyAttachments, max)
			}
		}
		if want == 0 {
			return nil, 0, fmt.Errorf("%w: binary packet without attachments", ErrIllegalAttachments)
		}
		i++
	}

	p = &Packet{Type: t, Namespace: "/", ID: NoID}

	// Namespace: "/..." up to ',' or the end.
	if i < len(s) && s[i] == '/' {
		end := bytes.IndexByte(s[i:], ',')
		next := i + end + 1
		if end < 0 {
			end, next = len(s)-i, len(s)
		}
		nsp := s[i : i+end]
		i = next
		var query []byte
		if d.Revision == V4 {
			if q := bytes.IndexByte(nsp, '?'); q >= 0 {
				nsp, query = nsp[:q], nsp[q+1:]
			}
			if len(query) > MaxQueryLen {
				return nil, 0, fmt.Errorf("%w: query longer than %d bytes", ErrInvalidNamespace, MaxQueryLen)
			}
		}
		if len(nsp) > MaxNamespaceLen {
			return nil, 0, fmt.Errorf("%w: longer than %d bytes", ErrInvalidNamespace, MaxNamespaceLen)
		}
		if len(nsp) > 1 {
			p.Namespace = string(nsp)
		}
		p.Query = string(query)
	}

	// Ack id.
	if i < len(s) && isDigit(s[i]) {
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i-start > 16 {
			return nil, 0, fmt.Errorf("%w: %d digits", ErrInvalidAckID, i-start)
		}
		var id int64
		for _, c := range s[start:i] {
			id = id*10 + int64(c-'0')
		}
		if id > MaxAckID {
			return nil, 0, fmt.Errorf("%w: %d is above 2^53-1", ErrInvalidAckID, id)
		}
		if !t.IsEvent() && !t.IsAck() {
			return nil, 0, fmt.Errorf("%w: %v packet with an ack id", ErrInvalidAckID, t)
		}
		p.ID = id
	} else if t.IsAck() {
		return nil, 0, fmt.Errorf("%w: %v without an ack id", ErrInvalidAckID, t)
	}

	// Data.
	if i < len(s) {
		raw := s[i:]
		if err := d.checkData(t, raw); err != nil {
			return nil, 0, err
		}
		if t.IsBinary() {
			if err := checkPlaceholders(raw, want); err != nil {
				return nil, 0, err
			}
		}
		p.Data = bytes.Clone(raw)
	} else if t.IsEvent() || t.IsAck() {
		return nil, 0, fmt.Errorf("%w: %v without data", ErrInvalidPayload, t)
	}
	return p, want, nil
}

// checkData validates the JSON payload raw of a packet of type t.
func (d *Decoder) checkData(t Type, raw []byte) error {
	switch t {
	case Disconnect:
		return fmt.Errorf("%w: DISCONNECT carries no data", ErrInvalidPayload)
	case Connect:
		if d.Revision == V4 {
			return fmt.Errorf("%w: v4 CONNECT carries no data", ErrInvalidPayload)
		}
	}
	// JSON.parse would skip leading whitespace, but Node's parser has by then
	// read a space as an ack id digit ("2 [...]" has id 0): refuse it instead.
	if isSpace(raw[0]) || !json.Valid(raw) {
		return fmt.Errorf("%w: not valid JSON", ErrInvalidPayload)
	}
	switch t {
	case Connect:
		if raw[0] != '{' {
			return fmt.Errorf("%w: CONNECT data must be an object", ErrInvalidPayload)
		}
	case ConnectError:
		if raw[0] != '{' && raw[0] != '"' {
			return fmt.Errorf("%w: CONNECT_ERROR data must be a string or an object", ErrInvalidPayload)
		}
	case Event, BinaryEvent:
		if raw[0] != '[' {
			return fmt.Errorf("%w: %v data must be an array", ErrInvalidPayload, t)
		}
		i := skipSpace(raw, 1)
		if raw[i] == ']' {
			return fmt.Errorf("%w: event without a name", ErrInvalidPayload)
		}
		return checkEventName(raw[i:skipValue(raw, i)])
	case Ack, BinaryAck:
		if raw[0] != '[' {
			return fmt.Errorf("%w: %v data must be an array", ErrInvalidPayload, t)
		}
	}
	return nil
}

// checkPlaceholders verifies that every placeholder of the binary packet data
// raw refers to one of its n attachments (CVE-2022-2421).
func checkPlaceholders(raw []byte, n int) error {
	var buf [8]placeholderRef
	for _, ref := range findPlaceholders(raw, buf[:0]) {
		if _, ok := attachmentIndex(ref.num, n); !ok {
			return fmt.Errorf("%w: placeholder num %s with %d attachments", ErrIllegalAttachments, excerpt(ref.num), n)
		}
	}
	return nil
}

// excerpt quotes the start of a peer-supplied value for an error message.
func excerpt(b []byte) string {
	const max = 32
	if b == nil {
		return "(absent)"
	}
	if len(b) > max {
		return fmt.Sprintf("%q...", b[:max])
	}
	return fmt.Sprintf("%q", b)
}
