package packet_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
)

func TestValidJSONPIndex(t *testing.T) {
	for _, s := range []string{"0", "1", "12", "0123456789012345"} {
		if !packet.ValidJSONPIndex(s) {
			t.Errorf("ValidJSONPIndex(%q) = false", s)
		}
	}
	for _, s := range []string{"", "a", "1a", "-1", "1 ", "１", "01234567890123456", "1);alert(1)//"} {
		if packet.ValidJSONPIndex(s) {
			t.Errorf("ValidJSONPIndex(%q) = true", s)
		}
	}
}

// TestEncodeJSONPEscapes compares the escaping of every ASCII character,
// U+2028, U+2029 and non-ASCII text with what engine.io 3's doWrite gives
// (JSON.stringify, then the two line separators).
func TestEncodeJSONPEscapes(t *testing.T) {
	var in []byte
	for c := 0; c < 128; c++ {
		in = append(in, byte(c))
	}
	in = append(in, "\u2028\u2029é😀"...)
	// Written by node: JSON.stringify(s).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029").
	want := `"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f` +
		`\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f` +
		` !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_` + "`" +
		"abcdefghijklmnopqrstuvwxyz{|}~\x7f" + `\u2028\u2029é😀"`
	got := packet.EncodeJSONP("7", in)
	if string(got) != "___eio[7]("+want+");" {
		t.Fatalf("EncodeJSONP =\n%q\nwant\n%q", got, "___eio[7]("+want+");")
	}
	var back string
	if err := json.Unmarshal([]byte(want), &back); err != nil || back != string(in) {
		t.Fatalf("the literal does not decode back: %v", err)
	}
}

func TestEncodeJSONPIndexIsSanitised(t *testing.T) {
	got := packet.EncodeJSONP(`1");alert(2)//3`, []byte("1:6"))
	if want := `___eio[123]("1:6");`; string(got) != want {
		t.Errorf("EncodeJSONP = %s, want %s", got, want)
	}
}

// clientForm is the POST body engine.io-client 3 sends for payload over
// JSONP: its newline escaping, then form encoding.
func clientForm(payload string) []byte {
	escaped := strings.ReplaceAll(payload, `\n`, "\\\n")
	escaped = strings.ReplaceAll(escaped, "\n", `\n`)
	return []byte(url.Values{"d": {escaped}}.Encode())
}

func TestDecodeJSONPBody(t *testing.T) {
	tests := []struct {
		form, want string
	}{
		{"d=1%3A6", "1:6"},
		{"d=2%3A4+", "2:4 "},
		{"d=", ""},
		{"d", ""},
		{"x=1&d=2%3A4a&y", "2:4a"},
		{"%64=1%3A6", "1:6"},
		{"d=a=b", "a=b"},
		{`d=a\nb`, "a\nb"},                // an escaped newline
		{`d=a\\nb`, `a\nb`},               // an escaped \n
		{`d=a\\\nb`, `a\\nb`},             // as engine.io's two regexps give
		{`d=\n\n\\n`, "\n\n\\n"},          // consecutive escapes
		{"d=a%5Cnb", "a\nb"},              // percent-encoded backslash
		{"d=%E2%82%AC%F0%9F%98%80", "€😀"}, // UTF-8
	}
	for _, tt := range tests {
		got, err := packet.DecodeJSONPBody([]byte(tt.form))
		if err != nil || string(got) != tt.want {
			t.Errorf("DecodeJSONPBody(%q) = %q, %v; want %q", tt.form, got, err, tt.want)
		}
	}
	for _, payload := range []string{"7:4é€😀𝄞", "5:4a\nb", `6:4a\nb`, `7:4a\\nb`, "3:4\n\n", `10:4\n\\n\\\n`} {
		got, err := packet.DecodeJSONPBody(clientForm(payload))
		if err != nil || string(got) != payload {
			t.Errorf("client form of %q decodes to %q, %v", payload, got, err)
		}
	}
}

func TestJSONPRoundTrip(t *testing.T) {
	pkts := []packet.Packet{msg("é€😀𝄞"), msg("line\nbreak \\n \"q\" \u2028"), bin(1, 2, 3), {Type: packet.Ping}}
	payload, _ := packet.EncodePayload(3, pkts, false)
	script := packet.EncodeJSONP("0", payload)
	lit, ok := bytes.CutPrefix(script, []byte("___eio[0]("))
	lit, ok2 := bytes.CutSuffix(lit, []byte(");"))
	if !ok || !ok2 {
		t.Fatalf("EncodeJSONP = %q", script)
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil || s != string(payload) {
		t.Fatalf("literal %s decodes to %q, %v", lit, s, err)
	}
	body, err := packet.DecodeJSONPBody(clientForm(s))
	if err != nil {
		t.Fatal(err)
	}
	got, err := packet.DecodePayload(3, body, false, 0)
	if err != nil || !samePackets(got, pkts) {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
}
