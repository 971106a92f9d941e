package socketio

import (
	"encoding/json"
	"fmt"
)

// IsReservedEvent reports whether name is one of the event names a peer must not
// send, because they have a meaning of their own for Socket.IO or for Node's
// EventEmitter: connect, connect_error, disconnect, disconnecting, newListener
// and removeListener. Decode rejects incoming events with these names
// (ErrReservedEventName); Node's server also refuses to emit them.
func IsReservedEvent(name string) bool {
	switch name {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// SplitEvent splits the payload of an Event or BinaryEvent into the event name
// and the remaining arguments, as raw JSON values that alias data.
//
// data must be a JSON array whose first element is a string or a number (Node's
// rule since CVE-2023-32695), otherwise the error wraps ErrInvalidPayload. A
// number is turned into the name JavaScript gives it (42 → "42", 1e21 →
// "1e+21"), as Node's EventEmitter does. A reserved name (see IsReservedEvent)
// fails with ErrReservedEventName. Whitespace around values is allowed; binary
// placeholders are left in the arguments as they are.
func SplitEvent(data json.RawMessage) (name string, args []json.RawMessage, err error) {
	if !json.Valid(data) {
		return "", nil, fmt.Errorf("%w: event data is not valid JSON", ErrInvalidPayload)
	}
	i := skipSpace(data, 0)
	if data[i] != '[' {
		return "", nil, fmt.Errorf("%w: event data is not an array", ErrInvalidPayload)
	}
	i = skipSpace(data, i+1)
	if data[i] == ']' {
		return "", nil, fmt.Errorf("%w: event without a name", ErrInvalidPayload)
	}
	end := skipValue(data, i)
	name, err = eventName(data[i:end])
	if err != nil {
		return "", nil, err
	}
	for {
		i = skipSpace(data, end)
		if data[i] != ',' {
			break // ']'
		}
		i = skipSpace(data, i+1)
		end = skipValue(data, i)
		if args == nil {
			args = make([]json.RawMessage, 0, 4) // most events have few arguments
		}
		args = append(args, json.RawMessage(data[i:end:end]))
	}
	return name, args, nil
}

// eventName returns the name the first element v of an event array stands for.
func eventName(v []byte) (string, error) {
	switch c := v[0]; {
	case c == '"':
		name := unquote(v)
		if IsReservedEvent(name) {
			return "", fmt.Errorf("%w %q", ErrReservedEventName, name)
		}
		return name, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return jsNumberName(v), nil
	}
	return "", fmt.Errorf("%w: event name must be a string or a number", ErrInvalidPayload)
}

// checkEventName is eventName for the decoder: it validates the first element
// of an event array without allocating in the common case.
func checkEventName(v []byte) error {
	switch c := v[0]; {
	case c == '"':
		if isReservedBytes(v[1 : len(v)-1]) {
			return fmt.Errorf("%w %s", ErrReservedEventName, v)
		}
		for _, b := range v {
			if b == '\\' {
				_, err := eventName(v)
				return err
			}
		}
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		return nil
	}
	return fmt.Errorf("%w: event name must be a string or a number", ErrInvalidPayload)
}

func isReservedBytes(b []byte) bool {
	switch string(b) {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}
