package expressio_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/expressio-go/expressio/expressio"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// newApp serves app with httptest and shuts it down after the test.
func newApp(t *testing.T, app *expressio.App) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(app)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		app.Shutdown(ctx)
		ts.Close()
	})
	return ts
}

func request(t *testing.T, method, u, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, strings.TrimSpace(string(b))
}

func TestHTTPForwardChain(t *testing.T) {
	app := expressio.New()
	app.IO.Route("hello", func(req *expressio.SocketRequest) { req.IO.Route("hello-again") })
	app.IO.Route("hello-again", func(req *expressio.SocketRequest) {
		var body map[string]string
		req.Bind(&body)
		req.IO.Respond(map[string]string{"hello": "from io route", "name": body["name"]})
	})
	app.IO.Route("status", func(req *expressio.SocketRequest) { req.IO.Respond(http.StatusTeapot, map[string]bool{"tea": true}) })
	app.IO.Route("status-after", func(req *expressio.SocketRequest) { req.IO.Respond(map[string]bool{"tea": true}, http.StatusCreated) })
	app.IO.Route("twice", func(req *expressio.SocketRequest) {
		req.IO.Respond("first")
		if err := req.IO.Respond("second"); !errors.Is(err, expressio.ErrAlreadyResponded) {
			panic("second Respond did not fail")
		}
	})
	app.IO.Route("boom", func(req *expressio.SocketRequest) { panic("boom") })
	app.IO.Route("socket-only", func(req *expressio.SocketRequest) {
		req.IO.Respond(errors.Is(req.IO.Emit("x"), expressio.ErrNoSocket) && errors.Is(req.IO.Join("r"), expressio.ErrNoSocket))
	})
	app.IO.Route("later", func(req *expressio.SocketRequest) {
		go func() {
			time.Sleep(20 * time.Millisecond)
			req.IO.Respond("async")
		}()
	})
	app.POST("/hello", func(c *gin.Context) { expressio.IO(c).Route("hello") })
	for _, name := range []string{"status", "status-after", "twice", "boom", "socket-only", "later", "missing"} {
		app.GET("/"+name, func(c *gin.Context) { expressio.IO(c).Route(name) })
	}
	ts := newApp(t, app)

	tests := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/hello", `{"name":"zoë"}`, 200, `{"hello":"from io route","name":"zoë"}`},
		{"GET", "/status", "", 418, `{"tea":true}`},
		{"GET", "/status-after", "", 201, `{"tea":true}`},
		{"GET", "/twice", "", 200, `"first"`},
		{"GET", "/boom", "", 500, `{"error":"internal server error"}`},
		{"GET", "/socket-only", "", 200, `true`},
		{"GET", "/later", "", 200, `"async"`},
		{"GET", "/missing", "", 404, `{"error":"unknown route missing"}`},
		{"POST", "/hello", `not json`, 400, `{"error":"body is not JSON"}`},
	}
	for _, tt := range tests {
		status, body := request(t, tt.method, ts.URL+tt.path, tt.body)
		if status != tt.status || body != tt.want {
			t.Errorf("%s %s: %d %s, want %d %s", tt.method, tt.path, status, body, tt.status, tt.want)
		}
	}
}

func TestHTTPRouteTimeout(t *testing.T) {
	app := expressio.New()
	app.IO = expressio.NewServer(&expressio.Options{RouteTimeout: 50 * time.Millisecond})
	app.IO.Route("silent", func(req *expressio.SocketRequest) {})
	app.GET("/silent", func(c *gin.Context) { expressio.IO(c).Route("silent") })
	ts := newApp(t, app)
	if status, body := request(t, "GET", ts.URL+"/silent", ""); status != http.StatusGatewayTimeout {
		t.Fatalf("silent route: %d %s", status, body)
	}
}

