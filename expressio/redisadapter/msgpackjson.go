package redisadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// This file converts between the two forms a socket.io payload takes: JSON
// with binary placeholders {"_placeholder":true,"num":N} plus attachments, as
// socketio.Packet holds it, and msgpack, as notepack.io 3.0.1 (the parser of
// @socket.io/redis-adapter) writes the JavaScript value, Buffers as bin.
//
// Both directions follow what a Node server makes of the value, so that a
// Go and a Node server given the same message send their clients the same
// JSON. Where notepack is wrong, this file is not: notepack writes every
// integral number of 2^64 or more as a uint64 it wraps (1e21 arrives as
// 3875820019684212700, 2^64 as 0); toMsgpack writes those as float64.
// Integers beyond 2^53 keep all their digits both ways, where JavaScript
// would round them to the nearest double.

// maxDepth bounds the nesting of arrays and objects, in both directions: a
// deeper value is an error. It is far deeper than real payloads and keeps
// the decoder's recursion short.
const maxDepth = 128

// readChunk is the first allocation for a str, bin or ext whose announced
// length is longer; it then doubles as the bytes arrive.
const readChunk = 4 << 10

// jsDateMax is the largest time value, in ms either side of the epoch, a
// JavaScript Date can hold (ECMAScript TimeClip).
const jsDateMax = 8.64e15

// ---------------------------------------------------------------------------
// JSON -> msgpack

// toMsgpack writes the JSON value data to enc as notepack.io encodes the
// JavaScript value JSON.parse makes of it, with each placeholder replaced by
// its attachment as a bin:
//
//   - a placeholder (an object whose "_placeholder" is true) becomes bin of
//     atts[num]; num must be an integer in [0, len(atts)). When atts is
//     empty nothing is a placeholder: such objects stay maps, as in a
//     non-binary socket.io packet;
//   - a number that is an integer in int64 or uint64 range is written as the
//     smallest msgpack int (notepack's choice of form); any other number as
//     float64;
//   - strings, booleans, null, arrays and objects as str, bool, nil, array
//     and map, keys in the order of the JSON text.
//
// data must be valid JSON nested at most maxDepth deep.
//
// The JSON is read by hand rather than through json.Decoder's tokens
// because msgpack writes the element count of an array or a map before its
// elements: a first pass counts the elements of every container and finds
// the placeholders, a second writes. Both passes are linear, and nothing is
// buffered per container.
func toMsgpack(enc *msgpack.Encoder, data json.RawMessage, atts [][]byte) error {
	if !json.Valid(data) {
		return errors.New("not valid JSON")
	}
	cs, err := scanContainers(data, len(atts))
	if err != nil {
		return err
	}
	return emitMsgpack(enc, data, cs, atts)
}

// container describes one array or object of a JSON text, in the order
// their opening brackets appear.
type container struct {
	count       int  // elements of an array, members of an object
	end         int  // offset just past the closing bracket
	next        int  // index of the first container after this one and its contents
	placeholder bool // a placeholder object
	num         int  // its attachment, or -1 when its num is not valid
	rawNum      []byte
}

// scanFrame is an open container during scanContainers.
type scanFrame struct {
	idx       int  // in the container list
	object    bool // an object, not an array
	expectKey bool // the next string of an object is a key
	key       int  // what the current member is: memberOther, memberPlaceholder, memberNum

	placeholder bool   // "_placeholder" is true (the last one counts, as in JSON.parse)
	num         []byte // the raw value of "num", nil when not a number
}

const (
	memberOther = iota
	memberPlaceholder
	memberNum
)

