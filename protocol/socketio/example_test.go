package socketio_test

import (
	"errors"
	"fmt"

	"github.com/expressio-go/expressio/protocol/socketio"
)

func ExampleDecoder_Decode() {
	var dec socketio.Decoder // one per connection; the zero value speaks v5

	// A binary event arrives as a text message and then one binary message.
	p, err := dec.Decode([]byte(`51-/chat,7["upload",{"_placeholder":true,"num":0}]`), false)
	fmt.Println(p, err, dec.Pending())
	p, err = dec.Decode([]byte{0xca, 0xfe}, true)
	if err != nil {
		panic(err)
	}
	name, args, _ := socketio.SplitEvent(p.Data)
	values, _ := socketio.ReconstructArgs(args, p.Attachments)
	fmt.Printf("%v %s id=%d %q %x\n", p.Type, p.Namespace, p.ID, name, values[0])

	// Bad input is an error: close the connection.
	_, err = dec.Decode([]byte(`2["connect"]`), false)
	fmt.Println(errors.Is(err, socketio.ErrReservedEventName))

	// Output:
	// <nil> <nil> true
	// BINARY_EVENT /chat id=7 "upload" cafe
	// true
}

func ExamplePacket_Encode() {
	data, attachments, err := socketio.BuildArgs("upload", "photo.png", []byte{0xca, 0xfe})
	if err != nil {
		panic(err)
	}
	p := socketio.Packet{Type: socketio.Event, Namespace: "/chat", ID: socketio.NoID, Data: data, Attachments: attachments}
	text, bins := p.Encode()
	fmt.Printf("%s\n%x\n", text, bins)

	// The server's CONNECT reply: v5 carries the socket id, v4 nothing.
	v5 := socketio.Packet{Type: socketio.Connect, Namespace: "/chat", ID: socketio.NoID, Data: []byte(`{"sid":"abc"}`)}
	v4 := socketio.Packet{Type: socketio.Connect, Namespace: "/chat", ID: socketio.NoID}
	t5, _ := v5.Encode()
	t4, _ := v4.Encode()
	fmt.Printf("%s\n%s\n", t5, t4)

	// Output:
	// 51-/chat,["upload","photo.png",{"_placeholder":true,"num":0}]
	// [cafe]
	// 0/chat,{"sid":"abc"}
	// 0/chat,
}

func ExampleSplitEvent() {
	name, args, err := socketio.SplitEvent([]byte(`["chat",{"text":"hi"},2]`))
	fmt.Println(name, len(args), string(args[0]), err)
	// Output: chat 2 {"text":"hi"} <nil>
}

func ExampleBuildArgs() {
	data, attachments, _ := socketio.BuildArgs("file", map[string]any{"name": "a.txt", "body": []byte("hi")})
	fmt.Printf("%s %q\n", data, attachments)
	// Output: ["file",{"body":{"_placeholder":true,"num":0},"name":"a.txt"}] ["hi"]
}

func ExampleInlineAttachments() {
	data, _ := socketio.InlineAttachments([]byte(`[{"_placeholder":true,"num":0}]`), [][]byte{[]byte("hi")})
	fmt.Printf("%s\n", data)
	// Output: ["aGk="]
}
