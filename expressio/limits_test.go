package expressio_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/expressio"
)

// limConn is one connection attempt of a limGeneration: the handshake's
// answer and, when it was accepted, how to use and to close the session.
type limConn struct {
	status int
	header http.Header
	body   string
	// use makes requests of the established session (polls and POSTs,
	// or messages over its WebSocket) and checks the answers.
	use   func(t *testing.T)
	close func()
}

// limGeneration opens connections of one protocol generation and transport.
type limGeneration struct {
	name   string
	legacy bool // socket.io 0.9: refusals in plain text
	open   func(t *testing.T, base string, header http.Header) limConn
}

// limGenerations are every protocol generation on every transport.
var limGenerations = []limGeneration{
	{"EIO4 polling", false, pollingOpen("4")},
	{"EIO3 polling", false, pollingOpen("3")},
	{"EIO4 websocket", false, websocketOpen("4")},
	{"EIO3 websocket", false, websocketOpen("3")},
	{"0.9", true, legacyOpen},
}

// limitsDo makes a request and reads its whole answer.
func limitsDo(t *testing.T, method, u, body string, header http.Header) limConn {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return limConn{status: res.StatusCode, header: res.Header, body: string(b)}
}

var sidRE = regexp.MustCompile(`"sid":"([^"]+)"`)

// pollingOpen handshakes over Engine.IO polling.
func pollingOpen(eio string) func(*testing.T, string, http.Header) limConn {
	return func(t *testing.T, base string, header http.Header) limConn {
		t.Helper()
		c := limitsDo(t, "GET", base+"/socket.io/?EIO="+eio+"&transport=polling", "", header)
		if c.status != http.StatusOK {
			return c
		}
		m := sidRE.FindStringSubmatch(c.body)
		if m == nil {
			t.Fatalf("EIO%s open packet %q", eio, c.body)
		}
		u := base + "/socket.io/?EIO=" + eio + "&transport=polling&sid=" + m[1]
		// EIO4: join "/" and read the answer. EIO3: the v4 client joined
		// "/" with the handshake; ping and read the pong.
		send, want, closing := "40", "40", "1"
		if eio == "3" {
			send, want, closing = "1:2", "1:3", "1:1"
		}
		c.use = func(t *testing.T) {
			t.Helper()
			if r := limitsDo(t, "POST", u, send, header); r.status != http.StatusOK {
				t.Fatalf("POST of the session: %d %q", r.status, r.body)
			}
			if r := limitsDo(t, "GET", u, "", header); r.status != http.StatusOK || !strings.HasPrefix(r.body, want) {
				t.Fatalf("poll of the session: %d %q, want %q…", r.status, r.body, want)
			}
		}
		c.close = func() { limitsDo(t, "POST", u, closing, header) }
		return c
	}
}

// wsDial dials a WebSocket; a refused one gives its HTTP answer.
func wsDial(t *testing.T, u string, header http.Header) (*websocket.Conn, limConn) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 3 * time.Second}
	conn, res, err := d.Dial(u, header)
	if err != nil {
		if res == nil {
			t.Fatalf("dial %s: %v", u, err)
		}
		b, _ := io.ReadAll(res.Body)
		return nil, limConn{status: res.StatusCode, header: res.Header, body: string(b)}
	}
	t.Cleanup(func() { conn.Close() })
	return conn, limConn{status: res.StatusCode, header: res.Header}
}

