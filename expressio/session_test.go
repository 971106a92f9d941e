package expressio_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	"github.com/gin-contrib/sessions/memstore"
	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/expressio"
)

// sessionApp is express.io's sessions example, plus routes to read and
// change the session from both sides.
func sessionApp(t *testing.T, store sessions.Store, opts expressio.SessionOptions) (*expressio.App, *httptest.Server) {
	t.Helper()
	app := expressio.New()
	opts.Name, opts.Store = "connect.sid", store
	app.SessionsWith(opts)
	app.GET("/login", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("loginDate", "2026-11-23")
		s.Set("counter", 1)
		s.Save()
		c.String(200, "ok")
	})
	app.GET("/bump", func(c *gin.Context) {
		s := sessions.Default(c)
		n, _ := s.Get("counter").(int)
		s.Set("counter", n+1)
		s.Save()
		c.String(200, "ok")
	})
	app.GET("/read", func(c *gin.Context) {
		s := sessions.Default(c)
		c.JSON(200, gin.H{"name": s.Get("name"), "counter": s.Get("counter")})
	})
	app.IO.Route("session", func(req *expressio.SocketRequest) { req.IO.Respond(req.Session.Values()) })
	app.IO.Route("set-name", func(req *expressio.SocketRequest) {
		var name string
		req.Bind(&name)
		req.Session.Set("name", name)
		if err := req.Session.Save(); err != nil {
			req.IO.Respond(err.Error())
			return
		}
		req.IO.Respond("saved")
	})
	app.IO.Route("reload", func(req *expressio.SocketRequest) {
		req.Session.Reload()
		req.IO.Respond(req.Session.Values())
	})
	return app, newApp(t, app)
}

// login runs the HTTP login and returns the session cookie.
func login(t *testing.T, ts *httptest.Server) string {
	t.Helper()
	res, err := http.Get(ts.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "connect.sid" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

func dialCookie(t *testing.T, ts *httptest.Server, eio, cookie, query string) *wsClient {
	t.Helper()
	u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=" + eio + "&transport=websocket" + query
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", cookie)
	}
	conn, _, err := websocket.DefaultDialer.Dial(u, h)
	if err != nil {
		t.Fatal(err)
	}
	c := newWSClient(t, conn, eio)
	c.read() // open
	if eio == "4" {
		c.send("40")
	}
	return c
}

func getWithCookie(t *testing.T, u, cookie string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 512)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return strings.TrimSpace(b.String())
}

func TestSessionSharedBothWays(t *testing.T) {
	for _, eio := range []string{"3", "4"} {
		_, ts := sessionApp(t, memstore.NewStore([]byte("secret")), expressio.SessionOptions{})
		cookie := login(t, ts)
		c := dialCookie(t, ts, eio, cookie, "")
		if got := c.read(); !strings.HasPrefix(got, "40") {
			t.Fatalf("connect: %q", got)
		}
		// HTTP login, then the socket sees the session.
		c.send(`421["session"]`)
		c.expect(`431[{"counter":1,"loginDate":"2026-11-23"}]`)
		// A socket Save, then HTTP sees it.
		c.send(`422["set-name","zoe"]`)
		c.expect(`432["saved"]`)
		if got := getWithCookie(t, ts.URL+"/read", cookie); got != `{"counter":1,"name":"zoe"}` {
			t.Fatalf("EIO=%s HTTP after socket save: %s", eio, got)
		}
		// An HTTP change, then the socket's Reload sees it, and keeps it.
		getWithCookie(t, ts.URL+"/bump", cookie)
		c.send(`423["session"]`)
		c.expect(`433[{"counter":1,"loginDate":"2026-11-23","name":"zoe"}]`)
		c.send(`424["reload"]`)
		c.expect(`434[{"counter":2,"loginDate":"2026-11-23","name":"zoe"}]`)
		c.send(`425["session"]`)
		c.expect(`435[{"counter":2,"loginDate":"2026-11-23","name":"zoe"}]`)
	}
}

