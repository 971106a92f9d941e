package expressio_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/expressio"
	"github.com/expressio-go/expressio/protocol/engineio"
)

func echoServer(opts *expressio.Options) *expressio.Server {
	io := expressio.NewServer(opts)
	io.Route("echo", func(req *expressio.SocketRequest) {
		vals, err := req.Values()
		if err != nil {
			panic(err)
		}
		req.IO.Respond(vals...)
	})
	return io
}

func TestAckBothRevisions(t *testing.T) {
	ts := newServer(t, echoServer(nil))
	// Protocol v4 clients get non-ASCII text as JSON escapes, which
	// socket.io-client 1.x decodes correctly over polling too.
	want := map[string]string{
		"3": `431[1,"h\u00e9llo \ud83d\ude00",{"a":[true,null]}]`,
		"4": `431[1,"héllo 😀",{"a":[true,null]}]`,
	}
	for _, eio := range []string{"3", "4"} {
		c := connect(t, ts, eio)
		c.send(`421["echo",1,"héllo 😀",{"a":[true,null]}]`)
		c.expect(want[eio])
		// No ack asked: nothing comes back.
		c.send(`42["echo",1]`)
		c.expectNothing(100 * time.Millisecond)
	}
}

func TestBinaryEcho(t *testing.T) {
	ts := newServer(t, echoServer(nil))
	for _, eio := range []string{"3", "4"} {
		c := connect(t, ts, eio)
		c.send(`451-7["echo",{"nested":{"_placeholder":true,"num":0}}]`)
		bin := []byte{0xde, 0xad}
		if eio == "3" {
			bin = append([]byte{4}, bin...)
		}
		c.sendBinary(bin)
		c.expect(`461-7[{"nested":{"_placeholder":true,"num":0}}]`)
		f, err := c.next(time.Second)
		if err != nil || f.kind != websocket.BinaryMessage || f.data != string(bin) {
			t.Fatalf("EIO=%s attachment: %v %+v", eio, err, f)
		}
	}
}

func TestConnectPackets(t *testing.T) {
	io := expressio.NewServer(nil)
	io.Of("/chat")
	ts := newServer(t, io)

	c := dial(t, ts, "4")
	c.send(`40{"token":"x"}`)
	if got := c.read(); !strings.HasPrefix(got, `40{"sid":"`) {
		t.Fatalf("v5 connect answer %q", got)
	}
	c.send(`40/chat,`)
	if got := c.read(); !strings.HasPrefix(got, `40/chat,{"sid":"`) {
		t.Fatalf("v5 namespace connect answer %q", got)
	}
	c.send(`40/nope,`)
	c.expect(`44/nope,{"message":"Invalid namespace"}`)

	old := dial(t, ts, "3")
	old.expect("40") // implicit root connect
	old.send(`40/chat?x=1`)
	old.expect(`40/chat,`)
	old.send(`40/nope`)
	old.expect(`44/nope,"Invalid namespace"`)
}

func TestMiddlewareReject(t *testing.T) {
	io := expressio.NewServer(nil)
	io.Use(func(h *expressio.Handshake) error {
		if h.Query.Get("token") == "bad" || strings.Contains(string(h.Auth), "bad") {
			return &expressio.ConnectError{Message: "unauthorized", Data: map[string]string{"reason": "bad token"}}
		}
		if h.Query.Get("token") == "plain" {
			return errors.New("go away")
		}
		h.Set("user", "zoë")
		return nil
	})
	io.Route("who", func(req *expressio.SocketRequest) {
		user, _ := req.Handshake.Get("user")
		req.IO.Respond(user)
	})
	ts := newServer(t, io)

	c := dial(t, ts, "4")
	c.send(`40{"token":"bad"}`)
	c.expect(`44{"message":"unauthorized","data":{"reason":"bad token"}}`)
	c.send(`42["who"]`) // not connected: a protocol violation
	if !c.closed(time.Second) {
		t.Fatal("event after a refused connect did not close the connection")
	}

	old := dialURL(t, ts, "3", "&token=bad")
	old.expect(`44{"reason":"bad token"}`) // socket.io 4 sends err.data to v4 clients
	plain := dialURL(t, ts, "3", "&token=plain")
	plain.expect(`44"go away"`)

	ok := connect(t, ts, "4")
	ok.send(`421["who"]`)
	ok.expect(`431["zoë"]`)
}

