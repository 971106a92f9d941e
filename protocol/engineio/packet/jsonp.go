package packet

import (
	"bytes"
	"unicode/utf8"
)

// maxJSONPIndexLen bounds the digits of a JSONP index.
const maxJSONPIndexLen = 16

// ValidJSONPIndex reports whether index, the j query parameter of a
// revision-3 JSONP polling request, is usable: 1 to 16 ASCII digits.
// engine.io-client sends the index of its callback in the page's ___eio
// array. Callers should answer a request with an invalid index with 400
// rather than pass it to EncodeJSONP.
func ValidJSONPIndex(index string) bool {
	if len(index) == 0 || len(index) > maxJSONPIndexLen {
		return false
	}
	for i := 0; i < len(index); i++ {
		if index[i] < '0' || index[i] > '9' {
			return false
		}
	}
	return true
}

// EncodeJSONP wraps a revision-3 text payload (EncodePayload with
// supportsBinary false; JSONP clients always ask for b64) in the script
// engine.io 3 answers a JSONP poll with: ___eio[index]("payload");
//
// The payload becomes a string literal exactly as JSON.stringify writes it
// (quote, backslash and control characters escaped, everything else as
// UTF-8), with U+2028 and U+2029 then escaped as \u2028 and \u2029 so the
// result is valid JavaScript. Callers validate index with ValidJSONPIndex;
// as a safeguard EncodeJSONP drops any non-digit from it, as engine.io
// does, so the output is always a single well-formed call.
func EncodeJSONP(index string, payload []byte) []byte {
	dst := make([]byte, 0, len("___eio[](\"\");")+len(index)+len(payload)+len(payload)/8)
	dst = append(dst, "___eio["...)
	for i := 0; i < len(index); i++ {
		if c := index[i]; c >= '0' && c <= '9' {
			dst = append(dst, c)
		}
	}
	dst = append(dst, "]("...)
	dst = appendJSString(dst, payload, true)
	return append(dst, ");"...)
}

// appendJSString appends s as a JSON string literal written the way
// JSON.stringify writes it. When script is true, U+2028 and U+2029 are
// escaped too. Ill-formed UTF-8 becomes U+FFFD, as a JavaScript string
// decoded from it would hold.
func appendJSString(dst, s []byte, script bool) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0 // start of the run of bytes copied as they are
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		var esc string
		size := 1
		switch c {
		case '"':
			esc = `\"`
		case '\\':
			esc = `\\`
		case '\b':
			esc = `\b`
		case '\t':
			esc = `\t`
		case '\n':
			esc = `\n`
		case '\f':
			esc = `\f`
		case '\r':
			esc = `\r`
		default:
			if c < 0x20 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
				i++
				start = i
				continue
			}
			var r rune
			r, size = utf8.DecodeRune(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				size = maximalSubpart(s[i:])
				esc = "\uFFFD"
			case script && r == '\u2028':
				esc = `\u2028`
			case script && r == '\u2029':
				esc = `\u2029`
			default:
				i += size
				continue
			}
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, esc...)
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// DecodeJSONPBody extracts the payload from the body of a revision-3 JSONP
// POST: an application/x-www-form-urlencoded form whose field d holds the
// payload. Like engine.io 3, it then undoes the newline escaping of
// engine.io-client (which sends a newline as the two characters \n and the
// two characters \n as \\n): every \n not preceded by a backslash becomes
// a newline, then every \\n becomes \n.
//
// The result is a new slice, to be passed to DecodePayload(3, result,
// false, …). Errors wrap ErrInvalidJSONP: no d field or more than one
// (engine.io ignores such a body), or a percent sign not followed by two
// hex digits (engine.io keeps those as they are).
func DecodeJSONPBody(form []byte) ([]byte, error) {
	var value []byte
	found := false
	for rest := form; len(rest) > 0; {
		pair := rest
		if i := bytes.IndexByte(rest, '&'); i >= 0 {
			pair, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if len(pair) == 0 {
			continue
		}
		key, val := pair, []byte(nil)
		if i := bytes.IndexByte(pair, '='); i >= 0 {
			key, val = pair[:i], pair[i+1:]
		}
		if !isFieldD(key) {
			continue
		}
		if found {
			return nil, errorf(ErrInvalidJSONP, "more than one d field")
		}
		found = true
		value = val
	}
	if !found {
		return nil, errorf(ErrInvalidJSONP, "no d field")
	}
	out, err := appendUnescaped(make([]byte, 0, len(value)), value)
	if err != nil {
		return nil, err
	}
	return unescapeNewlines(out), nil
}

// isFieldD reports whether the form key, once unescaped, is "d".
func isFieldD(key []byte) bool {
	return string(key) == "d" || string(key) == "%64"
}

// appendUnescaped appends the form-urlencoded value s, decoded ("+" is a
// space, %XX a byte), to dst.
func appendUnescaped(dst, s []byte) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			dst = append(dst, ' ')
		case '%':
			if i+2 >= len(s) {
				return nil, errorf(ErrInvalidJSONP, "byte %d: truncated percent escape", i)
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return nil, errorf(ErrInvalidJSONP, "byte %d: bad percent escape", i)
			}
			dst = append(dst, hi<<4|lo)
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst, nil
}

// unhex returns the value of the hex digit c.
func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unescapeNewlines undoes engine.io-client's JSONP newline escaping in
// place, with the two passes engine.io 3 makes: \n (not preceded by a
// backslash) becomes a newline, \\n is kept; then \\n becomes \n.
func unescapeNewlines(b []byte) []byte {
	if bytes.IndexByte(b, '\\') < 0 {
		return b
	}
	// First pass, in place: the output never outgrows the input.
	w := 0
	for i := 0; i < len(b); {
		switch {
		case b[i] == '\\' && i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'n':
			w += copy(b[w:], b[i:i+3])
			i += 3
		case b[i] == '\\' && i+1 < len(b) && b[i+1] == 'n':
			b[w] = '\n'
			w++
			i += 2
		default:
			b[w] = b[i]
			w++
			i++
		}
	}
	b = b[:w]
	// Second pass: \\n becomes \n.
	w = 0
	for i := 0; i < len(b); {
		if b[i] == '\\' && i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'n' {
			b[w], b[w+1] = '\\', 'n'
			w += 2
			i += 3
			continue
		}
		b[w] = b[i]
		w++
		i++
	}
	return b[:w]
}
