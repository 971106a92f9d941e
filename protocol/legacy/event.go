package legacy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// EventData returns the data of an Event packet, as Node's encoder writes
// it: {"name":<name>,"args":<args>}, the name escaped like JSON.stringify
// and "args" left out when args is empty or "[]". args, when given, must
// be a JSON array; it is written compacted. Otherwise the error wraps
// ErrInvalidEvent.
func EventData(name string, args json.RawMessage) ([]byte, error) {
	out := make([]byte, 0, len(name)+len(args)+20)
	out = append(out, `{"name":`...)
	out = appendJSString(out, name, jsonEscapes)
	if !emptyArray(args) {
		var err error
		out = append(out, `,"args":`...)
		if out, err = appendArray(out, args); err != nil {
			return nil, fmt.Errorf("%w: args: %w", ErrInvalidEvent, err)
		}
	}
	return append(out, '}'), nil
}

// ParseEvent reads the data of an Event packet: a JSON object with a
// string "name" and an optional "args" array (null or absent: none). Keys
// are matched exactly and the last of duplicates wins, as in JavaScript.
// Anything else fails with an error wrapping ErrInvalidEvent. args are the
// array's elements as they were sent.
func ParseEvent(data []byte) (name string, args []json.RawMessage, err error) {
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(data, &ev); err != nil || ev == nil {
		return "", nil, fmt.Errorf("%w: not a JSON object", ErrInvalidEvent)
	}
	raw, ok := ev["name"]
	if !ok || len(raw) == 0 || raw[0] != '"' {
		return "", nil, fmt.Errorf("%w: name is not a string", ErrInvalidEvent)
	}
	if err := json.Unmarshal(raw, &name); err != nil {
		return "", nil, fmt.Errorf("%w: name: %w", ErrInvalidEvent, err)
	}
	raw, ok = ev["args"]
	if !ok || string(raw) == "null" {
		return name, nil, nil
	}
	if raw[0] != '[' {
		return "", nil, fmt.Errorf("%w: args is not an array", ErrInvalidEvent)
	}
	if err := json.Unmarshal(raw, &args); err != nil {
		return "", nil, fmt.Errorf("%w: args: %w", ErrInvalidEvent, err)
	}
	if len(args) == 0 {
		args = nil
	}
	return name, args, nil
}

// AckData returns the data of an Ack packet answering the packet with ack
// id id: "<id>+<args>", or "<id>" when args is empty or "[]" (Node's
// respond() with no arguments). args must be a JSON array, written
// compacted; id must be 1 to MaxIDLen digits. Otherwise the error wraps
// ErrInvalidPacket.
func AckData(id string, args json.RawMessage) ([]byte, error) {
	if !validID(id) {
		return nil, fmt.Errorf("%w: ack id %q", ErrInvalidPacket, id)
	}
	out := make([]byte, 0, len(id)+1+len(args))
	out = append(out, id...)
	if emptyArray(args) {
		return out, nil
	}
	out = append(out, '+')
	out, err := appendArray(out, args)
	if err != nil {
		return nil, fmt.Errorf("%w: ack args: %w", ErrInvalidPacket, err)
	}
	return out, nil
}

// ParseAck reads the data of an Ack packet: the ack id and, after a '+',
// the JSON array of its arguments (nil when there is none). Anything else
// fails with an error wrapping ErrInvalidPacket.
func ParseAck(data []byte) (id string, args []json.RawMessage, err error) {
	i := 0
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	if i == 0 || i > MaxIDLen {
		return "", nil, fmt.Errorf("%w: ack data %s has no valid ack id", ErrInvalidPacket, describe(data))
	}
	id = string(data[:i])
	if i == len(data) {
		return id, nil, nil
	}
	rest := data[i:]
	if rest[0] != '+' || len(rest) < 2 || rest[1] != '[' {
		return "", nil, fmt.Errorf("%w: ack data %s", ErrInvalidPacket, describe(data))
	}
	if err := json.Unmarshal(rest[1:], &args); err != nil {
		return "", nil, fmt.Errorf("%w: ack args: %w", ErrInvalidPacket, err)
	}
	if len(args) == 0 {
		args = nil
	}
	return id, args, nil
}

// ErrorReason is the reason of an Error packet.
type ErrorReason int

// The reasons of Error packets, as Node numbers them.
const (
	NoErrorReason                    ErrorReason = -1
	ErrorReasonTransportNotSupported ErrorReason = 0
	ErrorReasonClientNotHandshaken   ErrorReason = 1
	ErrorReasonUnauthorized          ErrorReason = 2
)

// String returns Node's name of the reason.
func (r ErrorReason) String() string {
	switch r {
	case ErrorReasonTransportNotSupported:
		return "transport not supported"
	case ErrorReasonClientNotHandshaken:
		return "client not handshaken"
	case ErrorReasonUnauthorized:
		return "unauthorized"
	}
	return ""
}

// Advice is the advice of an Error packet.
type Advice int

// The advice of Error packets, as Node numbers it.
const (
	NoAdvice        Advice = -1
	AdviceReconnect Advice = 0
)

// String returns Node's name of the advice.
func (a Advice) String() string {
	if a == AdviceReconnect {
		return "reconnect"
	}
	return ""
}

// ErrorData returns the data of an Error packet, "reason+advice" as Node
// writes it: "1+0", "2" without advice, "+0" without reason. A negative
// reason or advice is left out.
func ErrorData(reason ErrorReason, advice Advice) []byte {
	var out []byte
	if reason >= 0 {
		out = strconv.AppendInt(out, int64(reason), 10)
	}
	if advice >= 0 {
		out = append(out, '+')
		out = strconv.AppendInt(out, int64(advice), 10)
	}
	return out
}

// emptyArray reports whether args stands for no arguments: nothing, or a
// JSON array with no element.
func emptyArray(args []byte) bool {
	t := bytes.TrimSpace(args)
	if len(t) == 0 {
		return true
	}
	return t[0] == '[' && len(bytes.TrimSpace(t[1:])) == 1 && t[len(t)-1] == ']'
}

// appendArray appends args, a JSON array, compacted.
func appendArray(dst, args []byte) ([]byte, error) {
	t := bytes.TrimSpace(args)
	if len(t) == 0 || t[0] != '[' {
		return dst, fmt.Errorf("not a JSON array")
	}
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, t); err != nil {
		return dst, err
	}
	return buf.Bytes(), nil
}