func TestProtocolViolationsCloseOnlyThatConnection(t *testing.T) {
	ts := newServer(t, echoServer(nil))
	bystander := connect(t, ts, "4")
	for _, bad := range []string{`40`, `4abc`, `442["some","data"`, `42[true,"foo"]`, `42[null,"bar"]`, `4999`, `41["x"]`, `451.23-["echo"]`, `42["connect"]`, `42[{"toString":"foo"}]`, `2`, `4`} {
		c := connect(t, ts, "4")
		c.send(bad)
		if !c.closed(time.Second) {
			t.Errorf("%q: connection not closed", bad)
		}
		bystander.send(`421["echo","still here"]`)
		bystander.expect(`431["still here"]`)
	}
	before := dial(t, ts, "4")
	before.send(`42["echo"]`) // an event before CONNECT
	if !before.closed(time.Second) {
		t.Error("event before CONNECT did not close the connection")
	}
}

func TestBroadcastScopes(t *testing.T) {
	io := expressio.NewServer(nil)
	io.Route("join", func(req *expressio.SocketRequest) {
		var room string
		req.Bind(&room)
		req.IO.Join(room)
		req.IO.Respond()
	})
	io.Route("leave", func(req *expressio.SocketRequest) {
		var room string
		req.Bind(&room)
		req.IO.Leave(room)
		req.IO.Respond()
	})
	io.Route("others", func(req *expressio.SocketRequest) { req.IO.Broadcast("news", req.Data) })
	io.Route("room", func(req *expressio.SocketRequest) { req.IO.Room("r").Broadcast("room-news", req.Data) })
	io.Route("all", func(req *expressio.SocketRequest) { io.Broadcast("everyone", 1, 2, 3) })
	ts := newServer(t, io)

	a, b, c := connect(t, ts, "4"), connect(t, ts, "3"), connect(t, ts, "4")
	a.send(`421["join","r"]`)
	a.expect(`431[]`)
	b.send(`421["join","r"]`)
	b.expect(`431[]`)

	a.send(`42["others","hi"]`)
	b.expect(`42["news","hi"]`)
	c.expect(`42["news","hi"]`)
	a.expectNothing(100 * time.Millisecond)

	c.send(`42["room","x"]`) // the sender need not be a member
	a.expect(`42["room-news","x"]`)
	b.expect(`42["room-news","x"]`)

	a.send(`42["room","y"]`) // members but the sender
	b.expect(`42["room-news","y"]`)
	a.expectNothing(100 * time.Millisecond)
	c.expectNothing(0)

	b.send(`421["leave","r"]`)
	b.expect(`431[]`)
	c.send(`42["room","z"]`)
	a.expect(`42["room-news","z"]`)
	b.expectNothing(100 * time.Millisecond)

	a.send(`42["all"]`)
	for _, cl := range []*wsClient{a, b, c} {
		cl.expect(`42["everyone",1,2,3]`)
	}
}

