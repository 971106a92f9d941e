package socketio

import (
	"bytes"
	"encoding/json"
	"testing"
)

var (
	bin0 = []byte{0x00, 0x01, 0xfe, 0xff}
	bin1 = []byte("hello, world")
)

// goldenPackets is what each golden frame holds. args, when set, must build the
// same Data and attachments with BuildArgs.
var goldenPackets = map[string]struct {
	p    Packet
	args []any
}{
	"v5/connect":            {p: Packet{Type: Connect, Namespace: "/", ID: NoID}},
	"v5/connect_nsp":        {p: Packet{Type: Connect, Namespace: "/admin", ID: NoID}},
	"v5/connect_auth":       {p: Packet{Type: Connect, Namespace: "/admin", ID: NoID, Data: raw(`{"token":"abc"}`)}},
	"v5/connect_reply":      {p: Packet{Type: Connect, Namespace: "/", ID: NoID, Data: raw(`{"sid":"zCqJ8vV2x6c7A0tLAAAB"}`)}},
	"v5/connect_reply_nsp":  {p: Packet{Type: Connect, Namespace: "/admin", ID: NoID, Data: raw(`{"sid":"zCqJ8vV2x6c7A0tLAAAB"}`)}},
	"v5/connect_error":      {p: Packet{Type: ConnectError, Namespace: "/", ID: NoID, Data: raw(`{"message":"Not authorized"}`)}},
	"v5/connect_error_data": {p: Packet{Type: ConnectError, Namespace: "/admin", ID: NoID, Data: raw(`{"message":"Not authorized","data":{"code":401}}`)}},
	"v4/connect_nsp":        {p: Packet{Type: Connect, Namespace: "/admin", ID: NoID}},
	"v4/connect_query":      {p: Packet{Type: Connect, Namespace: "/admin", Query: "token=abc&x=1", ID: NoID}},
	"v4/connect_reply":      {p: Packet{Type: Connect, Namespace: "/", ID: NoID}},
	"v4/connect_reply_nsp":  {p: Packet{Type: Connect, Namespace: "/admin", ID: NoID}},
	"v4/connect_error":      {p: Packet{Type: ConnectError, Namespace: "/", ID: NoID, Data: raw(`"Not authorized"`)}},
	"v4/connect_error_data": {p: Packet{Type: ConnectError, Namespace: "/admin", ID: NoID, Data: raw(`{"code":401}`)}},
}

// sharedPackets are the cases whose frames are the same in v4 and v5.
var sharedPackets = map[string]struct {
	p    Packet
	args []any
}{
	"event": {
		p:    Packet{Type: Event, Namespace: "/", ID: NoID, Data: raw(`["chat","hello"]`)},
		args: []any{"chat", "hello"},
	},
	"event_ack": {p: Packet{Type: Event, Namespace: "/", ID: 12, Data: raw(`["chat","hello"]`)}},
	"event_nsp": {
		p:    Packet{Type: Event, Namespace: "/admin", ID: NoID, Data: raw(`["chat",{"a":1,"b":[true,null,1.5],"s":"é\n\"<>&` + "\u2028" + `"}]`)},
		args: []any{"chat", map[string]any{"a": 1, "b": []any{true, nil, 1.5}, "s": "é\n\"<>&\u2028"}},
	},
	"event_nsp_ack":     {p: Packet{Type: Event, Namespace: "/admin", ID: 7, Data: raw(`["ready"]`)}},
	"event_number_name": {p: Packet{Type: Event, Namespace: "/", ID: NoID, Data: raw(`[42,"x"]`)}, args: []any{42, "x"}},
	"binary_event": {
		p: Packet{Type: BinaryEvent, Namespace: "/", ID: NoID,
			Data:        raw(`["upload",{"_placeholder":true,"num":0},{"file":{"_placeholder":true,"num":1}}]`),
			Attachments: [][]byte{bin0, bin1}},
		args: []any{"upload", bin0, map[string]any{"file": bin1}},
	},
	"binary_event_nsp_ack": {
		p: Packet{Type: BinaryEvent, Namespace: "/admin", ID: 3,
			Data:        raw(`["upload",[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]]`),
			Attachments: [][]byte{bin0, bin1}},
		args: []any{"upload", [][]byte{bin0, bin1}},
	},
	"ack":           {p: Packet{Type: Ack, Namespace: "/", ID: 12, Data: raw(`["ok",1]`)}, args: []any{"ok", 1.0}},
	"ack_nsp_empty": {p: Packet{Type: Ack, Namespace: "/admin", ID: 3, Data: raw(`[]`)}, args: []any{}},
	"binary_ack": {
		p: Packet{Type: BinaryAck, Namespace: "/admin", ID: 4,
			Data:        raw(`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`),
			Attachments: [][]byte{bin0, bin1}},
		args: []any{bin0, bin1},
	},
	"disconnect":     {p: Packet{Type: Disconnect, Namespace: "/", ID: NoID}},
	"disconnect_nsp": {p: Packet{Type: Disconnect, Namespace: "/admin", ID: NoID}},
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func TestGolden(t *testing.T) {
	for _, g := range readGoldens(t) {
		t.Run(g.name, func(t *testing.T) {
			want, ok := goldenPackets[g.name]
			if !ok {
				want, ok = sharedPackets[g.name[len("v5/"):]]
			}
			if !ok {
				t.Fatalf("golden %s has no entry in goldenPackets/sharedPackets", g.name)
			}

			text, bins := want.p.Encode()
			if !bytes.Equal(text, g.text) {
				t.Errorf("Encode text\n got %s\nwant %s", text, g.text)
			}
			if !equalBins(bins, g.bins) {
				t.Errorf("Encode attachments = %q, want %q", bins, g.bins)
			}
			if got := want.p.AppendText([]byte("x")); !bytes.Equal(got[1:], g.text) || got[0] != 'x' {
				t.Errorf("AppendText = %s", got)
			}

			d := Decoder{Revision: g.rev}
			got, err := decodeAll(&d, g.text, g.bins)
			if err != nil || !samePacket(got, &want.p) {
				t.Errorf("Decode = %+v, %v\nwant %+v", got, err, want.p)
			}
			if d.Pending() {
				t.Error("decoder still pending after the last attachment")
			}

			if want.args != nil {
				data, atts, err := BuildArgs(want.args...)
				if err != nil || !bytes.Equal(data, want.p.Data) || !equalBins(atts, want.p.Attachments) {
					t.Errorf("BuildArgs = %s, %q, %v\nwant %s, %q", data, atts, err, want.p.Data, want.p.Attachments)
				}
			}
		})
	}
}

func TestGoldenCoverage(t *testing.T) {
	have := map[string]bool{}
	for _, g := range readGoldens(t) {
		have[g.name] = true
	}
	for name := range goldenPackets {
		if !have[name] {
			t.Errorf("no golden file for %s", name)
		}
	}
	for name := range sharedPackets {
		for _, rev := range []string{"v4/", "v5/"} {
			if !have[rev+name] {
				t.Errorf("no golden file for %s%s", rev, name)
			}
		}
	}
}

func equalBins(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
