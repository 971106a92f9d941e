package legacy

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// frameMark is U+FFFD, which brackets each length of a multi-packet payload.
const frameMark = "\ufffd"

// maxLenDigits bounds the length field of a frame: ten digits are far
// above any payload a server accepts.
const maxLenDigits = 10

// EncodeFrames joins encoded packets into one polling payload, as Node's
// encodePayload does: a single packet is sent bare, several as
// "\ufffd<len>\ufffd<packet>" each, where len counts UTF-16 code units (the
// JavaScript string length), not bytes. No packets give an empty payload.
func EncodeFrames(pkts ...[]byte) []byte {
	switch len(pkts) {
	case 0:
		return []byte{}
	case 1:
		return append([]byte(nil), pkts[0]...)
	}
	n := 0
	for _, p := range pkts {
		n += len(p) + 2*len(frameMark) + maxLenDigits
	}
	out := make([]byte, 0, n)
	for _, p := range pkts {
		out = append(out, frameMark...)
		out = strconv.AppendInt(out, int64(UTF16Len(p)), 10)
		out = append(out, frameMark...)
		out = append(out, p...)
	}
	return out
}

// DecodeFrames splits a polling payload into its encoded packets, which
// alias b. A payload that does not start with U+FFFD is one bare packet; an
// empty payload holds none. Otherwise every frame must be
// "\ufffd<digits>\ufffd" followed by exactly that many UTF-16 code units,
// neither zero nor splitting a surrogate pair, up to the end of b; anything
// else fails with an error wrapping ErrInvalidPayload (where Node drops
// what it cannot read). Bytes that are not UTF-8 count as one unit each.
// DecodeFrames runs in linear time and never panics.
func DecodeFrames(b []byte) ([][]byte, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if !hasMark(b, 0) {
		return [][]byte{b[:len(b):len(b)]}, nil
	}
	var out [][]byte
	i := 0
	for i < len(b) {
		if !hasMark(b, i) {
			return nil, fmt.Errorf("%w: no U+FFFD at byte %d", ErrInvalidPayload, i)
		}
		i += len(frameMark)
		start := i
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if i-start == maxLenDigits {
				return nil, fmt.Errorf("%w: length longer than %d digits", ErrInvalidPayload, maxLenDigits)
			}
			n = n*10 + int(b[i]-'0')
			i++
		}
		if i == start {
			return nil, fmt.Errorf("%w: no length at byte %d", ErrInvalidPayload, start)
		}
		if !hasMark(b, i) {
			return nil, fmt.Errorf("%w: no U+FFFD after the length at byte %d", ErrInvalidPayload, i)
		}
		i += len(frameMark)
		if n == 0 {
			return nil, fmt.Errorf("%w: empty packet at byte %d", ErrInvalidPayload, i)
		}
		end, ok := skipUTF16(b, i, n)
		if !ok {
			return nil, fmt.Errorf("%w: length %d runs past the payload or splits a character", ErrInvalidPayload, n)
		}
		out = append(out, b[i:end:end])
		i = end
	}
	return out, nil
}

func hasMark(b []byte, i int) bool {
	return len(b)-i >= len(frameMark) && string(b[i:i+len(frameMark)]) == frameMark
}

// skipUTF16 returns the byte offset n UTF-16 code units after b[i:], and
// false when b ends first or the last character would be cut in half.
func skipUTF16(b []byte, i, n int) (int, bool) {
	for n > 0 {
		if i >= len(b) {
			return 0, false
		}
		r, size := utf8.DecodeRune(b[i:])
		units := 1
		if r >= 0x10000 {
			units = 2
		}
		if units > n {
			return 0, false
		}
		n -= units
		i += size
	}
	return i, true
}

// UTF16Len returns the length of b as a JavaScript string: the number of
// UTF-16 code units of its characters, a byte that is not UTF-8 counting
// as one.
func UTF16Len(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}
