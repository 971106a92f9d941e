package socketio

import (
	"errors"
	"strings"
	"testing"
)

// both means a case applies to V4 and V5.
const both Revision = 0

func revisions(r Revision) []Revision {
	if r == both {
		return []Revision{V4, V5}
	}
	return []Revision{r}
}

func TestDecodeValid(t *testing.T) {
	tests := []struct {
		name string
		rev  Revision
		in   string
		want Packet
	}{
		{"connect root", V5, `0`, Packet{Type: Connect, Namespace: "/", ID: NoID}},
		{"connect auth", V5, `0{"token":"x"}`, Packet{Type: Connect, Namespace: "/", ID: NoID, Data: raw(`{"token":"x"}`)}},
		{"connect without comma (client 1.x)", both, `0/admin`, Packet{Type: Connect, Namespace: "/admin", ID: NoID}},
		{"disconnect without comma", both, `1/admin`, Packet{Type: Disconnect, Namespace: "/admin", ID: NoID}},
		{"explicit root namespace", both, `2/,["a"]`, Packet{Type: Event, Namespace: "/", ID: NoID, Data: raw(`["a"]`)}},
		{"v4 query", V4, `0/admin?a=1&b=2,`, Packet{Type: Connect, Namespace: "/admin", Query: "a=1&b=2", ID: NoID}},
		{"v4 query on root", V4, `0/?a=1,`, Packet{Type: Connect, Namespace: "/", Query: "a=1", ID: NoID}},
		{"v4 query on event", V4, `2/admin?a=1,["a"]`, Packet{Type: Event, Namespace: "/admin", Query: "a=1", ID: NoID, Data: raw(`["a"]`)}},
		{"v5 keeps '?' in the namespace", V5, `0/admin?a=1,`, Packet{Type: Connect, Namespace: "/admin?a=1", ID: NoID}},
		{"number event name", both, `2[1,2]`, Packet{Type: Event, Namespace: "/", ID: NoID, Data: raw(`[1,2]`)}},
		{"negative number event name", both, `2[-1.5e3]`, Packet{Type: Event, Namespace: "/", ID: NoID, Data: raw(`[-1.5e3]`)}},
		{"leading zeros in ack id", both, `2007["a"]`, Packet{Type: Event, Namespace: "/", ID: 7, Data: raw(`["a"]`)}},
		{"max ack id", both, `29007199254740991["a"]`, Packet{Type: Event, Namespace: "/", ID: MaxAckID, Data: raw(`["a"]`)}},
		{"ack id zero", both, `30[]`, Packet{Type: Ack, Namespace: "/", ID: 0, Data: raw(`[]`)}},
		{"trailing whitespace", both, "2[\"a\"] \n", Packet{Type: Event, Namespace: "/", ID: NoID, Data: raw("[\"a\"] \n")}},
		{"whitespace inside", both, `2[ "a" , 1 ]`, Packet{Type: Event, Namespace: "/", ID: NoID, Data: raw(`[ "a" , 1 ]`)}},
		{"placeholder in a plain event stays", both, `2["a",{"_placeholder":true,"num":"splice"}]`,
			Packet{Type: Event, Namespace: "/", ID: NoID, Data: raw(`["a",{"_placeholder":true,"num":"splice"}]`)}},
		{"near-reserved name", both, `2["connected"]`, Packet{Type: Event, Namespace: "/", ID: NoID, Data: raw(`["connected"]`)}},
		{"connect_error string", both, `4"nope"`, Packet{Type: ConnectError, Namespace: "/", ID: NoID, Data: raw(`"nope"`)}},
		{"connect_error object", both, `4/a,{"message":"x"}`, Packet{Type: ConnectError, Namespace: "/a", ID: NoID, Data: raw(`{"message":"x"}`)}},
		{"connect_error empty", both, `4`, Packet{Type: ConnectError, Namespace: "/", ID: NoID}},
		{"namespace of max length", both, "2/" + strings.Repeat("n", MaxNamespaceLen-1) + `,["a"]`,
			Packet{Type: Event, Namespace: "/" + strings.Repeat("n", MaxNamespaceLen-1), ID: NoID, Data: raw(`["a"]`)}},
		{"namespace with odd bytes", both, `2/a b[{,["a"]`, Packet{Type: Event, Namespace: "/a b[{", ID: NoID, Data: raw(`["a"]`)}},
	}
	for _, tt := range tests {
		for _, rev := range revisions(tt.rev) {
			t.Run(rev.String()+"/"+tt.name, func(t *testing.T) {
				d := Decoder{Revision: rev}
				got, err := d.Decode([]byte(tt.in), false)
				if err != nil || !samePacket(got, &tt.want) {
					t.Fatalf("Decode(%q) = %+v, %v\nwant %+v", tt.in, got, err, tt.want)
				}
			})
		}
	}
}

