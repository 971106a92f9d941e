package main

import (
	"bytes"
	"math"
	"strconv"
)

// Hand scanners for the few JSON values on the hot path: no allocation,
// no encoding/json.

var (
	keyPingInterval = []byte(`"pingInterval"`)
	keyT            = []byte(`"t"`)
	keySeq          = []byte(`"seq"`)
	bcastPrefix     = []byte(`2["bcast",`) // a Socket.IO event packet, after the engine's 4
)

// parseAckID splits the rest of an ack packet (after its type 3) into the
// ack id and the arguments.
func parseAckID(b []byte) (id int64, args []byte, ok bool) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if i == 18 {
			return 0, nil, false
		}
		id = id*10 + int64(b[i]-'0')
		i++
	}
	return id, b[i:], i > 0
}

// jsonInt finds "key" in b and returns its number value as an integer.
// It expects a flat object (the open packet, a bcast payload) and does not
// check that key is at the top level.
func jsonInt(b, key []byte) (int64, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, false
	}
	b = skipSpace(b[i+len(key):])
	if len(b) == 0 || b[0] != ':' {
		return 0, false
	}
	return parseNumber(skipSpace(b[1:]))
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// parseNumber parses the JSON number at the start of b. Integers take the
// fast path; fractions and exponents (a server that went through a
// float64) are parsed as floats and truncated.
func parseNumber(b []byte) (int64, bool) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		neg, i = true, 1
	}
	start := i
	var v uint64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if i-start == 19 {
			return parseFloat(b) // more than int64 holds
		}
		v = v*10 + uint64(b[i]-'0')
		i++
	}
	if i == start {
		return 0, false
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') || v > math.MaxInt64 {
		return parseFloat(b)
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

func parseFloat(b []byte) (int64, bool) {
	end := 0
	for end < len(b) && (b[end] >= '0' && b[end] <= '9' || b[end] == '+' || b[end] == '-' ||
		b[end] == '.' || b[end] == 'e' || b[end] == 'E') {
		end++
	}
	f, err := strconv.ParseFloat(string(b[:end]), 64)
	if err != nil || f > 9.2e18 || f < -9.2e18 {
		return 0, false
	}
	return int64(f), true
}

// parseBcast reads t and seq from a bcast event's argument, in either
// order.
func parseBcast(b []byte) (t, seq int64, ok bool) {
	t, ok1 := jsonInt(b, keyT)
	seq, ok2 := jsonInt(b, keySeq)
	return t, seq, ok1 && ok2
}

// appendEcho appends an echo event with ack id: 42<id>["echo","<payload>"].
func appendEcho(b []byte, id int64, payload []byte) []byte {
	b = append(b, "42"...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `["echo","`...)
	b = append(b, payload...)
	return append(b, `"]`...)
}

// appendBcast appends a bcast event with ack id seq:
// 42<seq>["bcast",{"t":<t>,"seq":<seq>}].
func appendBcast(b []byte, seq, t int64) []byte {
	b = append(b, "42"...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `["bcast",{"t":`...)
	b = strconv.AppendInt(b, t, 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	return append(b, "}]"...)
}
