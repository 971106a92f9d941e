package packet_test

import (
	"fmt"
	"time"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
)

func ExampleEncodePayload() {
	pkts := []packet.Packet{
		{Type: packet.Message, Data: []byte("héllo 😀")},
		{Type: packet.Message, Data: []byte{1, 2, 3}, Binary: true},
	}

	// Revision 4: packets joined by 0x1E, binary as base64.
	body, contentType := packet.EncodePayload(4, pkts, true)
	fmt.Printf("%q %s\n", body, contentType)

	// Revision 3 for a b64 client: lengths in UTF-16 units ("😀" counts 2).
	body, contentType = packet.EncodePayload(3, pkts, false)
	fmt.Printf("%q %s\n", body, contentType)

	// Revision 3 for a client with binary support: the XHR2 binary payload.
	body, contentType = packet.EncodePayload(3, pkts, true)
	fmt.Printf("% x %s\n", body, contentType)
	// Output:
	// "4héllo 😀\x1ebAQID" text/plain; charset=UTF-8
	// "9:4héllo 😀6:b4AQID" text/plain; charset=UTF-8
	// 00 01 02 ff 34 68 c3 a9 6c 6c 6f 20 f0 9f 98 80 01 04 ff 04 01 02 03 application/octet-stream
}

func ExampleDecodePayload() {
	pkts, err := packet.DecodePayload(3, []byte("6:4hello2:2x"), false, 16)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range pkts {
		fmt.Printf("%s %q\n", p.Type, p.Data)
	}

	_, err = packet.DecodePayload(3, []byte("99999999:4x"), false, 16)
	fmt.Println(err)
	// Output:
	// message "hello"
	// ping "x"
	// packet: invalid payload: byte 0: length prefix points past the end of the body
}

func ExampleEncodeFrame() {
	data, binary := packet.EncodeFrame(3, packet.Packet{Type: packet.Message, Data: []byte{1, 2}, Binary: true})
	fmt.Printf("%x %v\n", data, binary)
	data, binary = packet.EncodeFrame(4, packet.Packet{Type: packet.Ping, Data: []byte("probe")})
	fmt.Printf("%s %v\n", data, binary)
	// Output:
	// 040102 true
	// 2probe false
}

func ExampleDecodeFrame() {
	p, err := packet.DecodeFrame(4, []byte("bAQID"), false)
	fmt.Println(p.Type, p.Data, p.Binary, err)
	_, err = packet.DecodeFrame(4, []byte("9"), false)
	fmt.Println(err)
	// Output:
	// message [1 2 3] true <nil>
	// packet: invalid packet: unknown packet type '9'
}

func ExampleEncodeJSONP() {
	index := "2" // the j query parameter
	if !packet.ValidJSONPIndex(index) {
		return // answer 400
	}
	payload, _ := packet.EncodePayload(3, []packet.Packet{{Type: packet.Message, Data: []byte(`say "hi"`)}}, false)
	fmt.Printf("%s\n", packet.EncodeJSONP(index, payload))
	// Output:
	// ___eio[2]("9:4say \"hi\"");
}

func ExampleDecodeJSONPBody() {
	payload, err := packet.DecodeJSONPBody([]byte("d=7%3A4line%5Cn"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", payload)
	// Output:
	// "7:4line\n"
}

func ExampleOpenData() {
	data := packet.OpenData("Zr8lCb9sAAAB", []string{"websocket"}, 25*time.Second, 20*time.Second, 1e6)
	frame, _ := packet.EncodeFrame(4, packet.Packet{Type: packet.Open, Data: data})
	fmt.Printf("%s\n", frame)
	// Output:
	// 0{"sid":"Zr8lCb9sAAAB","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}
}

func ExampleAppendPayload() {
	buf := make([]byte, 0, 512) // e.g. from a sync.Pool
	buf, contentType := packet.AppendPayload(buf[:0], 3, []packet.Packet{
		{Type: packet.Message, Data: []byte("😀")},
		{Type: packet.Noop},
	}, true)
	fmt.Printf("%s %s\n", buf, contentType)
	// Output:
	// 3:4😀1:6 text/plain; charset=UTF-8
}