func wsRead(t *testing.T, conn *websocket.Conn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, b, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

// websocketOpen handshakes over an Engine.IO WebSocket.
func websocketOpen(eio string) func(*testing.T, string, http.Header) limConn {
	return func(t *testing.T, base string, header http.Header) limConn {
		t.Helper()
		conn, c := wsDial(t, "ws"+strings.TrimPrefix(base, "http")+"/socket.io/?EIO="+eio+"&transport=websocket", header)
		if conn == nil {
			return c
		}
		if open := wsRead(t, conn); !strings.HasPrefix(open, "0{") {
			t.Fatalf("EIO%s open packet %q", eio, open)
		}
		c.status = http.StatusOK
		c.use = func(t *testing.T) {
			t.Helper()
			if eio == "4" {
				conn.WriteMessage(websocket.TextMessage, []byte("40"))
			}
			if got := wsRead(t, conn); !strings.HasPrefix(got, "40") {
				t.Fatalf("connect: %q", got)
			}
		}
		c.close = func() { conn.Close() }
		return c
	}
}

// legacyOpen handshakes a socket.io 0.9 client and connects its WebSocket.
func legacyOpen(t *testing.T, base string, header http.Header) limConn {
	t.Helper()
	c := limitsDo(t, "GET", base+"/socket.io/1/?t=1", "", header)
	if c.status != http.StatusOK {
		return c
	}
	sid, _, _ := strings.Cut(c.body, ":")
	conn, ws := wsDial(t, "ws"+strings.TrimPrefix(base, "http")+"/socket.io/1/websocket/"+sid, header)
	if conn == nil {
		t.Fatalf("0.9 websocket of an accepted handshake: %d %q", ws.status, ws.body)
	}
	if got := wsRead(t, conn); got != "1::" {
		t.Fatalf("0.9 open: %q", got)
	}
	c.use = func(t *testing.T) {
		t.Helper()
		conn.WriteMessage(websocket.TextMessage, []byte(`5:1+::{"name":"echo","args":[1]}`))
		if got := wsRead(t, conn); got != `6:::1+[1]` {
			t.Fatalf("0.9 ack: %q", got)
		}
	}
	c.close = func() { conn.Close() }
	return c
}

// limitedServer serves an echo server speaking every limGeneration with the
// given limits, set through Set.
func limitedServer(t *testing.T, settings map[string]any) (*expressio.Server, string) {
	t.Helper()
	io := echoServer(nil)
	settingsMustSet(t, io, "legacy", true)
	for name, v := range settings {
		settingsMustSet(t, io, name, v)
	}
	return io, newServer(t, io).URL
}

// checkRefusal checks the answer to a handshake over a limit.
func checkRefusal(t *testing.T, c limConn, legacy bool, status int, message string) {
	t.Helper()
	if c.status != status {
		t.Fatalf("status %d %q, want %d", c.status, c.body, status)
	}
	if status == http.StatusTooManyRequests && c.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q, want 1", c.header.Get("Retry-After"))
	}
	if legacy {
		if ct := c.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || c.body != message {
			t.Errorf("0.9 refusal: %s %q, want text/plain %q", ct, c.body, message)
		}
		return
	}
	var body struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	}
	if ct := c.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if err := json.Unmarshal([]byte(c.body), &body); err != nil || body.Code == nil || *body.Code != 4 || body.Message != message {
		t.Errorf("body %q (%v), want {\"code\":4,\"message\":%q}", c.body, err, message)
	}
}

