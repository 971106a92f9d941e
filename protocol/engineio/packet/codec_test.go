package packet_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
)

func msg(s string) packet.Packet { return packet.Packet{Type: packet.Message, Data: []byte(s)} }
func bin(b ...byte) packet.Packet {
	return packet.Packet{Type: packet.Message, Data: b, Binary: true}
}

func TestTypeString(t *testing.T) {
	want := []string{"open", "close", "ping", "pong", "message", "upgrade", "noop", "Type(7)"}
	for i, w := range want {
		typ := packet.Type(i)
		if got := typ.String(); got != w {
			t.Errorf("Type(%d).String() = %q, want %q", i, got, w)
		}
		if typ.Valid() != (i < 7) {
			t.Errorf("Type(%d).Valid() = %v", i, typ.Valid())
		}
	}
}

func TestFrames(t *testing.T) {
	tests := []struct {
		rev    int
		p      packet.Packet
		wire   string
		binary bool
	}{
		{3, packet.Packet{Type: packet.Open, Data: []byte(`{"sid":"x"}`)}, `0{"sid":"x"}`, false},
		{3, packet.Packet{Type: packet.Close}, "1", false},
		{3, packet.Packet{Type: packet.Ping, Data: []byte("probe")}, "2probe", false},
		{3, packet.Packet{Type: packet.Pong}, "3", false},
		{3, msg("é€😀𝄞"), "4é€😀𝄞", false},
		{3, packet.Packet{Type: packet.Upgrade}, "5", false},
		{3, packet.Packet{Type: packet.Noop}, "6", false},
		{3, bin(1, 2, 3), "\x04\x01\x02\x03", true},
		{3, bin(), "\x04", true},
		{4, msg("é€😀𝄞"), "4é€😀𝄞", false},
		{4, packet.Packet{Type: packet.Ping}, "2", false},
		{4, bin(1, 2, 3), "\x01\x02\x03", true},
		{4, bin(), "", true},
		{4, bin(4), "\x04", true},
		// Binary is ignored on types other than Message.
		{4, packet.Packet{Type: packet.Ping, Data: []byte("x"), Binary: true}, "2x", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("v%d/%q", tt.rev, tt.wire), func(t *testing.T) {
			data, binary := packet.EncodeFrame(tt.rev, tt.p)
			if string(data) != tt.wire || binary != tt.binary {
				t.Fatalf("EncodeFrame = %q, %v; want %q, %v", data, binary, tt.wire, tt.binary)
			}
			data, binary = packet.AppendFrame([]byte("prefix"), tt.rev, tt.p)
			if string(data) != "prefix"+tt.wire || binary != tt.binary {
				t.Fatalf("AppendFrame = %q, %v", data, binary)
			}
			got, err := packet.DecodeFrame(tt.rev, []byte(tt.wire), tt.binary)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.p
			want.Binary = want.Binary && want.Type == packet.Message
			if !samePackets([]packet.Packet{got}, []packet.Packet{want}) {
				t.Fatalf("DecodeFrame = %+v, want %+v", got, want)
			}
		})
	}
}

func TestDecodeFrameBase64(t *testing.T) {
	tests := []struct {
		rev  int
		wire string
		want packet.Packet
	}{
		{3, "b4AQID", bin(1, 2, 3)},
		{3, "b4", bin()},
		{4, "bAQID", bin(1, 2, 3)},
		{4, "b", bin()},
		{4, "b4pbW", bin(0xe2, 0x96, 0xd6)}, // rev 4: the 4 is base64, not a type
	}
	for _, tt := range tests {
		got, err := packet.DecodeFrame(tt.rev, []byte(tt.wire), false)
		if err != nil || !samePackets([]packet.Packet{got}, []packet.Packet{tt.want}) {
			t.Errorf("DecodeFrame(%d, %q) = %+v, %v; want %+v", tt.rev, tt.wire, got, err, tt.want)
		}
	}
}

