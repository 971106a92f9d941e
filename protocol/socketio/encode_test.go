package socketio

import (
	"testing"
)

func TestEncode(t *testing.T) {
	a := []byte{1}
	tests := []struct {
		name string
		p    Packet
		text string
		bins int
	}{
		{"v4 connect reply", Packet{Type: Connect, Namespace: "/", ID: NoID}, `0`, 0},
		{"v4 connect reply nsp", Packet{Type: Connect, Namespace: "/admin", ID: NoID}, `0/admin,`, 0},
		{"v5 connect reply", Packet{Type: Connect, Namespace: "/", ID: NoID, Data: raw(`{"sid":"x"}`)}, `0{"sid":"x"}`, 0},
		{"v5 connect reply nsp", Packet{Type: Connect, Namespace: "/admin", ID: NoID, Data: raw(`{"sid":"x"}`)}, `0/admin,{"sid":"x"}`, 0},
		{"v4 connect with query", Packet{Type: Connect, Namespace: "/admin", Query: "t=1", ID: NoID}, `0/admin?t=1,`, 0},
		{"v4 query on root", Packet{Type: Connect, Namespace: "/", Query: "t=1", ID: NoID}, `0/?t=1,`, 0},
		{"empty namespace is root", Packet{Type: Disconnect, ID: NoID}, `1`, 0},
		{"empty namespace with query", Packet{Type: Connect, Query: "a", ID: NoID}, `0/?a,`, 0},
		{"zero value", Packet{}, `0`, 0},
		{"id ignored on connect", Packet{Type: Connect, Namespace: "/a", ID: 3}, `0/a,`, 0},
		{"id ignored on connect_error", Packet{Type: ConnectError, ID: 3, Data: raw(`"x"`)}, `4"x"`, 0},
		{"negative id is none", Packet{Type: Event, ID: -5, Data: raw(`["a"]`)}, `2["a"]`, 0},
		{"null data omitted", Packet{Type: ConnectError, ID: NoID, Data: raw(`null`)}, `4`, 0},
		{"event with attachments becomes binary", Packet{Type: Event, Namespace: "/a", ID: 3, Data: raw(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{a}},
			`51-/a,3[{"_placeholder":true,"num":0}]`, 1},
		{"ack with attachments becomes binary", Packet{Type: Ack, ID: 1, Data: raw(`[]`), Attachments: [][]byte{a, a}}, `62-1[]`, 2},
		{"binary without attachments becomes plain", Packet{Type: BinaryEvent, ID: NoID, Data: raw(`["a"]`)}, `2["a"]`, 0},
		{"binary ack without attachments", Packet{Type: BinaryAck, ID: 2, Data: raw(`[]`)}, `32[]`, 0},
		{"attachments ignored on connect", Packet{Type: Connect, ID: NoID, Attachments: [][]byte{a}}, `0`, 0},
		{"twelve attachments", Packet{Type: Event, ID: NoID, Data: raw(`["a"]`), Attachments: make([][]byte, 12)}, `512-["a"]`, 12},
		{"large id", Packet{Type: Event, ID: 1<<63 - 1, Data: raw(`["a"]`)}, `29223372036854775807["a"]`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, bins := tt.p.Encode()
			if string(text) != tt.text || len(bins) != tt.bins {
				t.Errorf("Encode = %s + %d attachments, want %s + %d", text, len(bins), tt.text, tt.bins)
			}
			if got := tt.p.AppendText(nil); string(got) != tt.text {
				t.Errorf("AppendText = %s, want %s", got, tt.text)
			}
		})
	}
}

func TestEncodeAllocs(t *testing.T) {
	p := Packet{Type: Event, Namespace: "/chat", ID: 12, Data: raw(`["message",{"text":"hello"},1]`)}
	if n := testing.AllocsPerRun(100, func() { p.Encode() }); n != 1 {
		t.Errorf("Encode allocates %v times, want 1", n)
	}
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() { buf = p.AppendText(buf[:0]) }); n != 0 {
		t.Errorf("AppendText allocates %v times, want 0", n)
	}
}

func TestTypeString(t *testing.T) {
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK", "Type(7)"}
	for i, w := range want {
		if got := Type(i).String(); got != w {
			t.Errorf("Type(%d).String() = %q, want %q", i, got, w)
		}
	}
	if V4.String() != "v4" || V5.String() != "v5" {
		t.Errorf("Revision strings: %v %v", V4, V5)
	}
	if !BinaryEvent.IsEvent() || !Event.IsEvent() || Ack.IsEvent() || !BinaryAck.IsAck() || !BinaryAck.IsBinary() || Event.IsBinary() {
		t.Error("Type predicates are wrong")
	}
}

func TestSplitNamespaceQuery(t *testing.T) {
	for _, tt := range []struct{ in, name, query string }{
		{"/admin?token=abc&x=1", "/admin", "token=abc&x=1"},
		{"/admin", "/admin", ""},
		{"/?a", "/", "a"},
		{"/a?b?c", "/a", "b?c"},
	} {
		if n, q := SplitNamespaceQuery(tt.in); n != tt.name || q != tt.query {
			t.Errorf("SplitNamespaceQuery(%q) = %q, %q", tt.in, n, q)
		}
	}
}
