package expressio_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-contrib/sessions/memstore"
	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/expressio"
)

// legacyDial handshakes a socket.io 0.9 client over websocket.
func legacyDial(t *testing.T, base, query string) *websocket.Conn {
	t.Helper()
	status, body := get(t, base+"/socket.io/1/?t=1"+query)
	if status != 200 {
		t.Fatalf("0.9 handshake: %d %s", status, body)
	}
	sid, _, _ := strings.Cut(body, ":")
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/socket.io/1/websocket/"+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if got := legacyRead(t, conn); got != "1::" {
		t.Fatalf("0.9 open: %q", got)
	}
	return conn
}

func legacyRead(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("0.9 read: %v", err)
	}
	return string(b)
}

func TestLegacyClientsShareRoutesAndRooms(t *testing.T) {
	io := echoServer(nil)
	if err := io.Enable("legacy"); err != nil {
		t.Fatal(err)
	}
	io.Use(func(h *expressio.Handshake) error {
		if h.Query.Get("token") == "bad" {
			return &expressio.ConnectError{Message: "unauthorized"}
		}
		return nil
	})
	io.Route("join", func(req *expressio.SocketRequest) {
		req.IO.Join("mix")
		req.IO.Respond()
	})
	io.Route("say", func(req *expressio.SocketRequest) { req.IO.Room("mix").Broadcast("news", req.Data) })
	ts := newServer(t, io)

	old := legacyDial(t, ts.URL, "")
	old.WriteMessage(websocket.TextMessage, []byte(`5:1+::{"name":"echo","args":[1,"héllo"]}`))
	if got := legacyRead(t, old); got != `6:::1+[1,"héllo"]` {
		t.Fatalf("0.9 ack: %q", got)
	}
	old.WriteMessage(websocket.TextMessage, []byte(`5:2+::{"name":"join"}`))
	if got := legacyRead(t, old); got != `6:::2` {
		t.Fatalf("0.9 join ack: %q", got)
	}
	v4 := connect(t, ts, "3")
	v4.send(`421["join"]`)
	v4.expect(`431[]`)
	v5 := connect(t, ts, "4")
	v5.send(`42["say","ü"]`) // a non-member sender reaches every generation
	v4.expect(`42["news","\u00fc"]`)
	if got := legacyRead(t, old); got != `5:::{"name":"news","args":["ü"]}` {
		t.Fatalf("0.9 broadcast: %q", got)
	}

	// An event without arguments reaches 0.9 too.
	io.Broadcast("ping")
	if got := legacyRead(t, old); got != `5:::{"name":"ping"}` {
		t.Fatalf("0.9 broadcast without arguments: %q", got)
	}

	// Middleware refusal is a refused handshake for 0.9.
	if status, body := get(t, ts.URL+"/socket.io/1/?t=1&token=bad"); status != http.StatusForbidden && status != http.StatusInternalServerError {
		t.Fatalf("refused 0.9 handshake: %d %q", status, body)
	}
	// The 0.9 protocol's own answers.
	if _, body := get(t, ts.URL+"/socket.io/"); body != "Welcome to socket.io." {
		t.Fatalf("welcome: %q", body)
	}
	if status, body := get(t, ts.URL+"/socket.io/2/"); status != 500 || body != "Protocol version not supported." {
		t.Fatalf("version: %d %q", status, body)
	}
}

func TestLegacySession(t *testing.T) {
	app, ts := sessionApp(t, memstore.NewStore([]byte("secret")), expressio.SessionOptions{})
	if err := app.IO.Enable("legacy"); err != nil {
		t.Fatal(err)
	}
	cookie := login(t, ts)
	req, _ := http.NewRequest("GET", ts.URL+"/socket.io/1/?t=1", nil)
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 64)
	n, _ := res.Body.Read(body)
	res.Body.Close()
	sid, _, _ := strings.Cut(string(body[:n]), ":")
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/socket.io/1/websocket/"+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	legacyRead(t, conn) // 1::
	conn.WriteMessage(websocket.TextMessage, []byte(`5:1+::{"name":"session"}`))
	if got := legacyRead(t, conn); got != `6:::1+[{"counter":1,"loginDate":"2026-11-23"}]` {
		t.Fatalf("0.9 socket session: %q", got)
	}
	conn.WriteMessage(websocket.TextMessage, []byte(`5:2+::{"name":"set-name","args":["zoe"]}`))
	if got := legacyRead(t, conn); got != `6:::2+["saved"]` {
		t.Fatalf("0.9 socket save: %q", got)
	}
	if got := getWithCookie(t, ts.URL+"/read", cookie); got != `{"counter":1,"name":"zoe"}` {
		t.Fatalf("HTTP after a 0.9 save: %s", got)
	}
}
