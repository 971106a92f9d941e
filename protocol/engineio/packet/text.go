package packet

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf8"
)

// errorf wraps sentinel with a formatted context message. It is only used
// on error paths, so fmt is fine here.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

// highBits has the high bit of every byte of a 64-bit word set.
const highBits = 0x8080808080808080

// wordUnits returns the UTF-16 length of the 8 bytes of valid UTF-8 in w
// (see unitsOfByte): 8, less one per continuation byte (10xxxxxx), plus
// one per lead byte of a 4-byte sequence (11110xxx).
func wordUnits(w uint64) int {
	cont := w &^ (w << 1) & highBits
	four := w & (w << 1) & (w << 2) & (w << 3) & highBits
	return 8 - bits.OnesCount64(cont) + bits.OnesCount64(four)
}

// unitsOfByte is the share of one byte of valid UTF-8 in the UTF-16 length
// of the text: 0 for a continuation byte, 2 for the lead byte of a 4-byte
// sequence (a surrogate pair), 1 otherwise.
func unitsOfByte(c byte) int {
	switch {
	case c < 0x80:
		return 1
	case c < 0xC0:
		return 0
	case c < 0xF0:
		return 1
	default:
		return 2
	}
}

// utf16Len returns the number of UTF-16 code units of the text b (what
// JavaScript's String.length reports for it) and whether b is valid UTF-8.
// For invalid input the count is meaningless; see validUTF8Len.
func utf16Len(b []byte) (int, bool) {
	n := 0
	i := 0
	for ; i+8 <= len(b); i += 8 {
		n += wordUnits(binary.LittleEndian.Uint64(b[i:]))
	}
	for _, c := range b[i:] {
		n += unitsOfByte(c)
	}
	return n, utf8.Valid(b)
}

// advanceUTF16 returns the byte length of the prefix of b that holds n
// UTF-16 code units and ends on a character boundary, or -1 when there is
// none (b is too short, or the n-th unit is the first half of a surrogate
// pair). It does not validate: the result is exact when b[:end] is valid
// UTF-8, which the caller checks.
func advanceUTF16(b []byte, n int) int {
	units, i := 0, 0
	// A word adds at most 16 units (eight 4-byte lead bytes, in invalid
	// input), so whole words cannot overshoot while 16 are missing.
	for n-units >= 16 && i+8 <= len(b) {
		units += wordUnits(binary.LittleEndian.Uint64(b[i:]))
		i += 8
	}
	for ; i < len(b); i++ {
		c := b[i]
		if units == n && (c < 0x80 || c >= 0xC0) {
			return i
		}
		if units += unitsOfByte(c); units > n {
			return -1
		}
	}
	if units == n {
		return i
	}
	return -1
}

// maximalSubpart returns the length of the maximal subpart of an ill-formed
// UTF-8 sequence at the start of b (b is non-empty and utf8.DecodeRune
// fails on it). Decoders that follow the WHATWG Encoding standard, such as
// browsers and Node, replace each maximal subpart with one U+FFFD.
func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF) // range of the second byte
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(b); n++ {
		if b[n] < lo || b[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return n
}

// appendValidUTF8 appends b to dst with every ill-formed sequence replaced
// by U+FFFD the way browsers decode it, and returns the new slice and the
// UTF-16 length of what it appended.
func appendValidUTF8(dst, b []byte) ([]byte, int) {
	units := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
			b = b[maximalSubpart(b):]
			units++
			continue
		}
		dst = append(dst, b[:size]...)
		b = b[size:]
		if size == 4 {
			units += 2
		} else {
			units++
		}
	}
	return dst, units
}

// validUTF8Len returns the byte length of b after appendValidUTF8 and the
// UTF-16 length of the result.
func validUTF8Len(b []byte) (size, units int) {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			b = b[maximalSubpart(b):]
			size += 3
			units++
			continue
		}
		b = b[n:]
		size += n
		if n == 4 {
			units += 2
		} else {
			units++
		}
	}
	return size, units
}

// appendBase64 appends the padded standard base64 of src, as Node's
// Buffer.toString("base64") writes it.
func appendBase64(dst, src []byte) []byte {
	return base64.StdEncoding.AppendEncode(dst, src)
}

// decodeBase64 decodes padded standard base64 into a new slice (nil when
// empty). Line breaks, which encoding/base64 would skip, are rejected.
func decodeBase64(s []byte) ([]byte, error) {
	if len(s) == 0 {
		return nil, nil
	}
	if bytes.IndexByte(s, '\n') >= 0 || bytes.IndexByte(s, '\r') >= 0 {
		return nil, errorf(ErrInvalidPacket, "invalid base64: line break")
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(out, s)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid base64: %w", ErrInvalidPacket, err)
	}
	return nilIfEmpty(out[:n]), nil
}

// decimalLen returns the number of decimal digits of n (n >= 0).
func decimalLen(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}