// openEventually retries a handshake refused with status until it is
// accepted, for at most three seconds.
func openEventually(t *testing.T, g limGeneration, base string, status int) limConn {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		c := g.open(t, base, nil)
		if c.status == http.StatusOK {
			return c
		}
		if c.status != status || time.Now().After(deadline) {
			t.Fatalf("handshake: %d %q, want it accepted", c.status, c.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const (
	tooManyConnections = "Too many connections from this address"
	tooManyHandshakes  = "Too many handshakes from this address"
)

func TestConnectionLimit(t *testing.T) {
	for _, g := range limGenerations {
		t.Run(g.name, func(t *testing.T) {
			io, base := limitedServer(t, map[string]any{"maxConnectionsPerAddress": 2})
			a := g.open(t, base, nil)
			b := g.open(t, base, nil)
			if a.status != http.StatusOK || b.status != http.StatusOK {
				t.Fatalf("handshakes under the limit: %d %q, %d %q", a.status, a.body, b.status, b.body)
			}
			checkRefusal(t, g.open(t, base, nil), g.legacy, http.StatusServiceUnavailable, tooManyConnections)
			// At the cap, the established sessions go on.
			a.use(t)
			b.use(t)
			checkRefusal(t, g.open(t, base, nil), g.legacy, http.StatusServiceUnavailable, tooManyConnections)

			// A closed session frees its place, and only its own.
			a.close()
			c := openEventually(t, g, base, http.StatusServiceUnavailable)
			c.use(t)
			checkRefusal(t, g.open(t, base, nil), g.legacy, http.StatusServiceUnavailable, tooManyConnections)

			// Once every session has closed, the limits forget the address.
			b.close()
			c.close()
			waitUntil(t, func() bool {
				addrs, pending, _ := expressio.LimitsTracked(io)
				return addrs == 0 && pending == 0
			})
		})
	}
}

func TestConnectionLimitSpansGenerations(t *testing.T) {
	_, base := limitedServer(t, map[string]any{"maxConnectionsPerAddress": 3})
	for _, g := range limGenerations[2:] { // EIO4 and EIO3 over WebSocket, 0.9
		if c := g.open(t, base, nil); c.status != http.StatusOK {
			t.Fatalf("%s: %d %q", g.name, c.status, c.body)
		}
	}
	for _, g := range limGenerations {
		checkRefusal(t, g.open(t, base, nil), g.legacy, http.StatusServiceUnavailable, tooManyConnections)
	}
}

// TestLimitsLetSessionsUpgrade: a polling session's WebSocket upgrade is
// a request of an established session, and goes through at the cap and
// over the handshake rate.
func TestLimitsLetSessionsUpgrade(t *testing.T) {
	_, base := limitedServer(t, map[string]any{"maxConnectionsPerAddress": 1, "maxHandshakesPerSecond": 1})
	c := limitsDo(t, "GET", base+"/socket.io/?EIO=4&transport=polling", "", nil)
	m := sidRE.FindStringSubmatch(c.body)
	if c.status != http.StatusOK || m == nil {
		t.Fatalf("handshake: %d %q", c.status, c.body)
	}
	conn, ws := wsDial(t, "ws"+strings.TrimPrefix(base, "http")+"/socket.io/?EIO=4&transport=websocket&sid="+m[1], nil)
	if conn == nil {
		t.Fatalf("upgrade refused: %d %q", ws.status, ws.body)
	}
	conn.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if got := wsRead(t, conn); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
}

func TestHandshakeRateLimit(t *testing.T) {
	for _, g := range limGenerations {
		t.Run(g.name, func(t *testing.T) {
			_, base := limitedServer(t, map[string]any{"maxHandshakesPerSecond": 1})
			a := g.open(t, base, nil)
			if a.status != http.StatusOK {
				t.Fatalf("first handshake: %d %q", a.status, a.body)
			}
			checkRefusal(t, g.open(t, base, nil), g.legacy, http.StatusTooManyRequests, tooManyHandshakes)
			// Over the rate, the established session goes on: its
			// requests are not handshakes.
			a.use(t)
			checkRefusal(t, g.open(t, base, nil), g.legacy, http.StatusTooManyRequests, tooManyHandshakes)
		})
	}
}

func TestHandshakeRateRefills(t *testing.T) {
	_, base := limitedServer(t, map[string]any{"maxHandshakesPerSecond": 2})
	g := limGenerations[0]
	for range 2 {
		if c := g.open(t, base, nil); c.status != http.StatusOK {
			t.Fatalf("handshake within the burst: %d %q", c.status, c.body)
		}
	}
	checkRefusal(t, g.open(t, base, nil), false, http.StatusTooManyRequests, tooManyHandshakes)
	// A token comes back every half second; refused handshakes take none.
	start := time.Now()
	openEventually(t, g, base, http.StatusTooManyRequests)
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("a token took %v to come back, want at most 500ms", d)
	}
}

func TestLimitsOffByDefault(t *testing.T) {
	io, base := limitedServer(t, nil)
	for name, want := range map[string]any{"maxConnectionsPerAddress": 0, "maxHandshakesPerSecond": 0, "trustProxy": false} {
		if got, ok := io.Get(name); !ok || got != want {
			t.Errorf("Get(%q) = %v, %v; want %v", name, got, ok, want)
		}
	}
	// Many connections and handshakes from one address, all at once.
	for range 4 {
		for _, g := range limGenerations {
			if c := g.open(t, base, nil); c.status != http.StatusOK {
				t.Fatalf("%s: %d %q", g.name, c.status, c.body)
			}
		}
	}
	if addrs, pending, buckets := expressio.LimitsTracked(io); addrs+pending+buckets != 0 {
		t.Errorf("limits off, yet %d addresses, %d handshakes and %d buckets tracked", addrs, pending, buckets)
	}
}

func TestSetLimits(t *testing.T) {
	io := expressio.NewServer(nil)
	settingsMustSet(t, io, "maxConnectionsPerAddress", 10)
	settingsMustSet(t, io, "maxHandshakesPerSecond", 5.0) // a JSON number
	settingsMustSet(t, io, "trustProxy", true)
	for name, want := range map[string]any{"maxConnectionsPerAddress": 10, "maxHandshakesPerSecond": 5, "trustProxy": true} {
		if got, ok := io.Get(name); !ok || got != want {
			t.Errorf("Get(%q) = %v, %v; want %v", name, got, ok, want)
		}
	}
	for _, tc := range []struct {
		name  string
		value any
	}{
		{"maxConnectionsPerAddress", -1},
		{"maxConnectionsPerAddress", "10"},
		{"maxConnectionsPerAddress", 1.5},
		{"maxConnectionsPerAddress", int64(1) << 40},
		{"maxHandshakesPerSecond", -5},
		{"maxHandshakesPerSecond", true},
		{"trustProxy", 1},
	} {
		if err := io.Set(tc.name, tc.value); !errors.Is(err, expressio.ErrBadSetting) {
			t.Errorf("Set(%q, %#v) = %v, want ErrBadSetting", tc.name, tc.value, err)
		}
	}
	settingsMustSet(t, io, "maxConnectionsPerAddress", 0) // off again
	if got, _ := io.Get("maxConnectionsPerAddress"); got != 0 {
		t.Errorf("after Set 0: %v", got)
	}
}

// proxyApp serves an App whose server takes one connection per address.
func proxyApp(t *testing.T, trustProxy bool, proxies []string) string {
	t.Helper()
	app := expressio.New()
	settingsMustSet(t, app.IO, "legacy", true)
	if err := app.SetTrustedProxies(proxies); err != nil {
		t.Fatal(err)
	}
	settingsMustSet(t, app.IO, "maxConnectionsPerAddress", 1)
	settingsMustSet(t, app.IO, "trustProxy", trustProxy)
	return newApp(t, app).URL
}

func fromAddress(xff string) http.Header { return http.Header{"X-Forwarded-For": {xff}} }

func TestLimitsBehindProxy(t *testing.T) {
	eio, legacy := limGenerations[0], limGenerations[4]
	t.Run("trusted", func(t *testing.T) {
		base := proxyApp(t, true, []string{"127.0.0.1", "::1"})
		for _, addr := range []string{"203.0.113.1", "203.0.113.2", "2001:db8::1", "2001:db8:0:1::1"} {
			if c := eio.open(t, base, fromAddress(addr)); c.status != http.StatusOK {
				t.Fatalf("first connection from %s: %d %q", addr, c.status, c.body)
			}
		}
		checkRefusal(t, eio.open(t, base, fromAddress("203.0.113.1")), false, http.StatusServiceUnavailable, tooManyConnections)
		// One IPv6 /64 is one address.
		checkRefusal(t, eio.open(t, base, fromAddress("2001:db8::2")), false, http.StatusServiceUnavailable, tooManyConnections)
		// The proxy's own address is not the client's.
		if c := eio.open(t, base, nil); c.status != http.StatusOK {
			t.Fatalf("connection without X-Forwarded-For: %d %q", c.status, c.body)
		}
		// 0.9 handshakes go by the same address.
		if c := legacy.open(t, base, fromAddress("203.0.113.3")); c.status != http.StatusOK {
			t.Fatalf("0.9 connection: %d %q", c.status, c.body)
		}
		checkRefusal(t, legacy.open(t, base, fromAddress("203.0.113.3")), true, http.StatusServiceUnavailable, tooManyConnections)
		checkRefusal(t, legacy.open(t, base, fromAddress("203.0.113.2")), true, http.StatusServiceUnavailable, tooManyConnections)
	})
	// By default the header is not believed, nor with TrustProxy while gin
	// trusts no proxy: a client cannot pick its address.
	for _, tc := range []struct {
		name       string
		trustProxy bool
		proxies    []string
	}{
		{"default", false, []string{"127.0.0.1", "::1"}},
		{"untrusted proxy", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := proxyApp(t, tc.trustProxy, tc.proxies)
			if c := eio.open(t, base, fromAddress("203.0.113.1")); c.status != http.StatusOK {
				t.Fatalf("first connection: %d %q", c.status, c.body)
			}
			checkRefusal(t, eio.open(t, base, fromAddress("203.0.113.2")), false, http.StatusServiceUnavailable, tooManyConnections)
		})
	}
}

// TestLimitRefusalCORS: a page allowed cross-origin can read the refusal.
func TestLimitRefusalCORS(t *testing.T) {
	_, base := limitedServer(t, map[string]any{"maxHandshakesPerSecond": 1, "cors": "https://app.example"})
	origin := http.Header{"Origin": {"https://app.example"}}
	if c := limGenerations[0].open(t, base, origin); c.status != http.StatusOK {
		t.Fatalf("handshake: %d %q", c.status, c.body)
	}
	c := limGenerations[0].open(t, base, origin)
	checkRefusal(t, c, false, http.StatusTooManyRequests, tooManyHandshakes)
	if got := c.header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
		t.Errorf("Access-Control-Allow-Origin %q on an allowed origin's refusal", got)
	}
	c = limGenerations[0].open(t, base, http.Header{"Origin": {"https://evil.example"}})
	if got := c.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("Access-Control-Allow-Origin %q for an origin not allowed", got)
	}
}
