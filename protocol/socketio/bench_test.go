package socketio

import "testing"

func BenchmarkEncodeEvent(b *testing.B) {
	data, _, err := BuildArgs("message", map[string]any{"user": "ann", "text": "hello world"}, 42, true)
	if err != nil {
		b.Fatal(err)
	}
	p := Packet{Type: Event, Namespace: "/chat", ID: NoID, Data: data}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		p.Encode()
	}
}

func BenchmarkAppendTextEvent(b *testing.B) {
	data, _, _ := BuildArgs("message", map[string]any{"user": "ann", "text": "hello world"}, 42, true)
	p := Packet{Type: Event, Namespace: "/chat", ID: NoID, Data: data}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = p.AppendText(buf[:0])
	}
}

func BenchmarkBuildArgs3(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := BuildArgs("message", "hello world", 42, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildArgsStruct(b *testing.B) {
	type msg struct {
		User string `json:"user"`
		Text string `json:"text"`
		Blob []byte `json:"blob"`
	}
	m := msg{User: "ann", Text: "hello", Blob: []byte{1, 2, 3}}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := BuildArgs("upload", m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	in := []byte(`2/chat,12["message",{"user":"ann","text":"hello world"},42,true]`)
	var d Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := d.Decode(in, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSplitEvent(b *testing.B) {
	in := []byte(`2/chat,12["message",{"user":"ann","text":"hello world"},42,true]`)
	var d Decoder
	b.ReportAllocs()
	for b.Loop() {
		p, err := d.Decode(in, false)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := SplitEvent(p.Data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinaryEvent(b *testing.B) {
	in := []byte(`52-["upload",{"_placeholder":true,"num":0},{"file":{"_placeholder":true,"num":1}}]`)
	att := make([]byte, 1024)
	var d Decoder
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(in, false)
		d.Decode(att, true)
		if p, err := d.Decode(att, true); p == nil || err != nil {
			b.Fatal(err)
		}
	}
}
