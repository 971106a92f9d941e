package packet

import (
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf16"
)

// TestValidUTF8MatchesBrowsers checks the U+FFFD replacement against the
// output of the WHATWG decoder (Node's TextDecoder) for the same bytes.
func TestValidUTF8MatchesBrowsers(t *testing.T) {
	tests := []struct {
		in, want string // hex
		units    int    // JavaScript String.length of the decoded text
	}{
		{"80", "efbfbd", 1},
		{"bf", "efbfbd", 1},
		{"c0", "efbfbd", 1},
		{"c1", "efbfbd", 1},
		{"c2", "efbfbd", 1},
		{"c241", "efbfbd41", 2},
		{"dfbf", "dfbf", 1},
		{"e0", "efbfbd", 1},
		{"e080", "efbfbdefbfbd", 2},
		{"e0a0", "efbfbd", 1},
		{"e0a080", "e0a080", 1},
		{"e09f80", "efbfbdefbfbdefbfbd", 3},
		{"ed80", "efbfbd", 1},
		{"eda080", "efbfbdefbfbdefbfbd", 3},
		{"ed9fbf", "ed9fbf", 1},
		{"efbf", "efbfbd", 1},
		{"efbfbd", "efbfbd", 1},
		{"f0", "efbfbd", 1},
		{"f080", "efbfbdefbfbd", 2},
		{"f090", "efbfbd", 1},
		{"f09080", "efbfbd", 1},
		{"f0908080", "f0908080", 2},
		{"f08fbfbf", "efbfbdefbfbdefbfbdefbfbd", 4},
		{"f48fbfbf", "f48fbfbf", 2},
		{"f4908080", "efbfbdefbfbdefbfbdefbfbd", 4},
		{"f5808080", "efbfbdefbfbdefbfbdefbfbd", 4},
		{"f888808080", "efbfbdefbfbdefbfbdefbfbdefbfbd", 5},
		{"fe", "efbfbd", 1},
		{"ff", "efbfbd", 1},
		{"e180c262", "efbfbdefbfbd62", 3},
		{"f18080e180c262806380bf64", "efbfbdefbfbdefbfbd62efbfbd63efbfbdefbfbd64", 9},
		{"41e282", "41efbfbd", 2},
		{"e28241", "efbfbd41", 2},
		{"f09f98", "efbfbd", 1},
		{"f09f9880f09f", "f09f9880efbfbd", 3},
	}
	for _, tt := range tests {
		in, _ := hex.DecodeString(tt.in)
		got, units := appendValidUTF8(nil, in)
		if hex.EncodeToString(got) != tt.want || units != tt.units {
			t.Errorf("appendValidUTF8(%s) = %x, %d units; want %s, %d", tt.in, got, units, tt.want, tt.units)
		}
		size, units := validUTF8Len(in)
		if size != len(got) || units != tt.units {
			t.Errorf("validUTF8Len(%s) = %d, %d; want %d, %d", tt.in, size, units, len(got), tt.units)
		}
		// A JSON string of the same bytes holds the same replacement (no
		// vector has bytes that JSON escapes).
		if js, want := appendJSString(nil, in, true), `"`+string(got)+`"`; string(js) != want {
			t.Errorf("appendJSString(%s) = %q, want %q", tt.in, js, want)
		}
	}
}

func TestUTF16Len(t *testing.T) {
	for _, s := range []string{"", "a", "é", "€", "😀", "𝄞", "é€😀𝄞", "abcdefgh", "abcdefgh😀abcdefghi",
		strings.Repeat("é€😀𝄞x", 50), strings.Repeat("x", 17) + "😀"} {
		want := len(utf16.Encode([]rune(s)))
		n, ok := utf16Len([]byte(s))
		if n != want || !ok {
			t.Errorf("utf16Len(%q) = %d, %v; want %d", s, n, ok, want)
		}
		if end := advanceUTF16([]byte(s+"tail"), want); end != len(s) {
			t.Errorf("advanceUTF16(%q, %d) = %d, want %d", s, want, end, len(s))
		}
	}
	if _, ok := utf16Len([]byte("a\xff")); ok {
		t.Error("utf16Len accepted invalid UTF-8")
	}
	for _, tt := range []struct {
		s string
		n int
	}{{"😀", 1}, {"a", 2}, {"\xff", 1}, {"abcdefgh", 9}, {"abcdefg\xff", 8}, {strings.Repeat("😀", 20), 39}} {
		if end := advanceUTF16([]byte(tt.s), tt.n); end != -1 {
			t.Errorf("advanceUTF16(%q, %d) = %d, want -1", tt.s, tt.n, end)
		}
	}
}

func TestDecimalLen(t *testing.T) {
	for _, tt := range []struct{ n, want int }{{0, 1}, {9, 1}, {10, 2}, {99, 2}, {100, 3}, {1234567, 7}} {
		if got := decimalLen(tt.n); got != tt.want {
			t.Errorf("decimalLen(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}