func TestDecodeInvalid(t *testing.T) {
	long := strings.Repeat("n", MaxNamespaceLen)
	tests := []struct {
		name string
		rev  Revision
		in   string
		bins []string
		want error // nil: any error
	}{
		// socket.io test/close.ts and socket.io-parser test/parser.js.
		{"unterminated array (EIO 4 prefix kept)", both, `442["some","data"`, nil, nil},
		{"unterminated array", both, `2["some","data"`, nil, ErrInvalidPayload},
		{"connect with a string", both, `0/admin,"invalid"`, nil, ErrInvalidPayload},
		{"connect with an array", both, `0[]`, nil, ErrInvalidPayload},
		{"connect with null", both, `0null`, nil, ErrInvalidPayload},
		{"v4 connect with an object", V4, `0/admin,{}`, nil, ErrInvalidPayload},
		{"disconnect with data", both, `1/admin,{}`, nil, ErrInvalidPayload},
		{"event with an object", both, `2/admin,{}`, nil, ErrInvalidPayload},
		{"event name true", both, `2[true,"foo"]`, nil, ErrInvalidPayload},
		{"event name null", both, `2[null,"bar"]`, nil, ErrInvalidPayload},
		{"event name object (CVE-2023-32695)", both, `2[{"toString":"foo"}]`, nil, ErrInvalidPayload},
		{"event name array", both, `2[["a"]]`, nil, ErrInvalidPayload},
		{"empty event", both, `2[]`, nil, ErrInvalidPayload},
		{"event string", both, `2"a"`, nil, ErrInvalidPayload},
		{"event without data", both, `2`, nil, ErrInvalidPayload},
		{"event without data, namespace", both, `2/admin,`, nil, ErrInvalidPayload},
		{"event glued to namespace", both, `2/admin["a"]`, nil, ErrInvalidPayload},
		{"connect_error not JSON", both, `4abc`, nil, ErrInvalidPayload},
		{"connect_error array", both, `4["handle me please"]`, nil, ErrInvalidPayload},
		{"connect_error number", both, `4/a,"x"x`, nil, ErrInvalidPayload},
		{"ack object", both, `31{}`, nil, ErrInvalidPayload},
		{"ack without data", both, `31`, nil, ErrInvalidPayload},
		{"leading whitespace", both, `2 ["a"]`, nil, ErrInvalidPayload},
		{"leading whitespace after id", both, `21 ["a"]`, nil, ErrInvalidPayload},
		{"trailing garbage", both, `2["a"]x`, nil, ErrInvalidPayload},
		{"two values", both, `2["a"]["b"]`, nil, ErrInvalidPayload},
		{"too deep", both, `2["a",` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `]`, nil, ErrInvalidPayload},

		// Reserved names (socket.io-parser d9db4737).
		{"reserved connect", both, `2["connect"]`, nil, ErrReservedEventName},
		{"reserved connect_error", both, `2["connect_error"]`, nil, ErrReservedEventName},
		{"reserved disconnect", both, `2/admin,1["disconnect"]`, nil, ErrReservedEventName},
		{"reserved disconnecting", both, `2["disconnecting",1]`, nil, ErrReservedEventName},
		{"reserved newListener", both, `2["newListener"]`, nil, ErrReservedEventName},
		{"reserved removeListener", both, `2["removeListener"]`, nil, ErrReservedEventName},
		{"reserved, escaped", both, `2["conn\u0065ct"]`, nil, ErrReservedEventName},
		{"reserved binary event", both, `51-["connect",{"_placeholder":true,"num":0}]`, nil, ErrReservedEventName},

		// Packet types.
		{"unknown type 999", both, `999`, nil, ErrUnknownPacketType},
		{"unknown type 7", both, `7["a"]`, nil, ErrUnknownPacketType},
		{"type letter", both, `a`, nil, ErrUnknownPacketType},
		{"empty", both, ``, nil, ErrUnknownPacketType},
		{"space", both, ` `, nil, ErrUnknownPacketType},

		// Attachment counts.
		{"count missing", both, `5`, nil, ErrIllegalAttachments},
		{"count without dash", both, `51`, nil, ErrIllegalAttachments},
		{"count letter", both, `5a-`, nil, ErrIllegalAttachments},
		{"count decimal", both, `51.23-`, nil, ErrIllegalAttachments},
		{"count word", both, `5woooot`, nil, ErrIllegalAttachments},
		{"count empty", both, `5-["a"]`, nil, ErrIllegalAttachments},
		{"count zero (GHSA-2m8v-j782-fhvr)", both, `50-["a"]`, nil, ErrIllegalAttachments},
		{"count zeros", both, `6000-/a,1[]`, nil, ErrIllegalAttachments},
		{"count above default", both, `511-["a"]`, nil, ErrTooManyAttachments},
		{"count huge (CVE-2020-36049)", both, `5` + strings.Repeat("9", 100000) + `-["a"]`, nil, ErrTooManyAttachments},
		{"binary event without data", both, `51-`, nil, ErrInvalidPayload},
		{"binary ack without id", both, `61-[{"_placeholder":true,"num":0}]`, nil, ErrInvalidAckID},

		// Placeholders (CVE-2022-2421).
		{"num splice", both, `51-["hello",{"_placeholder":true,"num":"splice"}]`, nil, ErrIllegalAttachments},
		{"num -1", both, `51-["hello",{"_placeholder":true,"num":-1}]`, nil, ErrIllegalAttachments},
		{"num 1.5", both, `52-["hello",{"_placeholder":true,"num":1.5}]`, nil, ErrIllegalAttachments},
		{"num 99", both, `51-["hello",{"_placeholder":true,"num":99}]`, nil, ErrIllegalAttachments},
		{"num = count", both, `51-["hello",{"_placeholder":true,"num":1}]`, nil, ErrIllegalAttachments},
		{"num missing", both, `51-["hello",{"_placeholder":true}]`, nil, ErrIllegalAttachments},
		{"num null", both, `51-["hello",{"_placeholder":true,"num":null}]`, nil, ErrIllegalAttachments},
		{"num string 0", both, `51-["hello",{"_placeholder":true,"num":"0"}]`, nil, ErrIllegalAttachments},
		{"num 1e400", both, `51-["hello",{"_placeholder":true,"num":1e400}]`, nil, ErrIllegalAttachments},
		{"num last wins", both, `51-["hello",{"_placeholder":true,"num":0,"num":"splice"}]`, nil, ErrIllegalAttachments},
		{"escaped key", both, `51-["hello",{"\u005fplaceholder":true,"n\u0075m":3}]`, nil, ErrIllegalAttachments},
		{"nested", both, `51-["hello",{"a":[{"b":{"_placeholder":true,"num":"x"}}]}]`, nil, ErrIllegalAttachments},
		{"in binary ack", both, `61-1[{"_placeholder":true,"num":{}}]`, nil, ErrIllegalAttachments},

		// Ack ids (CVE-2020-36049).
		{"ack id huge", both, `299999999999999999999999["a"]`, nil, ErrInvalidAckID},
		{"ack id 2^53", both, `29007199254740992["a"]`, nil, ErrInvalidAckID},
		{"ack id digit run", both, `2` + strings.Repeat("1", 100000) + `["a"]`, nil, ErrInvalidAckID},
		{"ack id on connect", both, `01`, nil, ErrInvalidAckID},
		{"ack id on connect with data", V5, `01{}`, nil, ErrInvalidAckID},
		{"ack id on disconnect", both, `1/admin,1`, nil, ErrInvalidAckID},
		{"ack id on connect_error", both, `442["some","data"]`, nil, ErrInvalidAckID},
		{"ack without id", both, `3["a"]`, nil, ErrInvalidAckID},

		// Namespaces.
		{"namespace too long", both, "2/" + long + `,["a"]`, nil, ErrInvalidNamespace},
		{"namespace too long, no comma", both, "1/" + long, nil, ErrInvalidNamespace},
		{"v4 namespace too long before query", V4, "0/" + long + "?a=1,", nil, ErrInvalidNamespace},
		{"v4 query too long", V4, "0/a?" + strings.Repeat("q", MaxQueryLen+1) + ",", nil, ErrInvalidNamespace},
		{"v5 namespace with long query", V5, "0/a?" + strings.Repeat("q", MaxNamespaceLen) + ",", nil, ErrInvalidNamespace},

		// Message sequencing.
		{"text while attachments pending", both, `52-["a",{"_placeholder":true,"num":0}]`, []string{"\x01", "text:42[\"a\"]"}, ErrUnexpectedText},
		{"binary without pending packet", both, `2["a"]`, []string{"\x01"}, ErrUnexpectedBinary},
		{"too many binary", both, `51-["a",{"_placeholder":true,"num":0}]`, []string{"\x01", "\x02"}, ErrUnexpectedBinary},
	}
	for _, tt := range tests {
		for _, rev := range revisions(tt.rev) {
			name := tt.name
			if len(name) > 60 {
				name = name[:60]
			}
			t.Run(rev.String()+"/"+name, func(t *testing.T) {
				d := Decoder{Revision: rev}
				p, err := d.Decode([]byte(tt.in), false)
				for _, m := range tt.bins {
					if err != nil {
						break
					}
					if text, ok := strings.CutPrefix(m, "text:"); ok {
						p, err = d.Decode([]byte(text), false)
					} else {
						p, err = d.Decode([]byte(m), true)
					}
				}
				if err == nil {
					t.Fatalf("Decode(%.80q) = %+v, want an error", tt.in, p)
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Fatalf("Decode(%.80q) error = %v, want %v", tt.in, err, tt.want)
				}
				if p != nil {
					t.Errorf("packet %+v returned with error", p)
				}
				if d.Pending() {
					t.Error("decoder still pending after an error")
				}
				if len(err.Error()) > 200 {
					t.Errorf("error message of %d bytes echoes the input: %.100s", len(err.Error()), err)
				}
			})
		}
	}
}