func TestEmitWithAck(t *testing.T) {
	io := expressio.NewServer(nil)
	got := make(chan []any, 1)
	io.Route("ask", func(req *expressio.SocketRequest) {
		go func() {
			ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
			defer cancel()
			ack, err := req.IO.EmitWithAck(ctx, "question", "6*7?")
			if err != nil {
				got <- []any{err.Error()}
				return
			}
			vals, _ := ack.Values()
			got <- vals
		}()
	})
	ts := newServer(t, io)
	c := connect(t, ts, "4")
	c.send(`42["ask"]`)
	c.expect(`420["question","6*7?"]`)
	c.send(`430[42,"forty-two"]`)
	select {
	case vals := <-got:
		if len(vals) != 2 || vals[0] != float64(42) || vals[1] != "forty-two" {
			t.Fatalf("ack values %v", vals)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no ack")
	}
}

func TestRespondTwiceAndPanics(t *testing.T) {
	io := expressio.NewServer(nil)
	second := make(chan error, 1)
	io.Route("twice", func(req *expressio.SocketRequest) {
		req.IO.Respond("a")
		second <- req.IO.Respond("b")
	})
	io.Route("boom", func(req *expressio.SocketRequest) { panic("boom") })
	io.Route("echo", func(req *expressio.SocketRequest) { req.IO.Respond(req.Data) })
	ts := newServer(t, io)
	c := connect(t, ts, "4")
	c.send(`421["twice"]`)
	c.expect(`431["a"]`)
	if err := <-second; !errors.Is(err, expressio.ErrAlreadyResponded) {
		t.Fatalf("second Respond: %v", err)
	}
	c.expectNothing(100 * time.Millisecond)

	c.send(`422["boom"]`)
	c.expect(`432[{"error":"internal server error"}]`)
	c.send(`423["echo","alive"]`)
	c.expect(`433["alive"]`)
}

func TestRoutes(t *testing.T) {
	io := expressio.NewServer(nil)
	io.Route("customers", expressio.Routes{
		"create": func(req *expressio.SocketRequest) { req.IO.Respond("created") },
		"remove": func(req *expressio.SocketRequest) { req.IO.Route("customers:create") },
	})
	io.Route("forward", func(req *expressio.SocketRequest) {
		if err := req.IO.Route("missing"); !errors.Is(err, expressio.ErrUnknownRoute) {
			panic(err)
		}
	})
	ts := newServer(t, io)
	c := connect(t, ts, "4")
	c.send(`421["customers:create"]`)
	c.expect(`431["created"]`)
	c.send(`422["customers:remove"]`)
	c.expect(`432["created"]`)
	c.send(`423["customers"]`) // nothing under the bare name
	c.expectNothing(100 * time.Millisecond)
	c.send(`424["forward"]`)
	c.expect(`434[{"error":"unknown route missing"}]`)

	// A route added after the socket connected applies to it.
	io.Route("late", func(req *expressio.SocketRequest) { req.IO.Respond("late") })
	c.send(`425["late"]`)
	c.expect(`435["late"]`)

	for _, name := range []string{"connect", "error", "reconnect_attempt", "newListener", "connect_error", ""} {
		func() {
			defer func() {
				if v := recover(); v == nil || !strings.Contains(v.(string), "reserved") {
					t.Errorf("Route(%q): %v, want a reserved-name panic", name, v)
				}
			}()
			io.Route(name, func(*expressio.SocketRequest) {})
		}()
	}
}

func TestDisconnectReasons(t *testing.T) {
	io := expressio.NewServer(nil)
	reasons := make(chan string, 4)
	io.Route("disconnect", func(req *expressio.SocketRequest) {
		var reason string
		req.Bind(&reason)
		reasons <- reason
	})
	io.Route("kick", func(req *expressio.SocketRequest) { req.IO.Disconnect() })
	ts := newServer(t, io)

	c := connect(t, ts, "4")
	c.send(`41`)
	if r := <-reasons; r != expressio.ReasonClientDisconnect {
		t.Fatalf("client disconnect reason %q", r)
	}
	c = connect(t, ts, "4")
	c.send(`42["kick"]`)
	c.expect(`41`)
	if r := <-reasons; r != expressio.ReasonServerDisconnect {
		t.Fatalf("server disconnect reason %q", r)
	}
	c = connect(t, ts, "4")
	c.conn.Close()
	if r := <-reasons; r != engineio.ReasonTransportClose {
		t.Fatalf("closed connection reason %q", r)
	}
}

func TestConnectTimeout(t *testing.T) {
	io := expressio.NewServer(&expressio.Options{ConnectTimeout: 100 * time.Millisecond})
	ts := newServer(t, io)
	c := dial(t, ts, "4")
	start := time.Now()
	if !c.closed(2 * time.Second) {
		t.Fatal("expected the connection to close")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("closed after %v", d)
	}
}

// A client that stops polling (and never closes) must not delay a
// broadcast to anybody else.
func TestDeadPollingClientDoesNotDelayBroadcast(t *testing.T) {
	io := expressio.NewServer(&expressio.Options{Engine: engineio.Options{WriteQueueSize: 64}})
	ts := newServer(t, io)

	// The dead client: handshake and CONNECT over polling, then silence.
	_, body := get(t, ts.URL+"/socket.io/?EIO=4&transport=polling")
	sid := body[strings.Index(body, `"sid":"`)+7:]
	sid = sid[:strings.Index(sid, `"`)]
	if code, _ := post(t, ts.URL+"/socket.io/?EIO=4&transport=polling&sid="+sid, "40"); code != 200 {
		t.Fatal("dead client could not connect")
	}
	waitUntil(t, func() bool { return len(io.Of("/").Sockets()) == 1 })

	live := make([]*wsClient, 5)
	for i := range live {
		live[i] = connect(t, ts, "4")
	}
	var wg sync.WaitGroup
	for round := range 200 {
		start := time.Now()
		io.Broadcast("tick", round)
		wg.Add(len(live))
		for _, c := range live {
			go func() {
				defer wg.Done()
				c.read()
			}()
		}
		wg.Wait()
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Fatalf("round %d: broadcast took %v with a dead client connected", round, d)
		}
	}
	// The dead client's queue overflowed and it was dropped.
	waitUntil(t, func() bool { return len(io.Of("/").Sockets()) == len(live) })
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEmitWithAckCallback(t *testing.T) {
	io := expressio.NewServer(nil)
	got := make(chan string, 2)
	io.Route("ask", func(req *expressio.SocketRequest) {
		req.IO.Emit("question", "6*7?", expressio.OnAck(time.Second, func(ack expressio.Payload, err error) {
			var answer string
			ack.Bind(0, &answer)
			got <- answer
		}))
		req.IO.Emit("question", "silence?", expressio.OnAck(50*time.Millisecond, func(_ expressio.Payload, err error) {
			got <- fmt.Sprint(errors.Is(err, expressio.ErrAckTimeout))
		}))
	})
	ts := newServer(t, io)
	c := connect(t, ts, "4")
	c.send(`42["ask"]`)
	c.expect(`420["question","6*7?"]`)
	c.expect(`421["question","silence?"]`)
	c.send(`430["42"]`)
	for _, want := range []string{"42", "true"} {
		select {
		case v := <-got:
			if v != want {
				t.Fatalf("callback got %q, want %q", v, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("callback not called")
		}
	}
}

func TestRoomQueries(t *testing.T) {
	io := expressio.NewServer(nil)
	io.Route("join", func(req *expressio.SocketRequest) {
		req.IO.Join("r")
		req.Socket.Set("joined", true)
		req.IO.Respond()
	})
	ts := newServer(t, io)
	a, b := connect(t, ts, "4"), connect(t, ts, "3")
	a.send(`421["join"]`)
	a.expect(`431[]`)
	b.send(`421["join"]`)
	b.expect(`431[]`)
	room := io.Room("r")
	if room.Len() != 2 || len(io.Of("/").Rooms()) != 1 {
		t.Fatalf("room has %d members, namespace rooms %v", room.Len(), io.Of("/").Rooms())
	}
	for _, s := range room.Sockets() {
		if v, _ := s.Get("joined"); v != true {
			t.Fatalf("socket value %v", v)
		}
	}
	room.Clear()
	if room.Len() != 0 || len(io.Of("/").Rooms()) != 0 {
		t.Fatalf("after Clear: %d members", room.Len())
	}
}

func TestUserCodePanicsAreContained(t *testing.T) {
	io := expressio.NewServer(nil)
	io.OnConnect(func(s *expressio.Socket) { panic("connect hook") })
	io.Use(func(h *expressio.Handshake) error {
		if h.Query.Get("boom") != "" {
			panic("middleware")
		}
		return nil
	})
	misplaced := make(chan error, 1)
	io.Route("ask", func(req *expressio.SocketRequest) {
		req.IO.Emit("q", expressio.OnAck(time.Second, func(expressio.Payload, error) { panic("ack callback") }))
		misplaced <- req.IO.Broadcast("x", expressio.OnAck(time.Second, func(expressio.Payload, error) {}))
	})
	io.Route("bin", func(req *expressio.SocketRequest) {
		var v struct {
			Blob []byte `json:"blob"`
		}
		if err := req.Bind(&v); err != nil {
			panic(err)
		}
		req.IO.Respond(string(v.Blob))
	})
	ts := newServer(t, io)

	c := connect(t, ts, "4") // its connect hook panicked
	c.send(`421["ask"]`)
	c.expect(`420["q"]`)
	c.send(`430[]`) // its ack callback panics
	if err := <-misplaced; !errors.Is(err, expressio.ErrMisplacedAck) {
		t.Fatalf("OnAck given to Broadcast: %v", err)
	}
	c.send(`451-2["bin",{"blob":{"_placeholder":true,"num":0}}]`)
	c.sendBinary([]byte("raw"))
	c.expect(`432["raw"]`)

	bad := dialURL(t, ts, "4", "&boom=1")
	bad.send("40")
	bad.expect(`44{"message":"internal server error"}`)

	// The server is still up for everybody.
	c.send(`451-3["bin",{"blob":{"_placeholder":true,"num":0}}]`)
	c.sendBinary([]byte("still"))
	c.expect(`433["still"]`)
}
