package redisadapter

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/expressio-go/expressio/protocol/socketio"
)

var (
	bin0 = []byte{0x00, 0x01, 0xfe, 0xff}
	bin1 = []byte("hello, world")
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func boolPtr(b bool) *bool { return &b }

// ---------------------------------------------------------------------------
// Goldens

// goldenBroadcasts are the options and packet types of the broadcast
// goldens; their data comes from cases.json (what Node makes of it).
var goldenBroadcasts = map[string]struct {
	typ  socketio.Type
	opts wireOpts
}{
	"broadcast_text":      {socketio.Event, wireOpts{Rooms: []string{}, Except: []string{}}},
	"broadcast_binary":    {socketio.BinaryEvent, wireOpts{Rooms: []string{"room1"}, Except: []string{"sid9"}}},
	"broadcast_nested":    {socketio.Event, wireOpts{Rooms: []string{"room1", "room2"}, Except: []string{}, Flags: wireFlags{Volatile: true}}},
	"broadcast_date":      {socketio.Event, wireOpts{Rooms: []string{}, Except: []string{}}},
	"broadcast_undefined": {socketio.Event, wireOpts{Rooms: []string{}, Except: []string{}}},
	"broadcast_flags": {socketio.Event, wireOpts{Rooms: []string{}, Except: []string{"sid9", "room3"},
		Flags: wireFlags{Volatile: true, Compress: boolPtr(false), Timeout: 5000}}},
}

func TestGoldenBroadcasts(t *testing.T) {
	seen := 0
	for _, c := range loadGoldens(t) {
		if c.Kind != "broadcast" {
			continue
		}
		seen++
		t.Run(c.Name, func(t *testing.T) {
			want, ok := goldenBroadcasts[c.Name]
			if !ok {
				t.Fatal("no expectation for this golden")
			}
			var msg [3]json.RawMessage
			if err := json.Unmarshal([]byte(*c.JSON), &msg); err != nil {
				t.Fatal(err)
			}
			var pkt struct {
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(msg[1], &pkt); err != nil {
				t.Fatal(err)
			}
			wantPacket := socketio.Packet{Type: want.typ, Namespace: "/", ID: socketio.NoID, Data: pkt.Data, Attachments: c.atts}

			uid, p, o, err := decodeBroadcast(c.bytes)
			if err != nil {
				t.Fatal(err)
			}
			if uid != "abc123" {
				t.Errorf("uid %q", uid)
			}
			checkPacket(t, p, wantPacket)
			if !reflect.DeepEqual(o, want.opts) {
				t.Errorf("opts %+v, want %+v", o, want.opts)
			}
			if !strings.HasPrefix(c.Channel, "socket.io#/#") {
				t.Errorf("channel %q", c.Channel)
			}

			enc, err := encodeBroadcast(uid, p, o)
			if err != nil {
				t.Fatal(err)
			}
			if c.Encode && !bytes.Equal(enc, c.bytes) {
				t.Errorf("encoded\n got %x\nwant %x", enc, c.bytes)
			}
			uid2, p2, o2, err := decodeBroadcast(enc)
			if err != nil || uid2 != uid || !reflect.DeepEqual(o2, o) {
				t.Errorf("re-decoded %q %+v, %v", uid2, o2, err)
			}
			checkPacket(t, p2, p)
			// What the packet becomes for a client: socket.io-parser's frame.
			text, atts := p.Encode()
			if p.Type == socketio.BinaryEvent {
				if !bytes.HasPrefix(text, []byte("52-[")) || len(atts) != 2 {
					t.Errorf("client frame %s + %d", text, len(atts))
				}
			} else if !bytes.HasPrefix(text, []byte("2[")) {
				t.Errorf("client frame %s", text)
			}
		})
	}
	if seen != len(goldenBroadcasts) {
		t.Errorf("%d broadcast goldens, %d expected", seen, len(goldenBroadcasts))
	}
}

func checkPacket(t *testing.T, got, want socketio.Packet) {
	t.Helper()
	if got.Type != want.Type || got.Namespace != want.Namespace || got.ID != want.ID || got.Query != want.Query {
		t.Errorf("packet %v %q id %d, want %v %q id %d", got.Type, got.Namespace, got.ID, want.Type, want.Namespace, want.ID)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("data\n got %s\nwant %s", got.Data, want.Data)
	}
	if !equalAtts(got.Attachments, want.Attachments) {
		t.Errorf("attachments %x, want %x", got.Attachments, want.Attachments)
	}
}

var goldenRequests = map[string]request{
	"request_broadcast": {UID: "abc123", RequestID: "req001", Type: requestBroadcast,
		Packet: &socketio.Packet{Type: socketio.BinaryEvent, Namespace: "/", ID: socketio.NoID,
			Data: raw(`["ping",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{bin0}},
		Opts: &wireOpts{Rooms: []string{"room1"}, Except: []string{}, Flags: wireFlags{Timeout: 5000}}},
	"request_all_rooms": {UID: "abc123", RequestID: "req002", Type: requestAllRooms},
	"request_remote_fetch": {UID: "abc123", RequestID: "req003", Type: requestRemoteFetch,
		Opts: &wireOpts{Rooms: []string{"room1"}, Except: []string{"sid9"}}},
	"request_remote_join": {UID: "abc123", Type: requestRemoteJoin,
		Opts: &wireOpts{Rooms: []string{"room1"}, Except: []string{}}, Rooms: []string{"room2", "room3"}},
	"request_remote_leave": {UID: "abc123", Type: requestRemoteLeave,
		Opts: &wireOpts{Rooms: []string{}, Except: []string{"room1"}}, Rooms: []string{"room2"}},
	"request_remote_disconnect": {UID: "abc123", Type: requestRemoteDisconnect,
		Opts: &wireOpts{Rooms: []string{"room1"}, Except: []string{}}, Close: true},
	"request_server_side_emit": {UID: "abc123", Type: requestServerSideEmit,
		Data: []json.RawMessage{raw(`"hello"`), raw(`"world"`), raw(`1`)}},
	"request_server_side_emit_ack": {UID: "abc123", RequestID: "req004", Type: requestServerSideEmit,
		Data: []json.RawMessage{raw(`"ping"`), raw(`{"n":1}`)}},
}

func TestGoldenRequests(t *testing.T) {
	seen := 0
	for _, c := range loadGoldens(t) {
		if c.Kind != "request" {
			continue
		}
		seen++
		t.Run(c.Name, func(t *testing.T) {
			want, ok := goldenRequests[c.Name]
			if !ok {
				t.Fatal("no expectation for this golden")
			}
			if c.Channel != "socket.io-request#/#" {
				t.Errorf("channel %q", c.Channel)
			}
			r, err := decodeRequest(c.bytes)
			if err != nil {
				t.Fatal(err)
			}
			checkRequest(t, r, want)
			var enc []byte
			if strings.HasSuffix(c.File, ".json") {
				enc, err = encodeRequestJSON(r)
			} else {
				enc, err = encodeRequestMsgpack(r)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, c.bytes) {
				t.Errorf("encoded\n got %s\nwant %s", enc, c.bytes)
			}
			// The other encoding reads back the same.
			if strings.HasSuffix(c.File, ".json") {
				enc, err = encodeRequestMsgpack(r)
			} else {
				enc, err = encodeRequestJSON(r)
				if err != nil && r.Packet != nil && len(r.Packet.Attachments) > 0 {
					return // binary: msgpack only
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			r2, err := decodeRequest(enc)
			if err != nil {
				t.Fatal(err)
			}
			checkRequest(t, r2, r)
		})
	}
	if seen != len(goldenRequests) {
		t.Errorf("%d request goldens, %d expected", seen, len(goldenRequests))
	}
}

func checkRequest(t *testing.T, got, want request) {
	t.Helper()
	gp, wp := got.Packet, want.Packet
	got.Packet, want.Packet = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("request\n got %+v\nwant %+v", got, want)
	}
	if (gp == nil) != (wp == nil) {
		t.Fatalf("packet %v, want %v", gp, wp)
	}
	if gp != nil {
		checkPacket(t, *gp, *wp)
	}
}

var goldenResponses = map[string]response{
	"response_sockets":         {RequestID: "req101", Sockets: raw(`["sid1"]`)},
	"response_all_rooms":       {RequestID: "req102", Rooms: []string{"sid1", "room1"}},
	"response_remote_fetch":    {RequestID: "req103"}, // Sockets: from the file
	"response_remote_join_sid": {RequestID: "req104"},
	"response_server_side_emit": {Type: requestServerSideEmit, RequestID: "req105",
		Data: raw(`{"pong":1}`)},
	"response_broadcast_client_count": {Type: requestBroadcastClientCount, RequestID: "req106", ClientCount: 1},
	"response_broadcast_ack": {Type: requestBroadcastAck, RequestID: "req106",
		Packet: ackValue{Data: raw(`{"ok":true,"file":{"_placeholder":true,"num":0}}`), Attachments: [][]byte{bin1}}},
	"response_broadcast_ack_undefined": {Type: requestBroadcastAck, RequestID: "req106"},
}

func TestGoldenResponses(t *testing.T) {
	seen := 0
	for _, c := range loadGoldens(t) {
		if c.Kind != "response" {
			continue
		}
		seen++
		t.Run(c.Name, func(t *testing.T) {
			want, ok := goldenResponses[c.Name]
			if !ok {
				t.Fatal("no expectation for this golden")
			}
			if c.Channel != "socket.io-response#/#" {
				t.Errorf("channel %q", c.Channel)
			}
			if c.Name == "response_remote_fetch" {
				var j struct {
					Sockets json.RawMessage `json:"sockets"`
				}
				if err := json.Unmarshal(c.bytes, &j); err != nil {
					t.Fatal(err)
				}
				want.Sockets = j.Sockets
				if !bytes.Contains(j.Sockets, []byte(`"handshake":{"headers":`)) {
					t.Errorf("sockets %s", j.Sockets)
				}
			}
			r, err := decodeResponse(c.bytes)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r, want) {
				t.Errorf("response\n got %+v\nwant %+v", r, want)
			}
			var enc []byte
			if strings.HasSuffix(c.File, ".json") {
				enc, err = encodeResponseJSON(r)
			} else {
				enc, err = encodeResponseMsgpack(r)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, c.bytes) {
				t.Errorf("encoded\n got %s\nwant %s", enc, c.bytes)
			}
			if enc, err = encodeResponseMsgpack(r); err != nil {
				t.Fatal(err)
			}
			r2, err := decodeResponse(enc)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r2, r) {
				t.Errorf("via msgpack\n got %+v\nwant %+v", r2, r)
			}
		})
	}
	if seen != len(goldenResponses) {
		t.Errorf("%d response goldens, %d expected", seen, len(goldenResponses))
	}
}

// ---------------------------------------------------------------------------
// Broadcasts

// Helpers to write msgpack by hand, keys in a chosen order.
type (
	arr  int    // array header
	obj  int    // map header
	hexb string // raw bytes, in hex
)

func build(t testing.TB, vals ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	for _, v := range vals {
		var err error
		switch v := v.(type) {
		case nil:
			err = enc.EncodeNil()
		case string:
			err = enc.EncodeString(v)
		case int:
			err = enc.EncodeInt(int64(v))
		case float64:
			err = enc.EncodeFloat64(v)
		case bool:
			err = enc.EncodeBool(v)
		case []byte:
			err = enc.EncodeBytes(v)
		case arr:
			err = enc.EncodeArrayLen(int(v))
		case obj:
			err = enc.EncodeMapLen(int(v))
		case hexb:
			b, herr := hex.DecodeString(strings.ReplaceAll(string(v), " ", ""))
			if herr != nil {
				t.Fatal(herr)
			}
			buf.Write(b)
		default:
			t.Fatalf("build: %T", v)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// A well-formed packet and opts, for the cases that break the other part.
var (
	okPacket = []any{obj(3), "type", 2, "data", arr(1), "ev", "nsp", "/"}
	okOpts   = []any{obj(3), "rooms", arr(0), "except", arr(0), "flags", obj(0)}
)

func cat(parts ...[]any) []any {
	var out []any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestDecodeBroadcastErrors(t *testing.T) {
	undefined := hexb("d4 00 00")
	tests := []struct {
		name string
		msg  []any
	}{
		{"empty", nil},
		{"not an array", []any{obj(0)}},
		{"array of 2", []any{arr(2), "u", obj(0)}},
		{"array of 4", cat([]any{arr(4), "u"}, okPacket, okOpts, []any{nil})},
		{"uid not a string", cat([]any{arr(3), 1}, okPacket, okOpts)},
		{"uid nil", cat([]any{arr(3), nil}, okPacket, okOpts)},
		{"uid undefined", cat([]any{arr(3), undefined}, okPacket, okOpts)},
		{"packet nil", cat([]any{arr(3), "u", nil}, okOpts)},
		{"packet an array", cat([]any{arr(3), "u", arr(0)}, okOpts)},
		{"type missing", cat([]any{arr(3), "u", obj(2), "data", arr(1), "ev", "nsp", "/"}, okOpts)},
		{"type nil", cat([]any{arr(3), "u", obj(2), "type", nil, "data", arr(1), "ev"}, okOpts)},
		{"type a string", cat([]any{arr(3), "u", obj(2), "type", "2", "data", arr(1), "ev"}, okOpts)},
		{"type 7", cat([]any{arr(3), "u", obj(2), "type", 7, "data", arr(1), "ev"}, okOpts)},
		{"type -1", cat([]any{arr(3), "u", obj(2), "type", -1, "data", arr(1), "ev"}, okOpts)},
		{"type 2.5", cat([]any{arr(3), "u", obj(2), "type", 2.5, "data", arr(1), "ev"}, okOpts)},
		{"event without data", cat([]any{arr(3), "u", obj(1), "type", 2}, okOpts)},
		{"event with undefined data", cat([]any{arr(3), "u", obj(2), "type", 2, "data", undefined}, okOpts)},
		{"event data a string", cat([]any{arr(3), "u", obj(2), "type", 2, "data", "ev"}, okOpts)},
		{"event data empty", cat([]any{arr(3), "u", obj(2), "type", 2, "data", arr(0)}, okOpts)},
		{"ack data an object", cat([]any{arr(3), "u", obj(3), "type", 3, "data", obj(0), "id", 1}, okOpts)},
		{"binary CONNECT", cat([]any{arr(3), "u", obj(2), "type", 0, "data", []byte{1}}, okOpts)},
		{"id negative", cat([]any{arr(3), "u", obj(3), "type", 2, "data", arr(1), "ev", "id", -1}, okOpts)},
		{"id 1.5", cat([]any{arr(3), "u", obj(3), "type", 2, "data", arr(1), "ev", "id", 1.5}, okOpts)},
		{"id a string", cat([]any{arr(3), "u", obj(3), "type", 2, "data", arr(1), "ev", "id", "1"}, okOpts)},
		{"id beyond 2^53", cat([]any{arr(3), "u", obj(3), "type", 2, "data", arr(1), "ev", "id", 1 << 60}, okOpts)},
		{"nsp a number", cat([]any{arr(3), "u", obj(3), "type", 2, "data", arr(1), "ev", "nsp", 1}, okOpts)},
		{"packet key a number", cat([]any{arr(3), "u", obj(3), "type", 2, "data", arr(1), "ev", 1, 1}, okOpts)},
		{"unknown ext in data", cat([]any{arr(3), "u", obj(2), "type", 2, "data", arr(2), "ev", hexb("d5 07 0000")}, okOpts)},
		{"unknown ext in an unknown key", cat([]any{arr(3), "u", obj(3), "type", 2, "data", arr(1), "ev", "x", hexb("d5 07 0000")}, okOpts)},
		{"fake placeholder next to binary", cat([]any{arr(3), "u", obj(2), "type", 2, "data", arr(3), "ev", []byte{1},
			obj(2), "_placeholder", true, "num", 0}, okOpts)},
		{"opts a string", cat([]any{arr(3), "u"}, okPacket, []any{"x"})},
		{"rooms a number", cat([]any{arr(3), "u"}, okPacket, []any{obj(1), "rooms", 1})},
		{"room nil", cat([]any{arr(3), "u"}, okPacket, []any{obj(1), "rooms", arr(1), nil})},
		{"room a boolean", cat([]any{arr(3), "u"}, okPacket, []any{obj(1), "except", arr(1), true})},
		{"room NaN", cat([]any{arr(3), "u"}, okPacket, []any{obj(1), "except", arr(1), hexb("cb 7ff8000000000000")})},
		{"flags an array", cat([]any{arr(3), "u"}, okPacket, []any{obj(1), "flags", arr(0)})},
		{"volatile a string", cat([]any{arr(3), "u"}, okPacket, []any{obj(1), "flags", obj(1), "volatile", "yes"})},
		{"timeout a string", cat([]any{arr(3), "u"}, okPacket, []any{obj(1), "flags", obj(1), "timeout", "5"})},
		{"timeout NaN", cat([]any{arr(3), "u"}, okPacket, []any{obj(1), "flags", obj(1), "timeout", hexb("cb 7ff8000000000000")})},
		{"trailing bytes", cat([]any{arr(3), "u"}, okPacket, okOpts, []any{nil})},
		{"truncated", cat([]any{arr(3), "u"}, okPacket, []any{obj(3), "rooms"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := build(t, tt.msg...)
			if _, _, _, err := decodeBroadcast(msg); err == nil {
				t.Fatalf("no error for %x", msg)
			} else if !strings.HasPrefix(err.Error(), "redisadapter: decode broadcast: ") {
				t.Errorf("error %q", err)
			}
		})
	}
}

func TestDecodeBroadcastTolerates(t *testing.T) {
	undefined := hexb("d4 00 00")
	ev := socketio.Packet{Type: socketio.Event, Namespace: "/", ID: socketio.NoID, Data: raw(`["ev"]`)}
	tests := []struct {
		name   string
		msg    []any
		packet socketio.Packet
		opts   wireOpts
	}{
		{"missing nsp", cat([]any{arr(3), "u", obj(2), "type", 2, "data", arr(1), "ev"}, okOpts),
			ev, wireOpts{Rooms: []string{}, Except: []string{}}},
		{"undefined nsp and id, nil id", cat([]any{arr(3), "u", obj(4), "type", 2, "data", arr(1), "ev", "nsp", undefined, "id", nil}, okOpts),
			ev, wireOpts{Rooms: []string{}, Except: []string{}}},
		{"unknown keys", cat([]any{arr(3), "u", obj(4), "type", 2, "options", obj(1), "compress", true, "data", arr(1), "ev", "nsp", "/chat"},
			[]any{obj(4), "rooms", arr(1), "a", "x", arr(0), "except", arr(0), "flags", obj(3), "expectSingleResponse", true, "broadcast", true, "timeout", 10}),
			socketio.Packet{Type: socketio.Event, Namespace: "/chat", ID: socketio.NoID, Data: raw(`["ev"]`)},
			wireOpts{Rooms: []string{"a"}, Except: []string{}, Flags: wireFlags{Timeout: 10}}},
		{"nil opts", cat([]any{arr(3), "u"}, okPacket, []any{nil}), ev, wireOpts{}},
		{"undefined opts", cat([]any{arr(3), "u"}, okPacket, []any{undefined}), ev, wireOpts{}},
		{"empty opts (old emitter: no except)", cat([]any{arr(3), "u"}, okPacket, []any{obj(2), "rooms", arr(1), "r", "flags", obj(1), "volatile", true}),
			ev, wireOpts{Rooms: []string{"r"}, Flags: wireFlags{Volatile: true}}},
		{"nil rooms, except and flags", cat([]any{arr(3), "u"}, okPacket, []any{obj(3), "rooms", nil, "except", nil, "flags", nil}),
			ev, wireOpts{}},
		{"numeric rooms", cat([]any{arr(3), "u"}, okPacket, []any{obj(2), "rooms", arr(3), 1, 1.5, -2, "except", arr(1), hexb("cf ffffffffffffffff")}),
			ev, wireOpts{Rooms: []string{"1", "1.5", "-2"}, Except: []string{"18446744073709552000"}}},
		{"flags", cat([]any{arr(3), "u"}, okPacket, []any{obj(1), "flags", obj(4), "local", true, "volatile", false, "compress", false, "timeout", 1500.7}),
			ev, wireOpts{Flags: wireFlags{Local: true, Compress: boolPtr(false), Timeout: 1500}}},
		{"nil and undefined flags", cat([]any{arr(3), "u"}, okPacket, []any{obj(1), "flags", obj(3), "local", nil, "compress", undefined, "timeout", nil}),
			ev, wireOpts{}},
		{"type 2.0 and id 3.0", cat([]any{arr(3), "u", obj(3), "type", 2.0, "data", arr(1), "ev", "id", 3.0}, okOpts),
			socketio.Packet{Type: socketio.Event, Namespace: "/", ID: 3, Data: raw(`["ev"]`)}, wireOpts{Rooms: []string{}, Except: []string{}}},
		{"type 5 with binary (old emitter)", cat([]any{arr(3), "emitter", obj(3), "type", 5, "data", arr(2), "ev", []byte{7}, "nsp", "/"}, okOpts),
			socketio.Packet{Type: socketio.BinaryEvent, Namespace: "/", ID: socketio.NoID, Data: raw(`["ev",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{7}}},
			wireOpts{Rooms: []string{}, Except: []string{}}},
		{"type 5 without binary", cat([]any{arr(3), "u", obj(2), "type", 5, "data", arr(1), "ev"}, okOpts),
			ev, wireOpts{Rooms: []string{}, Except: []string{}}},
		{"ack with binary", cat([]any{arr(3), "u", obj(3), "type", 3, "data", arr(1), []byte{}, "id", 4}, okOpts),
			socketio.Packet{Type: socketio.BinaryAck, Namespace: "/", ID: 4, Data: raw(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{}}},
			wireOpts{Rooms: []string{}, Except: []string{}}},
		{"disconnect without data", cat([]any{arr(3), "u", obj(2), "type", 1, "nsp", "/a"}, okOpts),
			socketio.Packet{Type: socketio.Disconnect, Namespace: "/a", ID: socketio.NoID}, wireOpts{Rooms: []string{}, Except: []string{}}},
		{"duplicate data: the last counts", cat([]any{arr(3), "u", obj(3), "type", 2, "data", arr(2), "a", []byte{1}, "data", arr(1), "ev"}, okOpts),
			ev, wireOpts{Rooms: []string{}, Except: []string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid, p, o, err := decodeBroadcast(build(t, tt.msg...))
			if err != nil {
				t.Fatal(err)
			}
			if uid == "" {
				t.Error("no uid")
			}
			checkPacket(t, p, tt.packet)
			if !reflect.DeepEqual(o, tt.opts) {
				t.Errorf("opts %+v, want %+v", o, tt.opts)
			}
		})
	}
}

func TestEncodeBroadcast(t *testing.T) {
	p := socketio.Packet{Type: socketio.BinaryAck, Namespace: "/chat", ID: 12,
		Data: raw(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{bin0}}
	o := wireOpts{Rooms: []string{"a"}, Flags: wireFlags{Local: true, Volatile: true, Compress: boolPtr(true), Timeout: 1}}
	msg, err := encodeBroadcast("u", p, o)
	if err != nil {
		t.Fatal(err)
	}
	want := build(t, arr(3), "u",
		obj(4), "type", 3, "data", arr(1), bin0, "nsp", "/chat", "id", 12,
		obj(3), "rooms", arr(1), "a", "except", arr(0),
		"flags", obj(4), "local", true, "volatile", true, "compress", true, "timeout", 1)
	if !bytes.Equal(msg, want) {
		t.Errorf("got  %x\nwant %x", msg, want)
	}

	// No data, no id, empty namespace.
	msg, err = encodeBroadcast("u", socketio.Packet{Type: socketio.Disconnect, ID: socketio.NoID}, wireOpts{})
	if err != nil {
		t.Fatal(err)
	}
	want = build(t, arr(3), "u", obj(2), "type", 1, "nsp", "/", obj(3), "rooms", arr(0), "except", arr(0), "flags", obj(0))
	if !bytes.Equal(msg, want) {
		t.Errorf("got  %x\nwant %x", msg, want)
	}

	for name, p := range map[string]socketio.Packet{
		"placeholder out of range": {Type: socketio.Event, ID: socketio.NoID, Data: raw(`["a",{"_placeholder":true,"num":1}]`), Attachments: [][]byte{bin0}},
		"invalid JSON":             {Type: socketio.Event, ID: socketio.NoID, Data: raw(`["a"`)},
		"empty data":               {Type: socketio.Event, ID: socketio.NoID, Data: raw(``)},
		"type 7":                   {Type: 7, ID: socketio.NoID, Data: raw(`["a"]`)},
		"too deep":                 {Type: socketio.Event, ID: socketio.NoID, Data: raw(strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1))},
	} {
		if _, err := encodeBroadcast("u", p, wireOpts{}); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.HasPrefix(err.Error(), "redisadapter: encode broadcast: ") {
			t.Errorf("%s: error %q", name, err)
		}
	}
}

// ---------------------------------------------------------------------------
// Requests

func TestEncodeRequestJSON(t *testing.T) {
	tests := []struct {
		name string
		r    request
		want string
	}{
		{"SOCKETS", request{UID: "u", RequestID: "r", Type: requestSockets, Rooms: []string{}},
			`{"uid":"u","requestId":"r","type":0,"rooms":[]}`},
		{"single-socket REMOTE_JOIN", request{UID: "u", RequestID: "r", Type: requestRemoteJoin, SID: "s", Room: "room"},
			`{"uid":"u","requestId":"r","type":2,"sid":"s","room":"room"}`},
		{"single-socket REMOTE_DISCONNECT", request{UID: "u", RequestID: "r", Type: requestRemoteDisconnect, SID: "s"},
			`{"uid":"u","requestId":"r","type":4,"sid":"s","close":false}`},
		{"nil opts rooms are empty", request{UID: "u", Type: requestRemoteJoin, Opts: &wireOpts{}, Rooms: []string{"a"}},
			`{"uid":"u","type":2,"opts":{"rooms":[],"except":[]},"rooms":["a"]}`},
		{"flags only when set", request{UID: "u", Type: requestRemoteFetch, RequestID: "r", Opts: &wireOpts{Flags: wireFlags{Timeout: 5}}},
			`{"uid":"u","requestId":"r","type":5,"opts":{"rooms":[],"except":[],"flags":{"timeout":5}}}`},
		{"empty data", request{UID: "u", Type: requestServerSideEmit, Data: []json.RawMessage{}},
			`{"uid":"u","type":6,"data":[]}`},
		{"no HTML escaping, compacted data", request{UID: "<&>", Type: requestServerSideEmit, Data: []json.RawMessage{raw(`"<b>"`), raw(` { "a" : 1 } `), nil}},
			`{"uid":"<&>","type":6,"data":["<b>",{"a":1},null]}`},
		{"packet without binary", request{UID: "u", RequestID: "r", Type: requestBroadcast,
			Packet: &socketio.Packet{Type: socketio.Event, ID: 3, Data: raw(`["a"]`)}, Opts: &wireOpts{}},
			`{"uid":"u","requestId":"r","type":7,"packet":{"type":2,"data":["a"],"nsp":"/","id":3},"opts":{"rooms":[],"except":[]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := encodeRequestJSON(tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if string(msg) != tt.want {
				t.Errorf("got  %s\nwant %s", msg, tt.want)
			}
			r, err := decodeRequest(msg)
			if err != nil {
				t.Fatal(err)
			}
			msg2, err := encodeRequestJSON(r)
			if err != nil || string(msg2) != tt.want {
				t.Errorf("re-encoded %s, %v", msg2, err)
			}
			msg3, err := encodeRequestMsgpack(r)
			if err != nil {
				t.Fatal(err)
			}
			r3, err := decodeRequest(msg3)
			if err != nil {
				t.Fatal(err)
			}
			if msg4, err := encodeRequestJSON(r3); err != nil || string(msg4) != tt.want {
				t.Errorf("via msgpack %s, %v", msg4, err)
			}
		})
	}

	for name, r := range map[string]request{
		"binary packet":  {Type: requestBroadcast, Packet: &socketio.Packet{Type: socketio.Event, Data: raw(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}}}},
		"invalid data":   {Type: requestServerSideEmit, Data: []json.RawMessage{raw(`{`)}},
		"invalid packet": {Type: requestBroadcast, Packet: &socketio.Packet{Type: socketio.Event, Data: raw(`[`)}},
	} {
		if _, err := encodeRequestJSON(r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := encodeRequestMsgpack(request{Type: requestBroadcast, Packet: &socketio.Packet{Type: 9}}); err == nil {
		t.Error("msgpack, packet type 9: no error")
	}
}

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want request
	}{
		{"numeric rooms", `{"type":0,"rooms":[1,"a",1.5,-0]}`, request{Type: requestSockets, Rooms: []string{"1", "a", "1.5", "0"}}},
		{"numeric room", `{"type":2,"sid":"s","room":7}`, request{Type: requestRemoteJoin, SID: "s", Room: "7"}},
		{"nulls are absent", `{"uid":"u","type":4,"opts":null,"close":null,"rooms":null,"data":null,"packet":null,"room":null}`,
			request{UID: "u", Type: requestRemoteDisconnect}},
		{"unknown keys", `{"uid":"u","type":1,"x":[1,{"y":2}]}`, request{UID: "u", Type: requestAllRooms}},
		{"type 1.0", `{"type":1.0}`, request{Type: requestAllRooms}},
		{"unknown type", `{"type":42}`, request{Type: 42}},
		{"opts with flags", `{"type":5,"opts":{"rooms":["a"],"flags":{"volatile":true,"compress":false,"timeout":2.5,"other":1}}}`,
			request{Type: requestRemoteFetch, Opts: &wireOpts{Rooms: []string{"a"}, Flags: wireFlags{Volatile: true, Compress: boolPtr(false), Timeout: 2}}}},
		{"msgpack", string(build(t, obj(4), "type", 2, "opts", obj(1), "except", arr(1), "x", "rooms", arr(1), 3, "extra", arr(1), nil)),
			request{Type: requestRemoteJoin, Opts: &wireOpts{Except: []string{"x"}}, Rooms: []string{"3"}}},
		{"msgpack with data", string(build(t, obj(3), "uid", "u", "type", 6, "data", arr(2), "ev", obj(1), "a", hexb("d4 00 00"))),
			request{UID: "u", Type: requestServerSideEmit, Data: []json.RawMessage{raw(`"ev"`), raw(`{}`)}}},
		{"msgpack undefined values", string(build(t, obj(4), "type", 3, "opts", hexb("d4 00 00"), "rooms", nil, "requestId", nil)),
			request{Type: requestRemoteLeave}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := decodeRequest([]byte(tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			checkRequest(t, r, tt.want)
		})
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"invalid JSON", []byte(`{"type":1`)},
		{"JSON array", []byte(`[1]`)}, // not '{': read as msgpack, which it is not
		{"missing type", []byte(`{"uid":"u"}`)},
		{"null type", []byte(`{"type":null}`)},
		{"string type", []byte(`{"type":"1"}`)},
		{"fraction type", []byte(`{"type":1.5}`)},
		{"huge type", []byte(`{"type":1e10}`)},
		{"uid a number", []byte(`{"uid":1,"type":1}`)},
		{"requestId a number", []byte(`{"requestId":1,"type":1}`)},
		{"data not an array", []byte(`{"type":6,"data":{"a":1}}`)},
		{"rooms not an array", []byte(`{"type":0,"rooms":"a"}`)},
		{"rooms with null", []byte(`{"type":0,"rooms":[null]}`)},
		{"rooms with true", []byte(`{"type":0,"rooms":[true]}`)},
		{"room an object", []byte(`{"type":2,"room":{}}`)},
		{"close a string", []byte(`{"type":4,"close":"yes"}`)},
		{"opts rooms a string", []byte(`{"type":5,"opts":{"rooms":"a"}}`)},
		{"opts timeout a string", []byte(`{"type":7,"opts":{"flags":{"timeout":"1"}}}`)},
		{"packet without type", []byte(`{"type":7,"packet":{"data":["a"]}}`)},
		{"packet with bad data", []byte(`{"type":7,"packet":{"type":2,"data":"a"}}`)},
		{"packet with bad id", []byte(`{"type":7,"packet":{"type":2,"data":["a"],"id":-1}}`)},
		{"msgpack not a map", build(t, arr(0))},
		{"msgpack without type", build(t, obj(1), "uid", "u")},
		{"msgpack type a string", build(t, obj(1), "type", "1")},
		{"msgpack type too big", build(t, obj(1), "type", 1<<40)},
		{"msgpack binary data", build(t, obj(2), "type", 6, "data", arr(1), []byte{1})},
		{"msgpack data a map", build(t, obj(2), "type", 6, "data", obj(0))},
		{"msgpack bad packet", build(t, obj(2), "type", 7, "packet", obj(1), "type", 9)},
		{"msgpack close a number", build(t, obj(2), "type", 4, "close", 1)},
		{"msgpack trailing bytes", build(t, obj(1), "type", 1, nil)},
		{"msgpack key a number", build(t, obj(1), 1, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := decodeRequest(tt.msg); err == nil {
				t.Fatalf("no error: %+v", r)
			} else if !strings.HasPrefix(err.Error(), "redisadapter: decode request: ") {
				t.Errorf("error %q", err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Responses

func TestEncodeResponse(t *testing.T) {
	tests := []struct {
		name string
		r    response
		want string
	}{
		{"empty rooms", response{RequestID: "r", Rooms: []string{}}, `{"requestId":"r","rooms":[]}`},
		{"client count 0", response{Type: requestBroadcastClientCount, RequestID: "r"}, `{"type":8,"requestId":"r","clientCount":0}`},
		{"null ack", response{Type: requestServerSideEmit, RequestID: "r", Data: raw(`null`)}, `{"type":6,"requestId":"r","data":null}`},
		{"undefined ack", response{Type: requestServerSideEmit, RequestID: "r"}, `{"type":6,"requestId":"r"}`},
		{"plain broadcast ack", response{Type: requestBroadcastAck, RequestID: "r", Packet: ackValue{Data: raw(`"<ok>"`)}},
			`{"type":9,"requestId":"r","packet":"<ok>"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := encodeResponseJSON(tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if string(msg) != tt.want {
				t.Errorf("got  %s\nwant %s", msg, tt.want)
			}
			for _, enc := range []func(response) ([]byte, error){encodeResponseJSON, encodeResponseMsgpack} {
				msg, err := enc(tt.r)
				if err != nil {
					t.Fatal(err)
				}
				r, err := decodeResponse(msg)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(r, tt.r) {
					t.Errorf("decoded %+v, want %+v", r, tt.r)
				}
			}
		})
	}

	binary := response{Type: requestBroadcastAck, RequestID: "r",
		Packet: ackValue{Data: raw(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{bin0}}}
	if _, err := encodeResponseJSON(binary); err == nil {
		t.Error("JSON with attachments: no error")
	}
	if _, err := encodeResponseMsgpack(response{RequestID: "r", Sockets: raw(`[`)}); err == nil {
		t.Error("msgpack with invalid sockets: no error")
	}
	if _, err := encodeResponseJSON(response{RequestID: "r", Data: raw(`{`)}); err == nil {
		t.Error("JSON with invalid data: no error")
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	tests := []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"invalid JSON", []byte(`{"requestId":"r"`)},
		{"type a string", []byte(`{"type":"8"}`)},
		{"clientCount a fraction", []byte(`{"type":8,"clientCount":1.5}`)},
		{"rooms an object", []byte(`{"rooms":{}}`)},
		{"requestId a number", []byte(`{"requestId":5}`)},
		{"msgpack not a map", build(t, "x")},
		{"msgpack binary sockets", build(t, obj(1), "sockets", arr(1), []byte{1})},
		{"msgpack binary data", build(t, obj(1), "data", []byte{1})},
		{"msgpack bad packet", build(t, obj(1), "packet", hexb("c1"))},
		{"msgpack clientCount a string", build(t, obj(1), "clientCount", "1")},
		{"msgpack trailing bytes", build(t, obj(0), obj(0))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := decodeResponse(tt.msg); err == nil {
				t.Fatalf("no error: %+v", r)
			} else if !strings.HasPrefix(err.Error(), "redisadapter: decode response: ") {
				t.Errorf("error %q", err)
			}
		})
	}
}
