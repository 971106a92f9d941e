package expressio

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/expressio-go/expressio/protocol/engineio"
	"github.com/expressio-go/expressio/protocol/legacy"
	"github.com/expressio-go/expressio/protocol/socketio"
)

// frame is a packet prepared for sending. It is encoded at most once per
// wire format, on first use, and the encoding is shared by every
// connection it goes to: a broadcast to a thousand sockets encodes once
// per format.
type frame struct {
	pkt    socketio.Packet
	shared bool // going to many connections: engineio.Prepare its messages

	once sync.Once
	msgs []engineio.Message // protocol v5 and v4 over WebSocket alike

	asciiOnce sync.Once
	ascii     []engineio.Message

	legacyOnce sync.Once
	legacy     legacy.Packet
	legacyErr  error
}

func newFrame(p socketio.Packet) *frame { return &frame{pkt: p} }

// newSharedFrame returns a frame for a broadcast: its Engine.IO messages
// are prepared, so every WebSocket gets the same frame bytes, built once.
func newSharedFrame(p socketio.Packet) *frame { return &frame{pkt: p, shared: true} }

// messages returns the Engine.IO messages of the packet: the text part,
// then one binary message per attachment.
func (f *frame) messages() []engineio.Message {
	f.once.Do(func() { f.msgs = encodeMessages(f.pkt, f.shared) })
	return f.msgs
}

// asciiMessages is messages with every non-ASCII character of the JSON
// written as a \u escape. Protocol v4 connections get this form: the
// engine.io-parser 1.x of socket.io-client 1.x UTF-8-decodes polling text
// once more than it was encoded, which mangles any non-ASCII byte, while
// an escape reads the same in every client. Packets that are ASCII
// already share the one encoding.
func (f *frame) asciiMessages() []engineio.Message {
	f.asciiOnce.Do(func() {
		escaped, changed := asciiJSON(f.pkt.Data)
		if !changed {
			f.ascii = f.messages()
			return
		}
		p := f.pkt
		p.Data = escaped
		f.ascii = encodeMessages(p, f.shared)
	})
	return f.ascii
}

// legacyPacket is the packet as socket.io 0.9 writes it. 0.9 has no
// binary: attachments travel as base64 strings in their placeholders'
// places.
func (f *frame) legacyPacket() (legacy.Packet, error) {
	f.legacyOnce.Do(func() { f.legacy, f.legacyErr = toLegacy(f.pkt) })
	return f.legacy, f.legacyErr
}

func toLegacy(p socketio.Packet) (legacy.Packet, error) {
	out := legacy.Packet{Endpoint: endpoint(p.Namespace)}
	data := p.Data
	if len(p.Attachments) > 0 {
		inlined, err := socketio.InlineAttachments(data, p.Attachments)
		if err != nil {
			return out, fmt.Errorf("expressio: encode for 0.9: %w", err)
		}
		data = inlined
	}
	var err error
	switch p.Type {
	case socketio.Event, socketio.BinaryEvent:
		var name string
		var args []json.RawMessage
		name, args, err = socketio.SplitEvent(data)
		if err != nil {
			return out, fmt.Errorf("expressio: encode for 0.9: %w", err)
		}
		rest := json.RawMessage("[]")
		if len(args) > 0 {
			rest, _ = json.Marshal(args)
		}
		out.Type = legacy.Event
		out.Data, err = legacy.EventData(name, rest)
		if p.ID != socketio.NoID {
			out.ID, out.Ack = strconv.FormatInt(p.ID, 10), true
		}
	case socketio.Ack, socketio.BinaryAck:
		out.Type = legacy.Ack
		if len(data) == 0 {
			data = json.RawMessage("[]")
		}
		out.Data, err = legacy.AckData(strconv.FormatInt(p.ID, 10), data)
	case socketio.Disconnect:
		out.Type = legacy.Disconnect
	case socketio.Connect:
		out.Type = legacy.Connect
	default:
		out.Type = legacy.Error
		out.Data = legacy.ErrorData(legacy.ErrorReasonUnauthorized, legacy.NoAdvice)
	}
	if err != nil {
		return out, fmt.Errorf("expressio: encode for 0.9: %w", err)
	}
	return out, nil
}

func encodeMessages(p socketio.Packet, shared bool) []engineio.Message {
	text, atts := p.Encode()
	msgs := make([]engineio.Message, 0, 1+len(atts))
	msgs = append(msgs, engineio.Message{Data: text})
	for _, a := range atts {
		msgs = append(msgs, engineio.Message{Data: a, Binary: true})
	}
	if shared {
		for i := range msgs {
			msgs[i] = engineio.Prepare(msgs[i])
		}
	}
	return msgs
}

// asciiJSON escapes the non-ASCII characters of a JSON text. Outside
// strings JSON is ASCII, so every such character is inside a string,
// where \uXXXX (a surrogate pair past the BMP) means the same.
func asciiJSON(data []byte) ([]byte, bool) {
	i := 0
	for i < len(data) && data[i] < utf8.RuneSelf {
		i++
	}
	if i == len(data) {
		return data, false
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, len(data)+len(data)/2)
	out = append(out, data[:i]...)
	for _, r := range string(data[i:]) {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
			continue
		}
		units := []rune{r}
		if r > 0xFFFF {
			hi, lo := utf16.EncodeRune(r)
			units = []rune{hi, lo}
		}
		for _, u := range units {
			out = append(out, '\\', 'u', hex[u>>12&0xF], hex[u>>8&0xF], hex[u>>4&0xF], hex[u&0xF])
		}
	}
	return out, true
}

// checkArgs refuses an AckCallback anywhere but last in Emit, where it
// would otherwise go out as {}.
func checkArgs(args []any) error {
	for _, a := range args {
		if _, ok := a.(AckCallback); ok {
			return ErrMisplacedAck
		}
	}
	return nil
}

// eventFrame prepares an EVENT packet for a namespace; id is the ack id
// or socketio.NoID.
func eventFrame(nsp string, id int64, event string, args []any) (*frame, error) {
	p, err := eventPacket(nsp, id, event, args)
	if err != nil {
		return nil, err
	}
	return newFrame(p), nil
}

// eventPacket builds an EVENT packet.
func eventPacket(nsp string, id int64, event string, args []any) (socketio.Packet, error) {
	if err := checkArgs(args); err != nil {
		return socketio.Packet{}, err
	}
	all := make([]any, 0, 1+len(args))
	all = append(all, event)
	all = append(all, args...)
	data, atts, err := socketio.BuildArgs(all...)
	if err != nil {
		return socketio.Packet{}, fmt.Errorf("expressio: encode event %q: %w", event, err)
	}
	return socketio.Packet{Type: socketio.Event, Namespace: nsp, ID: id, Data: data, Attachments: atts}, nil
}

// ackFrame prepares an ACK packet.
func ackFrame(nsp string, id int64, args []any) (*frame, error) {
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	data, atts, err := socketio.BuildArgs(args...)
	if err != nil {
		return nil, fmt.Errorf("expressio: encode ack: %w", err)
	}
	return newFrame(socketio.Packet{Type: socketio.Ack, Namespace: nsp, ID: id, Data: data, Attachments: atts}), nil
}
