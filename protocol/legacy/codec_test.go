package legacy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/expressio-go/expressio/protocol/legacy"
)

func pkt(t legacy.Type, id string, ack bool, endpoint, data string) legacy.Packet {
	p := legacy.Packet{Type: t, ID: id, Ack: ack, Endpoint: endpoint}
	if data != "" {
		p.Data = []byte(data)
	}
	return p
}

func samePacket(a, b legacy.Packet) bool {
	return a.Type == b.Type && a.ID == b.ID && a.Ack == b.Ack && a.Endpoint == b.Endpoint && bytes.Equal(a.Data, b.Data)
}

func TestDecode(t *testing.T) {
	tests := []struct {
		in   string
		want legacy.Packet
		err  bool
	}{
		{in: "0::", want: pkt(legacy.Disconnect, "", false, "", "")},
		{in: "0::/chat", want: pkt(legacy.Disconnect, "", false, "/chat", "")},
		{in: "1::", want: pkt(legacy.Connect, "", false, "", "")},
		{in: "1::/chat", want: pkt(legacy.Connect, "", false, "/chat", "")},
		{in: "1::/chat:?q=1", want: pkt(legacy.Connect, "", false, "/chat", "?q=1")},
		{in: "2::", want: pkt(legacy.Heartbeat, "", false, "", "")},
		{in: "3:::hello", want: pkt(legacy.Message, "", false, "", "hello")},
		{in: "3:::", want: pkt(legacy.Message, "", false, "", "")},
		{in: "3::", want: pkt(legacy.Message, "", false, "", "")},
		{in: "3:::a:b::c", want: pkt(legacy.Message, "", false, "", "a:b::c")},
		{in: "3:::\n\r\x00", want: pkt(legacy.Message, "", false, "", "\n\r\x00")},
		{in: "4:::{\"a\":1}", want: pkt(legacy.JSON, "", false, "", `{"a":1}`)},
		{in: `5:::{"name":"welcome","args":[{"hello":"world"}]}`, want: pkt(legacy.Event, "", false, "", `{"name":"welcome","args":[{"hello":"world"}]}`)},
		{in: `5:1+::{"name":"echo","args":[1,"a"]}`, want: pkt(legacy.Event, "1", true, "", `{"name":"echo","args":[1,"a"]}`)},
		{in: `5:1::{"name":"echo"}`, want: pkt(legacy.Event, "1", false, "", `{"name":"echo"}`)},
		{in: `5:0042+:/chat:x`, want: pkt(legacy.Event, "0042", true, "/chat", "x")},
		{in: `5:+::x`, want: pkt(legacy.Event, "", false, "", "x")}, // '+' without id: dropped, as Node does
		{in: `6:::1+[1,"a"]`, want: pkt(legacy.Ack, "", false, "", `1+[1,"a"]`)},
		{in: "7:::1+0", want: pkt(legacy.Error, "", false, "", "1+0")},
		{in: "8::", want: pkt(legacy.Noop, "", false, "", "")},
		{in: "8::x", want: pkt(legacy.Noop, "", false, "x", "")},
		{in: "3::" + strings.Repeat("e", legacy.MaxEndpointLen), want: pkt(legacy.Message, "", false, strings.Repeat("e", legacy.MaxEndpointLen), "")},
		{in: "3:" + strings.Repeat("9", legacy.MaxIDLen) + "::", want: pkt(legacy.Message, strings.Repeat("9", legacy.MaxIDLen), false, "", "")},

		{in: "", err: true},
		{in: "1", err: true},
		{in: "1:", err: true},
		{in: "9::", err: true},
		{in: "10::", err: true},
		{in: "a::", err: true},
		{in: ":1::", err: true},
		{in: " 1::", err: true},
		{in: "5:1", err: true},
		{in: "5:1+", err: true},
		{in: "5:1+x::", err: true},
		{in: "5:a::", err: true},
		{in: "\ufffd3\ufffd1::", err: true},
		{in: "3:" + strings.Repeat("9", legacy.MaxIDLen+1) + "::", err: true},
		{in: "3::" + strings.Repeat("e", legacy.MaxEndpointLen+1), err: true},
	}
	for _, tt := range tests {
		got, err := legacy.Decode([]byte(tt.in))
		if tt.err {
			if err == nil || !errors.Is(err, legacy.ErrInvalidPacket) {
				t.Errorf("Decode(%.40q) = %+v, %v; want ErrInvalidPacket", tt.in, got, err)
			}
			continue
		}
		if err != nil || !samePacket(got, tt.want) {
			t.Errorf("Decode(%.40q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		p    legacy.Packet
		want string // "" for an error
	}{
		{pkt(legacy.Connect, "", false, "", ""), "1::"},
		{legacy.Packet{}, "0::"},
		{pkt(legacy.Connect, "", false, "/chat", ""), "1::/chat"},
		{pkt(legacy.Heartbeat, "", false, "", ""), "2::"},
		{pkt(legacy.Message, "", false, "", "hello"), "3:::hello"},
		{pkt(legacy.Message, "", false, "", ""), "3::"},
		{pkt(legacy.Event, "1", true, "", `{"name":"echo","args":[1,"a"]}`), `5:1+::{"name":"echo","args":[1,"a"]}`},
		{pkt(legacy.Event, "1", false, "/chat", `{"name":"x"}`), `5:1:/chat:{"name":"x"}`},
		{pkt(legacy.Ack, "", false, "", `1+[1,"a"]`), `6:::1+[1,"a"]`},
		{pkt(legacy.Error, "", false, "", "1+0"), "7:::1+0"},
		{pkt(legacy.Noop, "", false, "", ""), "8::"},

		{pkt(9, "", false, "", ""), ""},
		{pkt(legacy.Event, "1a", false, "", ""), ""},
		{pkt(legacy.Event, strings.Repeat("1", legacy.MaxIDLen+1), false, "", ""), ""},
		{pkt(legacy.Event, "", true, "", ""), ""},
		{pkt(legacy.Event, "", false, "/a:b", ""), ""},
		{pkt(legacy.Event, "", false, strings.Repeat("e", legacy.MaxEndpointLen+1), ""), ""},
	}
	for _, tt := range tests {
		got, err := tt.p.Encode()
		if tt.want == "" {
			if !errors.Is(err, legacy.ErrInvalidPacket) {
				t.Errorf("Encode(%+v) = %q, %v; want ErrInvalidPacket", tt.p, got, err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("Encode(%+v) = %q, %v; want %q", tt.p, got, err, tt.want)
		}
	}
}

func TestTypeString(t *testing.T) {
	for i, want := range []string{"disconnect", "connect", "heartbeat", "message", "json", "event", "ack", "error", "noop", "Type(9)"} {
		if got := legacy.Type(i).String(); got != want {
			t.Errorf("Type(%d) = %q, want %q", i, got, want)
		}
	}
}

const (
	welcomePkt = `5:::{"name":"welcome","args":[{"hello":"world"}]}`
	ackPkt     = `6:::1+[1,"a"]`
	// The payload captured from a 0.9.16 server (LEGACY-0.9.md).
	welcomeAckPayload = "\ufffd49\ufffd" + welcomePkt + "\ufffd13\ufffd" + ackPkt
)

func TestEncodeFrames(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want string
	}{
		{"none", nil, ""},
		{"single is bare", []string{welcomePkt}, welcomePkt},
		{"captured", []string{welcomePkt, ackPkt}, welcomeAckPayload},
		// 😀 is 4 bytes but 2 UTF-16 units; é is 2 bytes, 1 unit.
		{"utf16", []string{"3:::😀", "3:::é", "1::"}, "\ufffd6\ufffd3:::😀\ufffd5\ufffd3:::é\ufffd3\ufffd1::"},
		{"replacement char", []string{"3:::\ufffd", "2::"}, "\ufffd5\ufffd3:::\ufffd\ufffd3\ufffd2::"},
	}
	for _, tt := range tests {
		var in [][]byte
		for _, p := range tt.in {
			in = append(in, []byte(p))
		}
		if got := string(legacy.EncodeFrames(in...)); got != tt.want {
			t.Errorf("%s: EncodeFrames = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDecodeFrames(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil with err
		err  bool
	}{
		{in: "", want: nil},
		{in: welcomePkt, want: []string{welcomePkt}},
		{in: welcomeAckPayload, want: []string{welcomePkt, ackPkt}},
		{in: "\ufffd6\ufffd3:::😀\ufffd5\ufffd3:::é", want: []string{"3:::😀", "3:::é"}},
		{in: "\ufffd5\ufffd3:::\ufffd\ufffd3\ufffd2::", want: []string{"3:::\ufffd", "2::"}},
		{in: "\ufffd003\ufffd1::", want: []string{"1::"}},
		{in: "\ufffd5\ufffd3:::\xff", want: []string{"3:::\xff"}}, // a non-UTF-8 byte is one unit

		{in: "\ufffd", err: true},
		{in: "\ufffd3", err: true},
		{in: "\ufffd3\ufffd", err: true},
		{in: "\ufffd\ufffd1::", err: true},
		{in: "\ufffdx\ufffd1::", err: true},
		{in: "\ufffd-3\ufffd1::", err: true},
		{in: "\ufffd0\ufffd", err: true},
		{in: "\ufffd4\ufffd1::", err: true},
		{in: "\ufffd2\ufffd1::", err: true},                // trailing ':'
		{in: "\ufffd3\ufffd1::x", err: true},               // trailing byte
		{in: "\ufffd3\ufffd1::\ufffd", err: true},          // trailing mark
		{in: "\ufffd5\ufffd3:::😀", err: true},              // splits the surrogate pair
		{in: "\ufffd12345678901\ufffd1::", err: true},      // 11 digits
		{in: "\ufffd9999999999\ufffd1::", err: true},       // longer than the payload
		{in: "\ufffd3\ufffd1::2::", err: true},             // no mark between packets
		{in: "\ufffd3\ufffd1::\ufffd3\ufffd2:", err: true}, // short last packet
	}
	for _, tt := range tests {
		got, err := legacy.DecodeFrames([]byte(tt.in))
		if tt.err {
			if !errors.Is(err, legacy.ErrInvalidPayload) {
				t.Errorf("DecodeFrames(%q) = %q, %v; want ErrInvalidPayload", tt.in, got, err)
			}
			continue
		}
		var gots []string
		for _, g := range got {
			gots = append(gots, string(g))
		}
		if err != nil || !reflect.DeepEqual(gots, tt.want) {
			t.Errorf("DecodeFrames(%q) = %q, %v; want %q", tt.in, gots, err, tt.want)
		}
	}
}

func TestUTF16Len(t *testing.T) {
	for in, want := range map[string]int{"": 0, "abc": 3, "é": 1, "你好": 2, "😀": 2, "a😀b🎉": 6, "\xff\xfe": 2, "\u2028": 1} {
		if got := legacy.UTF16Len([]byte(in)); got != want {
			t.Errorf("UTF16Len(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestDecodeLinear feeds the decoders the long runs that made Node's
// parsers blow up (CVE-2020-36049): they fail fast, without a copy.
func TestDecodeLinear(t *testing.T) {
	big := 8 << 20
	inputs := map[string][]byte{
		"digit run":    append([]byte("5:"), bytes.Repeat([]byte("9"), big)...),
		"endpoint run": append([]byte("5::"), bytes.Repeat([]byte("e"), big)...),
		"length run":   append([]byte("\ufffd"), bytes.Repeat([]byte("9"), big)...),
		"frame marks":  bytes.Repeat([]byte("\ufffd"), big/3),
		"long frame":   append([]byte("\ufffd9999999\ufffd"), bytes.Repeat([]byte("\U0001F600"), big/4)...),
	}
	for name, in := range inputs {
		start := time.Now()
		var err error
		if in[0] == '5' {
			_, err = legacy.Decode(in)
		} else {
			_, err = legacy.DecodeFrames(in)
		}
		if err == nil {
			t.Errorf("%s: decoded; want an error", name)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v", name, d)
		}
	}
	// Many small frames decode in one pass.
	many := bytes.Repeat([]byte("\ufffd3\ufffd2::"), 200_000)
	start := time.Now()
	frames, err := legacy.DecodeFrames(many)
	if err != nil || len(frames) != 200_000 {
		t.Fatalf("DecodeFrames: %d frames, %v", len(frames), err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("200k frames took %v", d)
	}
}

func TestEventData(t *testing.T) {
	tests := []struct {
		name string
		args string
		want string // "" for an error
	}{
		{"welcome", `[{"hello":"world"}]`, `{"name":"welcome","args":[{"hello":"world"}]}`},
		{"noargs", ``, `{"name":"noargs"}`},
		{"noargs", `[]`, `{"name":"noargs"}`},
		{"noargs", " [ ] ", `{"name":"noargs"}`},
		{"ev", `[null]`, `{"name":"ev","args":[null]}`},
		{"bc", "[1, 2,\n 3]", `{"name":"bc","args":[1,2,3]}`},
		{"q\"\\\n\t\x01</script>é😀\u2028", `["<>&"]`, "{\"name\":\"q\\\"\\\\\\n\\t\\u0001</script>é😀\u2028\",\"args\":[\"<>&\"]}"},
		{"x", `{"a":1}`, ""},
		{"x", `[1,`, ""},
		{"x", `"s"`, ""},
	}
	for _, tt := range tests {
		got, err := legacy.EventData(tt.name, json.RawMessage(tt.args))
		if tt.want == "" {
			if !errors.Is(err, legacy.ErrInvalidEvent) {
				t.Errorf("EventData(%q, %q) = %q, %v; want ErrInvalidEvent", tt.name, tt.args, got, err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("EventData(%q, %q) = %q, %v; want %q", tt.name, tt.args, got, err, tt.want)
		}
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		in   string
		name string
		args []string
		err  bool
	}{
		{in: `{"name":"welcome","args":[{"hello":"world"}]}`, name: "welcome", args: []string{`{"hello":"world"}`}},
		{in: `{"name":"echo","args":[1,"a"]}`, name: "echo", args: []string{`1`, `"a"`}},
		{in: `{"name":"noargs"}`, name: "noargs"},
		{in: `{"name":"n","args":null}`, name: "n"},
		{in: `{"name":"n","args":[]}`, name: "n"},
		{in: ` {"args":[true],"name":"\u00e9\ud83d\ude00"} `, name: "é😀", args: []string{"true"}},
		{in: `{"name":"a","name":"b"}`, name: "b"}, // the last wins, as in JSON.parse

		{in: ``, err: true},
		{in: `null`, err: true},
		{in: `[]`, err: true},
		{in: `{}`, err: true},
		{in: `{"NAME":"x"}`, err: true}, // keys match exactly
		{in: `{"name":null}`, err: true},
		{in: `{"name":1}`, err: true},
		{in: `{"name":{"toString":"x"}}`, err: true},
		{in: `{"name":"x","args":{}}`, err: true},
		{in: `{"name":"x","args":"a"}`, err: true},
		{in: `{"name":"x"`, err: true},
	}
	for _, tt := range tests {
		name, args, err := legacy.ParseEvent([]byte(tt.in))
		if tt.err {
			if !errors.Is(err, legacy.ErrInvalidEvent) {
				t.Errorf("ParseEvent(%q) = %q, %q, %v; want ErrInvalidEvent", tt.in, name, args, err)
			}
			continue
		}
		var got []string
		for _, a := range args {
			got = append(got, string(a))
		}
		if err != nil || name != tt.name || !reflect.DeepEqual(got, tt.args) {
			t.Errorf("ParseEvent(%q) = %q, %q, %v; want %q, %q", tt.in, name, got, err, tt.name, tt.args)
		}
	}
}

func TestAckData(t *testing.T) {
	tests := []struct {
		id, args, want string
	}{
		{"1", `[1,"a"]`, `1+[1,"a"]`},
		{"1", `["a"]`, `1+["a"]`},
		{"2", ``, `2`},
		{"2", `[]`, `2`},
		{"12", "[ {\"success\": true} ]", `12+[{"success":true}]`},
		{"", `[1]`, ""},
		{"1a", `[1]`, ""},
		{"1", `{}`, ""},
		{"1", `[`, ""},
	}
	for _, tt := range tests {
		got, err := legacy.AckData(tt.id, json.RawMessage(tt.args))
		if tt.want == "" {
			if !errors.Is(err, legacy.ErrInvalidPacket) {
				t.Errorf("AckData(%q, %q) = %q, %v; want ErrInvalidPacket", tt.id, tt.args, got, err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("AckData(%q, %q) = %q, %v; want %q", tt.id, tt.args, got, err, tt.want)
		}
	}
}

func TestParseAck(t *testing.T) {
	tests := []struct {
		in   string
		id   string
		args []string
		err  bool
	}{
		{in: `1+[1,"a"]`, id: "1", args: []string{"1", `"a"`}},
		{in: `1`, id: "1"},
		{in: `7+[]`, id: "7"},
		{in: ``, err: true},
		{in: `+[1]`, err: true},
		{in: `1+`, err: true},
		{in: `1+{}`, err: true},
		{in: `1x`, err: true},
		{in: `1+[1`, err: true},
		{in: strings.Repeat("1", legacy.MaxIDLen+1), err: true},
	}
	for _, tt := range tests {
		id, args, err := legacy.ParseAck([]byte(tt.in))
		if tt.err {
			if !errors.Is(err, legacy.ErrInvalidPacket) {
				t.Errorf("ParseAck(%q) = %q, %q, %v; want ErrInvalidPacket", tt.in, id, args, err)
			}
			continue
		}
		var got []string
		for _, a := range args {
			got = append(got, string(a))
		}
		if err != nil || id != tt.id || !reflect.DeepEqual(got, tt.args) {
			t.Errorf("ParseAck(%q) = %q, %q, %v; want %q, %q", tt.in, id, got, err, tt.id, tt.args)
		}
	}
}

func TestErrorData(t *testing.T) {
	tests := []struct {
		reason legacy.ErrorReason
		advice legacy.Advice
		want   string
	}{
		{legacy.ErrorReasonClientNotHandshaken, legacy.AdviceReconnect, "1+0"},
		{legacy.ErrorReasonTransportNotSupported, legacy.AdviceReconnect, "0+0"},
		{legacy.ErrorReasonUnauthorized, legacy.NoAdvice, "2"},
		{legacy.NoErrorReason, legacy.AdviceReconnect, "+0"},
		{legacy.NoErrorReason, legacy.NoAdvice, ""},
	}
	for _, tt := range tests {
		if got := string(legacy.ErrorData(tt.reason, tt.advice)); got != tt.want {
			t.Errorf("ErrorData(%v, %v) = %q, want %q", tt.reason, tt.advice, got, tt.want)
		}
	}
	p, _ := legacy.Packet{Type: legacy.Error, Data: legacy.ErrorData(legacy.ErrorReasonClientNotHandshaken, legacy.AdviceReconnect)}.Encode()
	if string(p) != "7:::1+0" {
		t.Errorf("error packet %q, want 7:::1+0", p)
	}
	if legacy.ErrorReasonUnauthorized.String() != "unauthorized" || legacy.AdviceReconnect.String() != "reconnect" {
		t.Errorf("names %q %q", legacy.ErrorReasonUnauthorized, legacy.AdviceReconnect)
	}
}
