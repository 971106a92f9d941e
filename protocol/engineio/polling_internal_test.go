package engineio

import "testing"

func TestUndoDoubleUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain ascii", "plain ascii"},
		{"Ã©", "é"},                  // é encoded twice
		{"ð\u009f\u0098\u0080", "😀"}, // a non-BMP character encoded twice
		{"é", "é"},                   // a real é alone is not valid UTF-8 as Latin-1
		{"déjà vu", "déjà vu"},       // neither is ordinary Latin-1 text
		{"Ã© and 😀", "Ã© and 😀"},     // anything past U+00FF: left alone
		{"[\"hÃ©llo\"]", "[\"héllo\"]"},
	}
	for _, tt := range tests {
		if got := string(undoDoubleUTF8([]byte(tt.in))); got != tt.want {
			t.Errorf("undoDoubleUTF8(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