func TestSessionBadCookies(t *testing.T) {
	store := memstore.NewStore([]byte("secret"))
	_, ts := sessionApp(t, store, expressio.SessionOptions{})
	login(t, ts)
	other := login(t, ts)
	name, value, _ := strings.Cut(other, "=")
	for _, bad := range []string{
		"", // missing
		name + "=" + value[:len(value)-4] + "AAAA", // forged signature
		name + "=MTIzNDU2Nzg5MA",                   // unsigned
	} {
		c := dialCookie(t, ts, "4", bad, "")
		c.read()
		c.send(`421["session"]`)
		c.expect(`431[{}]`)
		c.send(`422["set-name","mallory"]`)
		c.expect(`432[` + mustJSON(t, expressio.ErrSessionNotPersistent.Error()) + `]`)
	}
	if got := getWithCookie(t, ts.URL+"/read", other); strings.Contains(got, "mallory") {
		t.Fatalf("a bad cookie reached a real session: %s", got)
	}

	// Expired: destroyed in the store, the cookie still signed.
	app, ts2 := sessionApp(t, store, expressio.SessionOptions{})
	app.GET("/logout", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Options(sessions.Options{MaxAge: -1})
		s.Save()
	})
	expired := login(t, ts2)
	getWithCookie(t, ts2.URL+"/logout", expired)
	c := dialCookie(t, ts2, "4", expired, "")
	c.read()
	c.send(`421["session"]`)
	c.expect(`431[{}]`)

	// Required sessions refuse the handshake instead.
	_, strict := sessionApp(t, memstore.NewStore([]byte("secret")), expressio.SessionOptions{Require: true})
	c = dialCookie(t, strict, "4", "", "")
	c.expect(`44{"message":"session required"}`)
}

func TestSessionCookieQuery(t *testing.T) {
	_, ts := sessionApp(t, memstore.NewStore([]byte("secret")), expressio.SessionOptions{CookieQuery: true})
	cookie := login(t, ts)
	c := dialCookie(t, ts, "4", "", "&cookie="+urlQueryEscape(cookie))
	c.read()
	c.send(`421["session"]`)
	c.expect(`431[{"counter":1,"loginDate":"2026-11-23"}]`)

	_, off := sessionApp(t, memstore.NewStore([]byte("secret")), expressio.SessionOptions{})
	cookie = login(t, off)
	c = dialCookie(t, off, "4", "", "&cookie="+urlQueryEscape(cookie))
	c.read()
	c.send(`421["session"]`)
	c.expect(`431[{}]`) // the query fallback is opt-in
}

func TestSessionCookieStoreIsReadOnly(t *testing.T) {
	_, ts := sessionApp(t, cookie.NewStore([]byte("secret")), expressio.SessionOptions{})
	cookie := login(t, ts)
	c := dialCookie(t, ts, "4", cookie, "")
	c.read()
	c.send(`421["session"]`)
	c.expect(`431[{"counter":1,"loginDate":"2026-11-23"}]`)
	c.send(`422["set-name","x"]`)
	c.expect(`432[` + mustJSON(t, expressio.ErrSessionReadOnly.Error()) + `]`)
}

func TestSessionReloadEachEvent(t *testing.T) {
	_, ts := sessionApp(t, memstore.NewStore([]byte("secret")), expressio.SessionOptions{ReloadEachEvent: true})
	cookie := login(t, ts)
	c := dialCookie(t, ts, "4", cookie, "")
	c.read()
	getWithCookie(t, ts.URL+"/bump", cookie)
	c.send(`421["session"]`)
	c.expect(`431[{"counter":2,"loginDate":"2026-11-23"}]`)
}

func TestSessionConcurrentEvents(t *testing.T) {
	app, ts := sessionApp(t, memstore.NewStore([]byte("secret")), expressio.SessionOptions{})
	app.IO.Route("incr", func(req *expressio.SocketRequest) {
		var key string
		req.Bind(&key)
		n, _ := req.Session.Get(key).(int)
		req.Session.Set(key, n+1)
		req.Session.Save()
	})
	app.IO.Route("slow-read", func(req *expressio.SocketRequest) {
		for range 5 {
			req.Session.Values()
			time.Sleep(time.Millisecond)
		}
	})
	cookie := login(t, ts)
	// Two connections of one user work on one stored session at once;
	// one socket's events run in order.
	var wg sync.WaitGroup
	for i := range 2 {
		c := dialCookie(t, ts, "4", cookie, "")
		c.read()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				c.send(`42["incr","k` + string(rune('0'+i)) + `"]`)
				c.send(`42["slow-read"]`)
			}
			c.send(`421["session"]`)
			f, err := c.next(5 * time.Second)
			if err != nil {
				t.Errorf("socket %d: %v", i, err)
				return
			}
			got := f.data
			var vals []map[string]any
			json.Unmarshal([]byte(strings.TrimPrefix(got, "431")), &vals)
			if len(vals) != 1 || vals[0]["k"+string(rune('0'+i))] != float64(50) {
				t.Errorf("socket %d session %s", i, got)
			}
		}()
	}
	wg.Wait()
}

func urlQueryEscape(s string) string {
	r := strings.NewReplacer("=", "%3D", ";", "%3B", " ", "%20", "+", "%2B", "/", "%2F")
	return r.Replace(s)
}
