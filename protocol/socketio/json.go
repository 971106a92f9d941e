package socketio

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// This file holds the small JSON helpers the codec needs beyond encoding/json:
// splitting and walking already validated JSON without allocating, and writing
// strings and numbers the way JavaScript's JSON.stringify does, so frames match
// Node's byte for byte.

// isSpace reports whether c is JSON whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first non-whitespace byte of b at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the JSON string that starts with the
// quote at b[i].
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

// skipValue returns the index just past the JSON value starting at b[i]. b must
// be valid JSON (json.Valid) and b[i] the first byte of a value; on other input
// the result is meaningless but stays within len(b).
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	// number, true, false, null
	for i < len(b) {
		switch b[i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// unquote returns the value of the JSON string literal s (quotes included). s
// must be a valid JSON string. Invalid UTF-8 becomes U+FFFD, as encoding/json does.
func unquote(s []byte) string {
	inner := s[1 : len(s)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var v string
	if json.Unmarshal(s, &v) != nil {
		return string(inner) // unreachable for valid input
	}
	return v
}

// keyIs reports whether the JSON string literal key (quotes included) has the
// value name.
func keyIs(key []byte, name string) bool {
	if len(key) == len(name)+2 && string(key[1:len(key)-1]) == name {
		return true
	}
	return bytes.IndexByte(key, '\\') >= 0 && unquote(key) == name
}

// placeholderRef locates one placeholder object in a JSON text.
type placeholderRef struct {
	start, end int    // the object is b[start:end]
	num        []byte // the raw value of its "num" member, nil when absent
}

// findPlaceholders appends to refs the placeholders of the valid JSON value b,
// in document order. A placeholder is an object whose "_placeholder" member is
// true; like Node, it does not look inside a placeholder for more.
func findPlaceholders(b []byte, refs []placeholderRef) []placeholderRef {
	w := placeholderWalker{b: b, refs: refs}
	w.value(skipSpace(b, 0))
	return w.refs
}

type placeholderWalker struct {
	b    []byte
	refs []placeholderRef
}

func (w *placeholderWalker) value(i int) int {
	b := w.b
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '{':
		return w.object(i)
	case '[':
		i = skipSpace(b, i+1)
		for i < len(b) && b[i] != ']' {
			i = skipSpace(b, w.value(i))
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
			}
		}
		return i + 1
	}
	return skipValue(b, i)
}

// object walks the object at b[start] in one pass: placeholders found in its
// members are dropped again if the object itself turns out to be one, which keeps
// deeply nested input linear.
func (w *placeholderWalker) object(start int) int {
	b := w.b
	mark := len(w.refs)
	isPlaceholder := false
	var num []byte
	i := skipSpace(b, start+1)
	for i < len(b) && b[i] == '"' {
		keyEnd := skipString(b, i)
		key := b[i:keyEnd]
		i = skipSpace(b, keyEnd)
		if i < len(b) && b[i] == ':' {
			i = skipSpace(b, i+1)
		}
		valStart := i
		i = w.value(i)
		switch {
		case keyIs(key, "_placeholder"):
			isPlaceholder = string(b[valStart:i]) == "true"
		case keyIs(key, "num"):
			num = b[valStart:i]
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	end := i + 1 // past '}'
	if isPlaceholder {
		w.refs = append(w.refs[:mark], placeholderRef{start: start, end: end, num: num})
	}
	return end
}

// attachmentIndex parses the raw num of a placeholder: it must be a JSON number
// holding an integer in [0, n).
func attachmentIndex(num []byte, n int) (int, bool) {
	if len(num) == 0 || (num[0] != '-' && (num[0] < '0' || num[0] > '9')) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(num), 64)
	return floatIndex(f, err == nil, n)
}

func floatIndex(f float64, ok bool, n int) (int, bool) {
	if !ok || f != math.Trunc(f) || f < 0 || f >= float64(n) {
		return 0, false
	}
	return int(f), true
}

// appendString appends s as a JSON string the way JSON.stringify writes it: only
// '"', '\\' and control characters are escaped (no HTML escaping, unlike
// encoding/json). Invalid UTF-8 is written as \ufffd.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
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

// appendJSNumber appends f formatted like JavaScript's Number.prototype.toString
// (ECMAScript Number::toString), which is also what JSON.stringify writes:
// 1e21 is "1e+21", 1e-7 is "1e-7", 0.000001 is "0.000001", -0 is "0". It
// reports false for NaN and the infinities, which have no JSON form.
func appendJSNumber(dst []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, false
	}
	if f == 0 {
		return append(dst, '0'), true
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendInt(dst, int64(f), 10), true
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	// Shortest round-trip digits d1.d2d3...e±x; in ECMAScript's terms the
	// digits are s (k of them) and n = x+1.
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	mant, exp, _ := bytes.Cut(e, []byte{'e'})
	x, _ := strconv.Atoi(string(exp))
	digits := make([]byte, 0, 20)
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	k, n := len(digits), x+1
	switch {
	case k <= n && n <= 21:
		dst = append(dst, digits...)
		for j := 0; j < n-k; j++ {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, digits[:n]...)
		dst = append(dst, '.')
		dst = append(dst, digits[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for j := 0; j < -n; j++ {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	default:
		dst = append(dst, digits[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst, true
}

// jsNumberName returns the event name a numeric first argument stands for: Node
// keys listeners by the number's string form (emit(1) reaches on("1")).
func jsNumberName(raw []byte) string {
	f, _ := strconv.ParseFloat(string(raw), 64)
	switch {
	case math.IsInf(f, 1): // beyond float64, as JSON.parse reads it
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	b, _ := appendJSNumber(make([]byte, 0, 24), f)
	return string(b)
}
