package expressio_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/memstore"
	"github.com/gin-gonic/gin"

	"github.com/expressio-go/expressio/expressio"
)

// A route acknowledges an event: here driven over raw polling so the
// wire shows.
func ExampleServer_Route() {
	app := expressio.New()
	app.IO.Route("hello", func(req *expressio.SocketRequest) {
		var name string
		req.Bind(&name)
		req.IO.Respond("hello " + name)
	})
	ts := httptest.NewServer(app)
	defer ts.Close()
	defer app.Shutdown(context.Background())

	poll := ts.URL + "/socket.io/?EIO=4&transport=polling"
	body := fetch("GET", poll, "")
	sid := body[strings.Index(body, `"sid":"`)+7:][:20]
	poll += "&sid=" + sid
	fetch("POST", poll, "40")
	fetch("GET", poll, "")                      // the CONNECT answer
	fetch("POST", poll, `421["hello","world"]`) // an event asking for ack 1
	fmt.Println(fetch("GET", poll, ""))
	// Output: 431["hello world"]
}

func fetch(method, u, body string) string {
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// Nested route maps answer "name:key" events.
func ExampleRoutes() {
	app := expressio.New()
	app.IO.Route("posts", expressio.Routes{
		"create": func(req *expressio.SocketRequest) { app.IO.Broadcast("posts:created", req.Data) },
		"remove": func(req *expressio.SocketRequest) { app.IO.Broadcast("posts:removed", req.Data) },
	})
}

// Broadcast scopes: everyone, everyone but the sender, a room.
func ExampleRequestIO_Broadcast() {
	app := expressio.New()
	app.IO.Route("ready", func(req *expressio.SocketRequest) {
		var room string
		req.Bind(&room)
		req.IO.Join(room)
		req.IO.Broadcast("new visitor")                                 // all but the sender
		req.IO.Room(room).Broadcast("announce", "someone joined "+room) // members but the sender
		app.IO.Broadcast("visitors", len(app.IO.Of("/").Sockets()))     // everyone
	})
}

// HTTP requests forward to io routes, whose Respond writes the JSON
// response.
func ExampleIO() {
	app := expressio.New()
	app.IO.Route("hello", func(req *expressio.SocketRequest) { req.IO.Route("hello-again") })
	app.IO.Route("hello-again", func(req *expressio.SocketRequest) {
		req.IO.Respond(map[string]string{"hello": "from io route"})
	})
	app.GET("/", func(c *gin.Context) { expressio.IO(c).Route("hello") })
	ts := httptest.NewServer(app)
	defer ts.Close()
	fmt.Println(fetch("GET", ts.URL+"/", ""))
	// Output: {"hello":"from io route"}
}

// Handshake middleware refuses connections or passes values to routes.
func ExampleServer_Use() {
	app := expressio.New()
	app.IO.Use(func(h *expressio.Handshake) error {
		user := h.Query.Get("user")
		if user == "" {
			return &expressio.ConnectError{Message: "unauthorized", Data: map[string]string{"reason": "no user"}}
		}
		h.Set("user", user)
		return nil
	})
	app.IO.Route("whoami", func(req *expressio.SocketRequest) {
		user, _ := req.Handshake.Get("user")
		req.IO.Respond(user)
	})
}

// Sessions are shared by HTTP requests and sockets.
func ExampleApp_Sessions() {
	app := expressio.New()
	app.Sessions("connect.sid", memstore.NewStore([]byte("change me")))
	app.GET("/", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("loginDate", time.Now().Format(time.RFC3339))
		s.Save()
	})
	app.IO.Route("ready", func(req *expressio.SocketRequest) {
		req.Session.Set("name", "zoë")
		req.Session.Save()
		req.IO.Emit("session", req.Session.Values())
	})
}

// Ask a client for an acknowledgement, with a timeout.
func ExampleOnAck() {
	app := expressio.New()
	app.IO.Route("ready", func(req *expressio.SocketRequest) {
		req.IO.Emit("question", "6*7?", expressio.OnAck(5*time.Second, func(ack expressio.Payload, err error) {
			if err != nil {
				return // expressio.ErrAckTimeout or ErrDisconnected
			}
			var answer int
			ack.Bind(0, &answer)
		}))
	})
}

// REST calls forwarded to io routes, Backbone style.
func ExampleRouteForward() {
	app := expressio.New()
	app.Use(expressio.RouteForward(expressio.Backbone()...))
	app.IO.Route("todos", expressio.Routes{
		"read": func(req *expressio.SocketRequest) {
			req.IO.Respond(map[string]string{"id": req.HTTP.Param("id")})
		},
	})
}