func TestHTTPReachesSockets(t *testing.T) {
	app := expressio.New()
	app.IO.Route("join", func(req *expressio.SocketRequest) {
		req.IO.Join("vip")
		req.IO.Respond(req.Socket.ID())
	})
	app.POST("/all", func(c *gin.Context) {
		expressio.IO(c).Broadcast("news", "for all")
		c.Status(204)
	})
	app.POST("/vip", func(c *gin.Context) {
		expressio.IO(c).Room("vip").Broadcast("news", "for vips")
		c.Status(204)
	})
	app.POST("/to/:id", func(c *gin.Context) {
		expressio.IO(c).Emit(c.Param("id"), "news", "for you")
		c.Status(204)
	})
	ts := newApp(t, app)
	a, b := connect(t, ts, "4"), connect(t, ts, "3")
	a.send(`421["join"]`)
	idA := strings.TrimSuffix(strings.TrimPrefix(a.read(), `431["`), `"]`)

	request(t, "POST", ts.URL+"/all", "")
	a.expect(`42["news","for all"]`)
	b.expect(`42["news","for all"]`)
	request(t, "POST", ts.URL+"/vip", "")
	a.expect(`42["news","for vips"]`)
	b.expectNothing(100 * time.Millisecond)
	request(t, "POST", ts.URL+"/to/"+idA, "")
	a.expect(`42["news","for you"]`)
	b.expectNothing(100 * time.Millisecond)
}

func TestRouteForward(t *testing.T) {
	app := expressio.New()
	app.Use(expressio.RouteForward(expressio.Angular()...))
	for _, action := range []string{"list", "read", "create", "update", "delete"} {
		app.IO.Route("items:"+action, func(req *expressio.SocketRequest) {
			req.IO.Respond(map[string]any{"action": action, "id": req.HTTP.Param("id"), "data": req.Data})
		})
	}
	app.GET("/favicon.ico", func(c *gin.Context) { c.String(200, "icon") })
	ts := newApp(t, app)
	tests := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/items", "", 200, `{"action":"list","data":null,"id":""}`},
		{"GET", "/items/5", "", 200, `{"action":"read","data":null,"id":"5"}`},
		{"POST", "/items", `{"n":1}`, 200, `{"action":"create","data":{"n":1},"id":""}`},
		{"PUT", "/items/5", `{"n":2}`, 200, `{"action":"update","data":{"n":2},"id":"5"}`},
		{"DELETE", "/items/5", "", 200, `{"action":"delete","data":null,"id":"5"}`},
		{"GET", "/favicon.ico", "", 200, `icon`},                 // no io route: left to gin
		{"GET", "/items/5/extra", "", 404, `404 page not found`}, // anchored
		{"GET", "/nothing", "", 404, `404 page not found`},
	}
	for _, tt := range tests {
		status, body := request(t, tt.method, ts.URL+tt.path, tt.body)
		if status != tt.status || body != tt.want {
			t.Errorf("%s %s: %d %s, want %d %s", tt.method, tt.path, status, body, tt.status, tt.want)
		}
	}
}

func TestAppServesGinAndSocketIO(t *testing.T) {
	app := expressio.New()
	app.GET("/", func(c *gin.Context) { c.String(200, "home") })
	app.IO.Route("ping", func(req *expressio.SocketRequest) { req.IO.Respond("pong") })
	ts := newApp(t, app)
	if status, body := request(t, "GET", ts.URL+"/", ""); status != 200 || body != "home" {
		t.Fatalf("gin route: %d %s", status, body)
	}
	c := connect(t, ts, "4")
	c.send(`421["ping"]`)
	c.expect(`431["pong"]`)
	// OPTIONS reaches the engine (preflight), not gin's 404.
	if status, _ := request(t, "OPTIONS", ts.URL+"/socket.io/?EIO=4&transport=polling", ""); status != http.StatusNoContent {
		t.Fatalf("preflight: %d", status)
	}
}

func TestClientScript(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "socket.io.js"), []byte("/* full */"), 0o644)
	os.WriteFile(filepath.Join(dir, "socket.io.min.js"), []byte("/* min */"), 0o644)
	app := expressio.New()
	app.IO = expressio.NewServer(&expressio.Options{BrowserClient: expressio.BrowserClientOptions{Dir: dir}})
	ts := newApp(t, app)
	for path, want := range map[string]string{"/socket.io/socket.io.js": "/* full */", "/socket.io/socket.io.min.js": "/* min */"} {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(body) != want || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/javascript") {
			t.Errorf("%s: %d %q %q", path, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}

	missing := expressio.New()
	missing.IO = expressio.NewServer(&expressio.Options{BrowserClient: expressio.BrowserClientOptions{Dir: filepath.Join(dir, "nope")}})
	ts = newApp(t, missing)
	status, body := request(t, "GET", ts.URL+"/socket.io/socket.io.js", "")
	if status != 404 || !strings.Contains(body, "npm install socket.io-client") {
		t.Fatalf("missing client: %d %q", status, body)
	}
}