func TestDecodeBinarySequence(t *testing.T) {
	d := Decoder{Revision: V5}
	text := `53-/up,9["files",{"_placeholder":true,"num":2},[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]]`
	for i, m := range []string{text, "a", ""} {
		p, err := d.Decode([]byte(m), i > 0)
		if p != nil || err != nil || !d.Pending() {
			t.Fatalf("message %d: got %+v, %v, pending %v", i, p, err, d.Pending())
		}
	}
	last := []byte("c")
	p, err := d.Decode(last, true)
	if err != nil || p == nil || d.Pending() {
		t.Fatalf("last attachment: %+v, %v", p, err)
	}
	want := Packet{Type: BinaryEvent, Namespace: "/up", ID: 9, Data: raw(text[8:]), Attachments: [][]byte{[]byte("a"), {}, []byte("c")}}
	if !samePacket(p, &want) {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
	last[0] = 'X'
	if string(p.Attachments[2]) != "c" {
		t.Error("Decode retained the caller's buffer")
	}

	// The decoder goes on with the next packet.
	if p, err := d.Decode([]byte(`2["next"]`), false); err != nil || p.Type != Event {
		t.Fatalf("next packet: %+v, %v", p, err)
	}
}

func TestDecodeDoesNotRetain(t *testing.T) {
	in := []byte(`2/admin,1["a"]`)
	var d Decoder
	p, err := d.Decode(in, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 'X'
	}
	if p.Namespace != "/admin" || string(p.Data) != `["a"]` {
		t.Fatalf("packet changed with the input: %+v", p)
	}
}

func TestDecodeMaxAttachments(t *testing.T) {
	in := []byte(`52-["a"]`)
	d := Decoder{MaxAttachments: 1}
	if _, err := d.Decode(in, false); !errors.Is(err, ErrTooManyAttachments) {
		t.Fatalf("MaxAttachments 1: %v", err)
	}
	d = Decoder{MaxAttachments: 20}
	if _, err := d.Decode([]byte(`520-["a"]`), false); err != nil || !d.Pending() {
		t.Fatalf("MaxAttachments 20: %v", err)
	}
	d.Reset()
	if d.Pending() {
		t.Fatal("Reset left a pending packet")
	}
	if _, err := d.Decode([]byte{1}, true); !errors.Is(err, ErrUnexpectedBinary) {
		t.Fatalf("binary after Reset: %v", err)
	}
	d = Decoder{}
	if _, err := d.Decode([]byte(`510-["a"]`), false); err != nil {
		t.Fatalf("10 attachments with the default: %v", err)
	}
}

func TestDecodeAllocs(t *testing.T) {
	in := []byte(`2/chat,12["message",{"text":"hello","n":1},"more"]`)
	var d Decoder
	n := testing.AllocsPerRun(100, func() {
		if _, err := d.Decode(in, false); err != nil {
			t.Fatal(err)
		}
	})
	if n > 3 { // packet, namespace, data
		t.Errorf("Decode allocates %v times, want <= 3", n)
	}
}

func TestEmptyAttachmentIsNotNil(t *testing.T) {
	var d Decoder
	if _, err := d.Decode([]byte(`51-["x",{"_placeholder":true,"num":0}]`), false); err != nil {
		t.Fatal(err)
	}
	p, err := d.Decode(nil, true)
	if err != nil || p == nil {
		t.Fatalf("attachment: %v %v", p, err)
	}
	if p.Attachments[0] == nil {
		t.Fatal("empty attachment decoded as nil: it would go back out as null")
	}
	data, atts, _ := BuildArgs(p.Attachments[0])
	if string(data) != `[{"_placeholder":true,"num":0}]` || len(atts) != 1 {
		t.Fatalf("round trip: %s %d", data, len(atts))
	}
}