// scanContainers is toMsgpack's first pass over the valid JSON b.
func scanContainers(b []byte, natts int) ([]container, error) {
	var cs []container
	var stack []scanFrame
	for i := 0; i < len(b); {
		c := b[i]
		switch c {
		case ' ', '\t', '\n', '\r', ',', ':':
			i++
			continue
		case ']', '}':
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			ct := &cs[f.idx]
			ct.end, ct.next = i+1, len(cs)
			if f.object && f.placeholder && natts > 0 {
				// Checked when written: like Node, nothing looks inside a
				// placeholder, so a bad one in there does not count.
				ct.placeholder, ct.rawNum = true, f.num
				if n, ok := attachmentIndex(f.num, natts); ok {
					ct.num = n
				}
			}
			i++
			continue
		}
		var top *scanFrame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if top != nil && top.object && top.expectKey { // c is '"'
			end := skipString(b, i)
			top.key = memberKind(b[i:end])
			top.expectKey = false
			cs[top.idx].count++
			i = end
			continue
		}
		end := i + 1
		switch c {
		case '[', '{':
		case '"':
			end = skipString(b, i)
		default:
			end = skipLiteral(b, i)
		}
		if top != nil {
			if top.object {
				switch top.key {
				case memberPlaceholder:
					top.placeholder = string(b[i:end]) == "true"
				case memberNum:
					top.num = nil
					if c == '-' || (c >= '0' && c <= '9') {
						top.num = b[i:end]
					}
				}
				top.expectKey = true
			} else {
				cs[top.idx].count++
			}
		}
		if c == '[' || c == '{' {
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("nested deeper than %d", maxDepth)
			}
			cs = append(cs, container{num: -1})
			stack = append(stack, scanFrame{idx: len(cs) - 1, object: c == '{', expectKey: c == '{'})
		}
		i = end
	}
	return cs, nil
}