func TestPayloads(t *testing.T) {
	tests := []struct {
		name           string
		rev            int
		supportsBinary bool
		pkts           []packet.Packet
		wire           string
		contentType    string
	}{
		{"v3 ascii", 3, false, []packet.Packet{msg("hello"), {Type: packet.Ping, Data: []byte("probe")}},
			"6:4hello6:2probe", packet.ContentTypeText},
		{"v3 e acute", 3, false, []packet.Packet{msg("é")}, "2:4é", packet.ContentTypeText},
		{"v3 euro", 3, false, []packet.Packet{msg("€")}, "2:4€", packet.ContentTypeText},
		{"v3 emoji counts 2", 3, false, []packet.Packet{msg("😀")}, "3:4😀", packet.ContentTypeText},
		{"v3 g clef counts 2", 3, false, []packet.Packet{msg("𝄞")}, "3:4𝄞", packet.ContentTypeText},
		{"v3 mixed text", 3, true, []packet.Packet{msg("é€😀𝄞"), {Type: packet.Noop}},
			"7:4é€😀𝄞1:6", packet.ContentTypeText},
		{"v3 b64", 3, false, []packet.Packet{msg("a"), bin(1, 2, 3)}, "2:4a6:b4AQID", packet.ContentTypeText},
		{"v3 b64 empty", 3, false, []packet.Packet{bin()}, "2:b4", packet.ContentTypeText},
		{"v3 binary", 3, true, []packet.Packet{msg("é😀"), bin(1, 2, 3)},
			"\x00\x07\xff4é😀\x01\x04\xff\x04\x01\x02\x03", packet.ContentTypeBinary},
		{"v3 binary 2 digit length", 3, true, []packet.Packet{bin(make([]byte, 11)...)},
			"\x01\x01\x02\xff\x04" + strings.Repeat("\x00", 11), packet.ContentTypeBinary},
		{"v3 no packets", 3, false, nil, "0:", packet.ContentTypeText},
		{"v4 text", 4, false, []packet.Packet{msg("é€😀𝄞"), {Type: packet.Ping}},
			"4é€😀𝄞\x1e2", packet.ContentTypeText},
		{"v4 mixed", 4, true, []packet.Packet{msg("a"), bin(1, 2, 3), bin(), msg("")},
			"4a\x1ebAQID\x1eb\x1e4", packet.ContentTypeText},
		{"v4 no packets", 4, false, nil, "", packet.ContentTypeText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := packet.EncodePayload(tt.rev, tt.pkts, tt.supportsBinary)
			if string(body) != tt.wire || ct != tt.contentType {
				t.Fatalf("EncodePayload = %q (%s), want %q (%s)", body, ct, tt.wire, tt.contentType)
			}
			body, ct = packet.AppendPayload([]byte("x"), tt.rev, tt.pkts, tt.supportsBinary)
			if string(body) != "x"+tt.wire || ct != tt.contentType {
				t.Fatalf("AppendPayload = %q (%s)", body, ct)
			}
			if len(tt.pkts) == 0 {
				return
			}
			got, err := packet.DecodePayload(tt.rev, []byte(tt.wire), tt.contentType == packet.ContentTypeBinary, 0)
			if err != nil || !samePackets(got, tt.pkts) {
				t.Fatalf("DecodePayload = %+v, %v; want %+v", got, err, tt.pkts)
			}
		})
	}
}

// TestPayloadRoundTrip encodes mixes of packets in every mode and decodes
// them back.
func TestPayloadRoundTrip(t *testing.T) {
	texts := []string{"", "a", "é", "€", "😀", "𝄞", "é€😀𝄞", strings.Repeat("😀", 100), strings.Repeat("x", 1000),
		"\x00\x01\n\"\\", "\u2028\u2029", "\uFFFD", "4:4aa"}
	var pkts []packet.Packet
	for i, s := range texts {
		pkts = append(pkts, packet.Packet{Type: packet.Type(i % 7), Data: []byte(s)})
		pkts = append(pkts, bin([]byte(s)...))
	}
	for _, rev := range []int{3, 4} {
		for _, sb := range []bool{false, true} {
			body, ct := packet.EncodePayload(rev, pkts, sb)
			got, err := packet.DecodePayload(rev, body, ct == packet.ContentTypeBinary, len(pkts))
			if err != nil || !samePackets(got, pkts) {
				t.Errorf("rev %d supportsBinary %v: round trip = %v, %v", rev, sb, got, err)
			}
			for _, p := range pkts {
				frame, binary := packet.EncodeFrame(rev, p)
				q, err := packet.DecodeFrame(rev, frame, binary)
				if err != nil || !samePackets([]packet.Packet{q}, []packet.Packet{p}) {
					t.Errorf("rev %d: frame round trip of %+v = %+v, %v", rev, p, q, err)
				}
			}
		}
	}
}

