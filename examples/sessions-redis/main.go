// Command sessions-redis ports express.io's examples/sessions-redis: the
// sessions example with its sessions in Redis (gin-contrib/sessions' redis
// store, on boj/redistore), so they outlive a restart and every process
// of the app shares them. GET / writes the login date into the session;
// the page's "ready" and "send-feelings" events write the name and the
// feelings into the same session over the socket, save it to Redis, and
// get it back in a "session" event, which the page shows in an alert.
//
//	redis-server &                                       # or an existing one
//	go run ./examples/sessions-redis                     # Redis at 127.0.0.1:6379
//	go run ./examples/sessions-redis -redis HOST:PORT    # or REDIS_ADDR=HOST:PORT
//
// It exits with an error when Redis does not answer at start. The
// original also gave socket.io 0.9 a RedisStore, which shares socket.io's
// own state between processes; here the same Redis carries the app's
// broadcasts and rooms with expressio/redisadapter, so several processes
// of this example (each with its own -addr) serve one set of sessions and
// one room space.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/redis"
	"github.com/gin-gonic/gin"
	goredis "github.com/redis/go-redis/v9"

	"github.com/expressio-go/expressio/examples/internal/run"
	"github.com/expressio-go/expressio/expressio"
	"github.com/expressio-go/expressio/expressio/redisadapter"
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

	// Setup your sessions, just like normal: express.session with a Redis
	// store, the original's secret and cookie name. Sockets load the same
	// session from the cookie of their handshake. (Use a long random secret
	// in a real app.) Unlike the sessions example, the cookie is taken from
	// the Cookie header only, never from a ?cookie= query parameter.
	addr, err := redisAddr()
	if err != nil {
		run.Main(app) // reports the bad command line and exits
		return
	}
	store, err := newRedisStore(addr, []byte("monkey"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "sessions-redis: no Redis at %s: %v\n(start redis-server, or give its address with -redis HOST:PORT or REDIS_ADDR)\n", addr, err)
		os.Exit(1)
	}
	store.Options(cookieOptions)
	app.Sessions("connect.sid", store)

	// And the redis adapter for scalable io: the RedisStore of the
	// original.
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	adapter, err := redisadapter.New(ctx, rdb, nil)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sessions-redis: %v\n", err)
		os.Exit(1)
	}
	if err := app.IO.SetAdapter(adapter); err != nil {
		log.Fatal(err)
	}

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
			log.Printf("sessions-redis: reload: %v", err)
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
		log.Printf("sessions-redis: %s: %v", req.Event, err)
	}
}

// jsDate formats t as JavaScript's Date.prototype.toString, the original's
// new Date().toString().
func jsDate(t time.Time) string {
	return t.Format("Mon Jan 02 2006 15:04:05 GMT-0700 (MST)")
}

// redisAddr returns the Redis address: -redis HOST:PORT, else REDIS_ADDR,
// else 127.0.0.1:6379. The store needs it before run.Main parses the
// command line, so it is read here first with a flag set that knows
// run.Main's flags too; -redis is also declared on the command line that
// run.Main parses, so that it accepts it. A bad command line (or -h)
// returns an error and is left to run.Main to report.
func redisAddr() (string, error) {
	def := os.Getenv("REDIS_ADDR")
	if def == "" {
		def = "127.0.0.1:6379"
	}
	const usage = "Redis address, HOST:PORT (default from REDIS_ADDR)"
	flag.String("redis", def, usage)
	early := flag.NewFlagSet(os.Args[0], flag.ContinueOnError)
	early.SetOutput(io.Discard)
	addr := early.String("redis", def, usage)
	early.String("addr", "", "run.Main's")
	if err := early.Parse(os.Args[1:]); err != nil {
		return "", err
	}
	return *addr, nil
}

// newRedisStore connects to Redis at addr, failing within a few seconds
// when nothing answers there: redigo dials without a timeout, so the
// address is tried first with one.
func newRedisStore(addr string, secret []byte) (redis.Store, error) {
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return nil, err
	}
	conn.Close()
	return redis.NewStore(10, "tcp", addr, "", "", secret)
}