// emitMsgpack is toMsgpack's second pass.
func emitMsgpack(enc *msgpack.Encoder, b []byte, cs []container, atts [][]byte) error {
	k := 0
	for i := 0; i < len(b); {
		var err error
		switch c := b[i]; c {
		case ' ', '\t', '\n', '\r', ',', ':', ']', '}':
			i++
			continue
		case '[':
			err = enc.EncodeArrayLen(cs[k].count)
			k, i = k+1, i+1
		case '{':
			if cs[k].placeholder {
				n := cs[k].num
				if n < 0 {
					return fmt.Errorf("placeholder num %q with %d attachments", cs[k].rawNum, len(atts))
				}
				att := atts[n]
				if att == nil {
					att = []byte{} // EncodeBytes writes nil for a nil slice
				}
				err = enc.EncodeBytes(att)
				k, i = cs[k].next, cs[k].end
				break
			}
			err = enc.EncodeMapLen(cs[k].count)
			k, i = k+1, i+1
		case '"':
			end := skipString(b, i)
			err = enc.EncodeString(unquote(b[i:end]))
			i = end
		case 't':
			err = enc.EncodeBool(true)
			i += len("true")
		case 'f':
			err = enc.EncodeBool(false)
			i += len("false")
		case 'n':
			err = enc.EncodeNil()
			i += len("null")
		default:
			end := skipLiteral(b, i)
			err = encodeNumber(enc, b[i:end])
			i = end
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// encodeNumber writes the JSON number lit: an integer literal that fits
// int64 or uint64 exactly, or any number whose float64 value is an integer
// in the int64 or uint64 range (1.0, 1e2, -0), as an int; anything else as
// float64 (±Inf for a literal beyond float64, as JSON.parse reads it).
func encodeNumber(enc *msgpack.Encoder, lit []byte) error {
	s := string(lit)
	if !bytes.ContainsAny(lit, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return enc.EncodeInt(n)
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return enc.EncodeUint(n)
		}
	}
	f, _ := strconv.ParseFloat(s, 64) // valid JSON: at worst out of range, ±Inf
	if f == math.Trunc(f) {
		switch {
		case f >= -(1<<63) && f < 1<<63:
			return enc.EncodeInt(int64(f))
		case f >= 0 && f < 1<<64:
			return enc.EncodeUint(uint64(f))
		}
	}
	return enc.EncodeFloat64(f)
}

// memberKind tells the keys a placeholder is made of from the others; key
// is the raw JSON string.
func memberKind(key []byte) int {
	switch string(key) {
	case `"_placeholder"`:
		return memberPlaceholder
	case `"num"`:
		return memberNum
	}
	if bytes.IndexByte(key, '\\') >= 0 {
		switch unquote(key) {
		case "_placeholder":
			return memberPlaceholder
		case "num":
			return memberNum
		}
	}
	return memberOther
}

// attachmentIndex reads the raw num of a placeholder: a JSON number holding
// an integer in [0, n), as socket.io-parser requires (CVE-2022-2421).
func attachmentIndex(num []byte, n int) (int, bool) {
	if num == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f >= float64(n) {
		return 0, false
	}
	return int(f), true
}

// skipString returns the offset past the JSON string starting at b[i], in
// valid JSON.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipLiteral returns the offset past the number, true, false or null at
// b[i], in valid JSON.
func skipLiteral(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// unquote returns the value of the valid JSON string s, quotes included.
// Invalid UTF-8 and lone surrogates become U+FFFD, as encoding/json does.
func unquote(s []byte) string {
	inner := s[1 : len(s)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var v string
	_ = json.Unmarshal(s, &v) // valid JSON: cannot fail
	return v
}

// ---------------------------------------------------------------------------
// msgpack -> JSON

// fromMsgpack reads one msgpack value from dec and returns it as JSON, with
// each bin replaced by a placeholder {"_placeholder":true,"num":N} and its
// bytes appended to atts. The JSON is what a Node server sends its clients
// for the value notepack.io decodes (JSON.stringify after socket.io-parser
// has taken the Buffers out):
//
//   - ext type -1 (timestamp 32, 64 and 96) and notepack 2's fixext8 type 0
//     are Dates: strings in Date's JSON form, "2024-01-02T03:04:05.678Z"
//     (UTC, whole milliseconds, truncated as Date does; null out of Date's
//     range); notepack 2's ext8/16/32 type 0 is an ArrayBuffer, binary like
//     bin; fixext1 type 0 is undefined: null in an array and at the top, the
//     key left out in a map. Other ext types are an error (notepack makes
//     [type, Buffer] pairs of them, which no socket.io peer sends);
//   - NaN and infinities are null, as in JSON.stringify; other numbers are
//     written as JavaScript prints them, integers with all their digits;
//   - strings are escaped as JSON.stringify escapes them, invalid UTF-8
//     replaced by U+FFFD per maximal subpart (as Node's decoder does);
//   - map keys must be strings.
//
// A value holding both a bin and a map whose "_placeholder" is true is an
// error: the JSON could not tell the real placeholders from the fake one.
//
// Untrusted input cannot make it allocate much more than it reads: lengths
// from the input are never used to preallocate. Arrays and maps are
// written element by element (a header claiming 2^32 elements fails at the
// end of the input), and str, bin and ext data are read in chunks that grow
// as the bytes arrive (dec.DecodeBytes would allocate the claimed length
// up front). Nesting is bounded by maxDepth.
func fromMsgpack(dec *msgpack.Decoder) (data json.RawMessage, atts [][]byte, err error) {
	data, atts, undefined, err := decodeJSONValue(dec)
	if err != nil {
		return nil, nil, err
	}
	if undefined {
		data = json.RawMessage("null")
	}
	return data, atts, nil
}

// decodeJSONValue is fromMsgpack for a value that may be absent: undefined
// reports a top-level undefined, and data is nil then.
func decodeJSONValue(dec *msgpack.Decoder) (data json.RawMessage, atts [][]byte, undefined bool, err error) {
	w := jsonWriter{dec: dec}
	undefined, err = w.value(0)
	if err != nil {
		return nil, nil, false, err
	}
	if w.fakePlaceholder && len(w.atts) > 0 {
		return nil, nil, false, errors.New(`binary data next to an object whose "_placeholder" is true`)
	}
	if undefined {
		return nil, nil, true, nil
	}
	return w.buf, w.atts, false, nil
}

// jsonWriter holds the state of one decodeJSONValue.
type jsonWriter struct {
	dec             *msgpack.Decoder
	buf             []byte
	atts            [][]byte
	fakePlaceholder bool // a map had "_placeholder": true
}

// value appends the next value as JSON, or nothing if it is undefined.
// depth is the number of enclosing arrays and maps.
func (w *jsonWriter) value(depth int) (undefined bool, err error) {
	dec := w.dec
	c, err := dec.PeekCode()
	if err != nil {
		return false, err
	}
	switch {
	case msgpcode.IsFixedNum(c), c == msgpcode.Int8, c == msgpcode.Int16, c == msgpcode.Int32, c == msgpcode.Int64:
		n, err := dec.DecodeInt64()
		w.buf = strconv.AppendInt(w.buf, n, 10)
		return false, err
	case c == msgpcode.Uint8, c == msgpcode.Uint16, c == msgpcode.Uint32, c == msgpcode.Uint64:
		n, err := dec.DecodeUint64()
		w.buf = strconv.AppendUint(w.buf, n, 10)
		return false, err
	case c == msgpcode.Nil:
		w.buf = append(w.buf, "null"...)
		return false, dec.DecodeNil()
	case c == msgpcode.False, c == msgpcode.True:
		b, err := dec.DecodeBool()
		w.buf = strconv.AppendBool(w.buf, b)
		return false, err
	case c == msgpcode.Float:
		f, err := dec.DecodeFloat32()
		w.buf = appendJSNumber(w.buf, float64(f))
		return false, err
	case c == msgpcode.Double:
		f, err := dec.DecodeFloat64()
		w.buf = appendJSNumber(w.buf, f)
		return false, err
	case msgpcode.IsString(c):
		s, err := readStr(dec)
		if err != nil {
			return false, err
		}
		w.buf = appendJSString(w.buf, s)
		return false, nil
	case msgpcode.IsBin(c):
		n, err := dec.DecodeBytesLen()
		if err != nil {
			return false, err
		}
		b, err := readBytes(dec, n)
		if err != nil {
			return false, err
		}
		w.placeholder(b)
		return false, nil
	case msgpcode.IsFixedArray(c), c == msgpcode.Array16, c == msgpcode.Array32:
		return false, w.array(depth)
	case msgpcode.IsFixedMap(c), c == msgpcode.Map16, c == msgpcode.Map32:
		return false, w.object(depth)
	case msgpcode.IsExt(c):
		return w.ext(c)
	}
	return false, fmt.Errorf("invalid msgpack code 0x%02x", c)
}

func (w *jsonWriter) array(depth int) error {
	if depth >= maxDepth {
		return fmt.Errorf("nested deeper than %d", maxDepth)
	}
	n, err := w.dec.DecodeArrayLen()
	if err != nil {
		return err
	}
	w.buf = append(w.buf, '[')
	for i := range n {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		undefined, err := w.value(depth + 1)
		if err != nil {
			return err
		}
		if undefined {
			w.buf = append(w.buf, "null"...)
		}
	}
	w.buf = append(w.buf, ']')
	return nil
}

func (w *jsonWriter) object(depth int) error {
	if depth >= maxDepth {
		return fmt.Errorf("nested deeper than %d", maxDepth)
	}
	n, err := w.dec.DecodeMapLen()
	if err != nil {
		return err
	}
	w.buf = append(w.buf, '{')
	members := 0
	for range n {
		key, err := readKey(w.dec)
		if err != nil {
			return err
		}
		mark := len(w.buf)
		if members > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = appendJSString(w.buf, key)
		w.buf = append(w.buf, ':')
		start := len(w.buf)
		undefined, err := w.value(depth + 1)
		if err != nil {
			return err
		}
		if undefined { // JSON.stringify leaves the key out
			w.buf = w.buf[:mark]
			continue
		}
		if string(key) == "_placeholder" && string(w.buf[start:]) == "true" {
			w.fakePlaceholder = true
		}
		members++
	}
	w.buf = append(w.buf, '}')
	return nil
}

func (w *jsonWriter) placeholder(b []byte) {
	w.buf = append(w.buf, `{"_placeholder":true,"num":`...)
	w.buf = strconv.AppendInt(w.buf, int64(len(w.atts)), 10)
	w.buf = append(w.buf, '}')
	w.atts = append(w.atts, b)
}

// ext handles the extension types notepack.io 3.0.1 decodes.
func (w *jsonWriter) ext(code byte) (undefined bool, err error) {
	id, n, err := w.dec.DecodeExtHeader()
	if err != nil {
		return false, err
	}
	switch {
	case code == msgpcode.FixExt1 && id == 0: // undefined
		var b [1]byte
		return true, w.dec.ReadFull(b[:])
	case id == 0 && (code == msgpcode.Ext8 || code == msgpcode.Ext16 || code == msgpcode.Ext32): // ArrayBuffer
		b, err := readBytes(w.dec, n)
		if err != nil {
			return false, err
		}
		w.placeholder(b)
		return false, nil
	case id == 0 && code == msgpcode.FixExt8, // notepack 2's Date
		id == -1 && (code == msgpcode.FixExt4 || code == msgpcode.FixExt8 || (code == msgpcode.Ext8 && n == 12)):
		var b [12]byte
		if err := w.dec.ReadFull(b[:n]); err != nil {
			return false, err
		}
		w.buf = appendJSDate(w.buf, extDateMillis(id, b[:n]))
		return false, nil
	}
	return false, fmt.Errorf("unsupported msgpack ext type %d (%d bytes)", id, n)
}

// extDateMillis returns the time value of a Date extension, computed in
// float64 as notepack.io does (the explicit conversions keep Go from fusing
// the multiply-adds, which would round differently).
func extDateMillis(id int8, b []byte) float64 {
	be32 := func(b []byte) uint32 { return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) }
	switch {
	case id == 0: // int64 ms as hi * 2^32 + lo
		return float64(float64(int32(be32(b[0:4])))*4294967296) + float64(be32(b[4:8]))
	case len(b) == 4: // timestamp 32: uint32 seconds
		return float64(be32(b)) * 1e3
	case len(b) == 8: // timestamp 64: 30-bit ns, 34-bit seconds
		hi, lo := be32(b[0:4]), be32(b[4:8])
		s := float64(hi&3)*4294967296 + float64(lo)
		return float64(s*1e3) + float64(float64(hi>>2)/1e6)
	default: // timestamp 96: uint32 ns, int64 seconds
		ns, hi, lo := be32(b[0:4]), int32(be32(b[4:8])), be32(b[8:12])
		s := float64(float64(hi)*4294967296) + float64(lo)
		return float64(s*1e3) + float64(float64(ns)/1e6)
	}
}

// appendJSDate appends the JSON of new Date(ms): its toISOString, or null
// for an invalid Date.
func appendJSDate(dst []byte, ms float64) []byte {
	if math.IsNaN(ms) || math.Abs(ms) > jsDateMax {
		return append(dst, "null"...)
	}
	t := time.UnixMilli(int64(ms)).UTC() // int64 truncates toward zero, as TimeClip
	dst = append(dst, '"')
	switch y := t.Year(); {
	case y >= 0 && y <= 9999:
		dst = appendDigits(dst, y, 4)
	case y < 0:
		dst = appendDigits(append(dst, '-'), -y, 6)
	default:
		dst = appendDigits(append(dst, '+'), y, 6)
	}
	dst = appendDigits(append(dst, '-'), int(t.Month()), 2)
	dst = appendDigits(append(dst, '-'), t.Day(), 2)
	dst = appendDigits(append(dst, 'T'), t.Hour(), 2)
	dst = appendDigits(append(dst, ':'), t.Minute(), 2)
	dst = appendDigits(append(dst, ':'), t.Second(), 2)
	dst = appendDigits(append(dst, '.'), t.Nanosecond()/1e6, 3)
	return append(dst, 'Z', '"')
}

// appendDigits appends n >= 0 zero-padded to width digits.
func appendDigits(dst []byte, n, width int) []byte {
	var b [20]byte
	s := strconv.AppendInt(b[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// readKey reads a map key, which must be a string.
func readKey(dec *msgpack.Decoder) ([]byte, error) {
	c, err := dec.PeekCode()
	if err != nil {
		return nil, err
	}
	if !msgpcode.IsString(c) {
		return nil, fmt.Errorf("map key is not a string (msgpack code 0x%02x)", c)
	}
	return readStr(dec)
}

// readStr reads a str (the next code must be one).
func readStr(dec *msgpack.Decoder) ([]byte, error) {
	n, err := dec.DecodeBytesLen() // also reads str lengths
	if err != nil {
		return nil, err
	}
	return readBytes(dec, n)
}

// readBytes reads n bytes, allocating as they arrive rather than trusting n:
// readChunk first, then never more than twice what was read so far.
func readBytes(dec *msgpack.Decoder, n int) ([]byte, error) {
	if n < 0 {
		return nil, errors.New("negative length")
	}
	b := make([]byte, 0, min(n, readChunk))
	for len(b) < n {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(n-len(b), len(b)))
		}
		m := min(n, cap(b))
		if err := dec.ReadFull(b[len(b):m]); err != nil {
			return nil, err
		}
		b = b[:m]
	}
	return b, nil
}

// appendJSString appends s as JSON.stringify writes a string: only '"', '\\'
// and control characters are escaped. Invalid UTF-8 becomes U+FFFD, one per
// maximal subpart, as Node's UTF-8 decoder (WHATWG) does.
func appendJSString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i += maximalSubpart(s[i:])
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			const hex = "0123456789abcdef"
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// maximalSubpart returns the length of the maximal subpart of an ill-formed
// UTF-8 sequence at the start of b (Unicode 3.9, "U+FFFD substitution of
// maximal subparts"): the longest prefix of a well-formed sequence, at
// least one byte.
func maximalSubpart(b []byte) int {
	n, lo, hi := 0, byte(0x80), byte(0xBF)
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		n = 2
	case c == 0xE0:
		n, lo = 3, 0xA0
	case c == 0xED:
		n, hi = 3, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		n = 3
	case c == 0xF0:
		n, lo = 4, 0x90
	case c == 0xF4:
		n, hi = 4, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		n = 4
	default:
		return 1
	}
	i := 1
	for ; i < n && i < len(b) && b[i] >= lo && b[i] <= hi; i++ {
		lo, hi = 0x80, 0xBF
	}
	return i
}

// appendJSNumber appends f as JSON.stringify writes a number: JavaScript's
// Number::toString (shortest round-trip digits; exponent form below 1e-6
// and from 1e21), null for NaN and the infinities, 0 for -0.
func appendJSNumber(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return append(dst, "null"...)
	case f == 0:
		return append(dst, '0')
	case f == math.Trunc(f) && math.Abs(f) < 1<<53:
		return strconv.AppendInt(dst, int64(f), 10)
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	// The shortest digits d1.d2...dk e x; ECMAScript calls them s (k digits)
	// and n = x+1.
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	mant, exp, _ := bytes.Cut(e, []byte{'e'})
	x, _ := strconv.Atoi(string(exp))
	var digits [24]byte
	k := 0
	for _, c := range mant {
		if c != '.' {
			digits[k] = c
			k++
		}
	}
	d, n := digits[:k], x+1
	switch {
	case k <= n && n <= 21:
		dst = append(dst, d...)
		for range n - k {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, d[:n]...)
		dst = append(dst, '.')
		dst = append(dst, d[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for range -n {
			dst = append(dst, '0')
		}
		dst = append(dst, d...)
	default:
		dst = append(dst, d[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, d[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst
}