// TestEncodeInvalidUTF8 checks that the revision-3 payloads stay decodable
// when text Data is not UTF-8: ill-formed sequences become U+FFFD as a
// browser would decode them, so the lengths match.
func TestEncodeInvalidUTF8(t *testing.T) {
	p := packet.Packet{Type: packet.Message, Data: []byte("a\xf1\x80\x80\xe1\x80\xc2b\x80c\x80\xbfd")}
	want := "a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd" // what Node's and browsers' decoders give
	body, _ := packet.EncodePayload(3, []packet.Packet{p}, false)
	if got := string(body); got != "11:4"+want {
		t.Errorf("text payload = %q, want %q", got, "11:4"+want)
	}
	body, _ = packet.EncodePayload(3, []packet.Packet{p, bin(1)}, true)
	got, err := packet.DecodePayload(3, body, true, 0)
	if err != nil || string(got[0].Data) != want {
		t.Errorf("binary payload decodes to %+v, %v", got, err)
	}
}

func TestDecodePayloadMaxPackets(t *testing.T) {
	tests := []struct {
		rev    int
		binary bool
		body   string
	}{
		{3, false, "1:61:61:6"},
		{3, true, "\x00\x01\xff6\x00\x01\xff6\x00\x01\xff6"},
		{4, false, "6\x1e6\x1e6"},
	}
	for _, tt := range tests {
		if _, err := packet.DecodePayload(tt.rev, []byte(tt.body), tt.binary, 3); err != nil {
			t.Errorf("%q with limit 3: %v", tt.body, err)
		}
		_, err := packet.DecodePayload(tt.rev, []byte(tt.body), tt.binary, 2)
		if !errors.Is(err, packet.ErrTooManyPackets) || !errors.Is(err, packet.ErrInvalidPayload) {
			t.Errorf("%q with limit 2: err = %v, want ErrTooManyPackets", tt.body, err)
		}
	}
}

func TestOpenData(t *testing.T) {
	got := packet.OpenData("a\"b", nil, 25*time.Second, 20*time.Second, 1e6)
	want := `{"sid":"a\"b","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	if string(got) != want {
		t.Errorf("OpenData = %s, want %s", got, want)
	}
	got = packet.OpenData("sid", []string{"websocket", "webtransport"}, 1500*time.Millisecond, 0, 5)
	want = `{"sid":"sid","upgrades":["websocket","webtransport"],"pingInterval":1500,"pingTimeout":0,"maxPayload":5}`
	if string(got) != want {
		t.Errorf("OpenData = %s, want %s", got, want)
	}
}

func TestEncoderMisusePanics(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		f()
	}
	mustPanic("EncodeFrame rev 5", func() { packet.EncodeFrame(5, msg("x")) })
	mustPanic("EncodeFrame type 7", func() { packet.EncodeFrame(4, packet.Packet{Type: 7}) })
	mustPanic("EncodePayload rev 2", func() { packet.EncodePayload(2, nil, false) })
	mustPanic("EncodePayload type 9", func() { packet.EncodePayload(3, []packet.Packet{{Type: 9}}, false) })
}

func TestUnknownRevision(t *testing.T) {
	if _, err := packet.DecodeFrame(5, []byte("4x"), false); !errors.Is(err, packet.ErrUnknownRevision) {
		t.Errorf("DecodeFrame rev 5: %v", err)
	}
	if _, err := packet.DecodePayload(2, []byte("2:4x"), false, 0); !errors.Is(err, packet.ErrUnknownRevision) {
		t.Errorf("DecodePayload rev 2: %v", err)
	}
}
