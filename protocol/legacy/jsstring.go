package legacy

import "unicode/utf8"

// escapes selects what appendJSString escapes beyond JSON.stringify.
type escapes uint8

const (
	// jsonEscapes is JSON.stringify exactly.
	jsonEscapes escapes = 0
	// scriptEscapes also escapes U+2028 and U+2029, which end a string
	// literal in pre-2019 JavaScript: the text goes into a <script>.
	scriptEscapes escapes = 1 << iota
	// slashEscape also writes '/' as "\/", as Node's htmlfile transport
	// does so that "</script>" cannot close the script (GH-1251).
	slashEscape
)

const hexDigits = "0123456789abcdef"

// appendJSString appends s as a JSON string literal the way JavaScript's
// JSON.stringify writes it: only '"', '\\' and control characters are
// escaped, the latter as \b \t \n \f \r or \u00xx. Bytes that are not
// UTF-8 become U+FFFD, as they would in a JavaScript string.
func appendJSString[S ~string | ~[]byte](dst []byte, s S, esc escapes) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var rep string
			switch {
			case c == '"':
				rep = `\"`
			case c == '\\':
				rep = `\\`
			case c == '/' && esc&slashEscape != 0:
				rep = `\/`
			case c >= 0x20:
				i++
				continue
			case c == '\b':
				rep = `\b`
			case c == '\t':
				rep = `\t`
			case c == '\n':
				rep = `\n`
			case c == '\f':
				rep = `\f`
			case c == '\r':
				rep = `\r`
			}
			dst = append(dst, s[start:i]...)
			if rep != "" {
				dst = append(dst, rep...)
			} else {
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := decodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
		case (r == '\u2028' || r == '\u2029') && esc&scriptEscapes != 0:
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func decodeRune[S ~string | ~[]byte](s S) (rune, int) {
	switch v := any(s).(type) {
	case string:
		return utf8.DecodeRuneInString(v)
	case []byte:
		return utf8.DecodeRune(v)
	}
	return utf8.DecodeRuneInString(string(s))
}
