// Command sessions ports express.io's examples/sessions: one session for
// HTTP and sockets. GET / writes the login date into the session; the
// page's "ready" and "send-feelings" events write the name and the
// feelings into the same session over the socket, save it, and get it back
// in a "session" event, which the page shows in an alert. The sessions
// live in gin-contrib/sessions' memstore (one process, gone at restart);
// sessions-redis keeps them in Redis.
//
//	go run ./examples/sessions   # open http://127.0.0.1:7076 (-addr or PORT to change)
package main

import (
	_ "embed"
	"log"
	"net/http"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/memstore"
	"github.com/gin-gonic/gin"

	"github.com/expressio-go/expressio/examples/internal/run"
	"github.com/expressio-go/expressio/expressio"
)

//go:embed index.html
var page string

// cookieOptions are express.session's cookie options, HttpOnly on path /,
// but kept for a day rather than until the browser closes.
var cookieOptions = sessions.Options{Path: "/", MaxAge: 24 * 60 * 60, HttpOnly: true}

func main() {
	app := expressio.New().HTTP()

	// express.io apps serve socket.io 0.9 and its client.
	if err := app.IO.Enable("legacy"); err != nil {
		log.Fatal(err)
	}

	// Setup your sessions, just like normal: express.session({secret:
	// 'monkey'}) with its cookie name. Sockets load the same session from
	// the cookie of their handshake. (Use a long random secret in a real
	// app.)
	//
	// CookieQuery also takes the cookie from the handshake's ?cookie=
	// query parameter, as express.io did: the original's test connects
	// with ?cookie= because Node's socket.io clients of the time could not
	// send cookies. It puts session ids in URLs, and so in logs, which is
	// why it is off by default and on in this example only; browsers send
	// the cookie anyway.
	store := memstore.NewStore([]byte("monkey"))
	store.Options(cookieOptions)
	app.SessionsWith(expressio.SessionOptions{
		Name:        "connect.sid",
		Store:       store,
		CookieQuery: true,
	})

	// Session is automatically setup on initial request (gin-contrib saves
	// only when asked).
	app.GET("/", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("loginDate", jsDate(time.Now()))
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "session not saved: %v", err)
			return
		}
		run.Page(page)(c)
	})

	// Setup a route for the ready event, and add session data.
	app.IO.Route("ready", func(req *expressio.SocketRequest) {
		var name string
		req.Bind(&name)
		req.Session.Set("name", name)
		save(req)
		req.IO.Emit("get-feelings")
	})

	// Send back the session data.
	app.IO.Route("send-feelings", func(req *expressio.SocketRequest) {
		var feelings string
		req.Bind(&feelings)
		req.Session.Set("feelings", feelings)
		save(req)
		req.IO.Emit("session", req.Session.Values())
	})

	// Beyond the original: routes that show the session moving both ways,
	// used by compat/test/sessions.test.js and handy by hand (curl with
	// the cookie of GET /).

	// GET /session shows the session as JSON, a test aid: the original
	// has no HTTP route that shows it.
	app.GET("/session", func(c *gin.Context) {
		s := sessions.Default(c)
		out := gin.H{}
		for _, k := range []string{"loginDate", "name", "feelings", "touched"} {
			if v := s.Get(k); v != nil {
				out[k] = v
			}
		}
		c.JSON(http.StatusOK, out)
	})

	// GET /touch?value=V changes the session over HTTP: "touched" = V
	// (the date when V is empty). Sockets opened before see it after
	// "reload".
	app.GET("/touch", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("touched", c.DefaultQuery("value", jsDate(time.Now())))
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "session not saved: %v", err)
			return
		}
		c.String(http.StatusOK, "touched\n")
	})

	// The reload io route reads the session from the store again, picking
	// up what HTTP wrote since the handshake, and sends it back.
	app.IO.Route("reload", func(req *expressio.SocketRequest) {
		if err := req.Session.Reload(); err != nil {
			log.Printf("sessions: reload: %v", err)
		}
		req.IO.Emit("session", req.Session.Values())
	})

	// GET /logout destroys the session: its cookie finds nothing any more,
	// over HTTP or in a socket's handshake.
	app.GET("/logout", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Clear()
		s.Options(sessions.Options{Path: "/", MaxAge: -1})
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "session not destroyed: %v", err)
			return
		}
		c.String(http.StatusOK, "logged out\n")
	})

	run.Main(app)
}

// save saves a socket's session, which a socket must do explicitly: there
// is no response to save it with. Like the original, the route goes on
// when it cannot: a socket whose handshake had no valid session cookie
// (ErrSessionNotPersistent) keeps its changes for its own lifetime only.
func save(req *expressio.SocketRequest) {
	if err := req.Session.Save(); err != nil {
		log.Printf("sessions: %s: %v", req.Event, err)
	}
}

// jsDate formats t as JavaScript's Date.prototype.toString, the original's
// new Date().toString().
func jsDate(t time.Time) string {
	return t.Format("Mon Jan 02 2006 15:04:05 GMT-0700 (MST)")
}
