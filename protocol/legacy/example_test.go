package legacy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/expressio-go/expressio/protocol/legacy"
)

// echo answers every event that asks for ack data with its own arguments.
type echo struct{}

func (echo) Open(s *legacy.Session) legacy.Receiver { return echoSession{s} }

type echoSession struct{ s *legacy.Session }

func (e echoSession) OnPacket(p legacy.Packet) {
	if p.Type != legacy.Event || !p.Ack {
		return
	}
	_, args, err := legacy.ParseEvent(p.Data)
	if err != nil {
		return
	}
	arr, _ := json.Marshal(args)
	data, _ := legacy.AckData(p.ID, arr)
	e.s.Send(legacy.Packet{Type: legacy.Ack, Endpoint: p.Endpoint, Data: data})
}

func (echoSession) OnClose(string) {}

// A socket.io 0.9 server driven the way socket.io-client 0.9 drives it
// over xhr-polling: handshake, first poll, an event with an ack, the ack,
// and the client's disconnect.
func ExampleNewServer() {
	srv := legacy.NewServer(echo{}, nil)
	ts := httptest.NewServer(srv) // sees whole paths: /socket.io/1/…
	defer ts.Close()
	defer srv.Shutdown(context.Background())

	do := func(method, path, body string) string {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	sid, rest, _ := strings.Cut(do("GET", "/socket.io/1/?t=1", ""), ":")
	fmt.Println("handshake:", rest)
	poll := "/socket.io/1/xhr-polling/" + sid
	fmt.Println("poll:", do("GET", poll, ""))
	fmt.Println("post:", do("POST", poll, `5:1+::{"name":"echo","args":[1,"a"]}`))
	fmt.Println("poll:", do("GET", poll, ""))
	fmt.Println("disconnect:", do("POST", poll, "0::"))
	// Output:
	// handshake: 60:60:websocket,htmlfile,xhr-polling,jsonp-polling
	// poll: 1::
	// post: 1
	// poll: 6:::1+[1,"a"]
	// disconnect: 1
}
