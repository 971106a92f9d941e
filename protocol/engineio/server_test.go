package engineio_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/protocol/engineio"
	"github.com/expressio-go/expressio/protocol/engineio/engineiotest"
)

// testServer runs an Engine.IO server with the raw echo handler (or h).
type testServer struct {
	*httptest.Server
	eng *engineio.Server
}

func newTestServer(t *testing.T, h engineio.Handler, opts *engineio.Options) *testServer {
	t.Helper()
	if h == nil {
		h = engineiotest.Echo{}
	}
	opened := &openedSessions{Handler: h}
	eng := engineio.NewServer(opened, opts)
	ts := &testServer{Server: httptest.NewServer(eng), eng: eng}
	t.Cleanup(func() {
		// Closed first: Shutdown would keep a polling session its client
		// just polled for the next poll, which a finished test never sends.
		opened.closeAll()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		eng.Shutdown(ctx)
		ts.Close()
	})
	return ts
}

// openedSessions is a Handler that remembers the sessions it opened.
type openedSessions struct {
	engineio.Handler
	mu       sync.Mutex
	sessions []*engineio.Session
}

func (o *openedSessions) Open(s *engineio.Session) engineio.Receiver {
	o.mu.Lock()
	o.sessions = append(o.sessions, s)
	o.mu.Unlock()
	return o.Handler.Open(s)
}

func (o *openedSessions) closeAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.sessions {
		s.Close()
	}
}

func (ts *testServer) url(q string) string { return ts.URL + "/engine.io/?" + q }

func (ts *testServer) wsURL(q string) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/engine.io/?" + q
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, u string, body string, header http.Header) response {
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
	return response{res.StatusCode, res.Header, string(b)}
}

type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// handshake opens a polling session and returns its open packet.
func handshake(t *testing.T, ts *testServer, eio string) openPacket {
	t.Helper()
	res := do(t, "GET", ts.url("EIO="+eio+"&transport=polling"), "", nil)
	if res.status != 200 {
		t.Fatalf("handshake: %d %s", res.status, res.body)
	}
	body := res.body
	if eio == "3" {
		_, body, _ = strings.Cut(body, ":")
	}
	if !strings.HasPrefix(body, "0{") {
		t.Fatalf("handshake body %q", res.body)
	}
	var op openPacket
	dec := json.NewDecoder(strings.NewReader(body[1:]))
	if err := dec.Decode(&op); err != nil {
		t.Fatalf("open packet %q: %v", body, err)
	}
	return op
}

func TestHandshakeFields(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	for _, eio := range []string{"3", "4"} {
		res := do(t, "GET", ts.url("EIO="+eio+"&transport=polling"), "", nil)
		body := res.body
		if eio == "3" {
			_, body, _ = strings.Cut(body, ":")
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body[1:]), &fields); err != nil {
			t.Fatalf("EIO=%s: %v in %q", eio, err, res.body)
		}
		want := []string{"maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"}
		if len(fields) != len(want) {
			t.Errorf("EIO=%s: fields %v, want exactly %v", eio, fields, want)
		}
		op := handshake(t, ts, eio)
		if op.PingInterval != 25000 || op.PingTimeout != 20000 || op.MaxPayload != 1000000 {
			t.Errorf("EIO=%s: defaults %+v", eio, op)
		}
		if len(op.SID) < 20 || len(op.Upgrades) != 1 || op.Upgrades[0] != "websocket" {
			t.Errorf("EIO=%s: open %+v", eio, op)
		}
	}
	// Session ids do not repeat.
	seen := map[string]bool{}
	for range 50 {
		sid := handshake(t, ts, "4").SID
		if seen[sid] {
			t.Fatalf("sid %s repeated", sid)
		}
		seen[sid] = true
	}
}

func TestRequestErrors(t *testing.T) {
	ts := newTestServer(t, nil, &engineio.Options{})
	op := handshake(t, ts, "4")
	tests := []struct {
		name   string
		method string
		query  string
		header http.Header
		status int
		code   int
	}{
		{"missing EIO", "GET", "transport=polling", nil, 400, 5},
		{"EIO 5", "GET", "EIO=5&transport=polling", nil, 400, 5},
		{"unknown transport", "GET", "EIO=4&transport=carrier-pigeon", nil, 400, 0},
		{"__proto__ transport", "GET", "EIO=4&transport=__proto__", nil, 400, 0},
		{"constructor transport", "GET", "EIO=4&transport=constructor", nil, 400, 0},
		{"empty transport", "GET", "EIO=4&transport=", nil, 400, 0},
		{"webtransport", "GET", "EIO=4&transport=webtransport", nil, 400, 0},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", nil, 400, 1},
		{"sid of other revision", "GET", "EIO=3&transport=polling&sid=" + op.SID, nil, 400, 1},
		{"POST handshake", "POST", "EIO=4&transport=polling", nil, 400, 2},
		{"PUT on session", "PUT", "EIO=4&transport=polling&sid=" + op.SID, nil, 400, 3},
		{"h2c upgrade", "GET", "EIO=4&transport=polling", http.Header{"Upgrade": {"h2c"}, "Connection": {"Upgrade"}}, 400, 3},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", nil, 400, 3},
		{"foreign origin", "GET", "EIO=4&transport=polling", http.Header{"Origin": {"https://evil.example"}}, 403, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, tt.method, ts.url(tt.query), "", tt.header)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d (%s)", res.status, tt.status, res.body)
			}
			var body struct {
				Code    *int   `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal([]byte(res.body), &body); err != nil || body.Code == nil {
				t.Fatalf("body %q is not {code,message}", res.body)
			}
			if *body.Code != tt.code || body.Message == "" {
				t.Fatalf("body %q, want code %d", res.body, tt.code)
			}
			if res.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("refused request got CORS header %q", res.header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}

func TestAllowRequest(t *testing.T) {
	ts := newTestServer(t, nil, &engineio.Options{AllowRequest: func(r *http.Request) error {
		if r.URL.Query().Get("token") != "ok" {
			return errorString("not allowed")
		}
		return nil
	}})
	res := do(t, "GET", ts.url("EIO=4&transport=polling"), "", nil)
	if res.status != 403 || !strings.Contains(res.body, `"code":4`) || !strings.Contains(res.body, "not allowed") {
		t.Fatalf("denied: %d %s", res.status, res.body)
	}
	if res := do(t, "GET", ts.url("EIO=4&transport=polling&token=ok"), "", nil); res.status != 200 {
		t.Fatalf("allowed: %d %s", res.status, res.body)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestDisallowEIO3(t *testing.T) {
	ts := newTestServer(t, nil, &engineio.Options{DisallowEIO3: true})
	res := do(t, "GET", ts.url("EIO=3&transport=polling"), "", nil)
	if res.status != 400 || !strings.Contains(res.body, `"code":5`) {
		t.Fatalf("EIO3 refused: %d %s", res.status, res.body)
	}
}

func TestPollingEcho(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	tests := []struct {
		eio, post, want string
		header          http.Header
	}{
		{"4", "4hello\x1e4wörld 😀 𝄞", "4hello\x1e4wörld 😀 𝄞", nil},
		{"4", "bAQID", "bAQID", nil}, // binary [1 2 3] in base64
		{"3", "6:4hello12:4wörld 😀 𝄞", "6:4hello12:4wörld 😀 𝄞", nil},
	}
	for _, tt := range tests {
		sid := handshake(t, ts, tt.eio).SID
		q := "EIO=" + tt.eio + "&transport=polling&sid=" + sid
		if res := do(t, "POST", ts.url(q), tt.post, tt.header); res.status != 200 || res.body != "ok" {
			t.Fatalf("EIO=%s POST: %d %q", tt.eio, res.status, res.body)
		}
		res := do(t, "GET", ts.url(q), "", nil)
		if res.status != 200 || res.body != tt.want {
			t.Fatalf("EIO=%s GET: %d %q, want %q", tt.eio, res.status, res.body, tt.want)
		}
		if ct := res.header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
			t.Errorf("EIO=%s content type %q", tt.eio, ct)
		}
	}
}

func TestEIO3BinaryPolling(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	sid := handshake(t, ts, "3").SID
	q := "EIO=3&transport=polling&sid=" + sid
	// An XHR2 binary payload holding one binary message [1 2 3].
	body := string([]byte{1, 4, 255, 4, 1, 2, 3})
	res := do(t, "POST", ts.url(q), body, http.Header{"Content-Type": {"application/octet-stream"}})
	if res.status != 200 {
		t.Fatalf("POST: %d %s", res.status, res.body)
	}
	res = do(t, "GET", ts.url(q), "", nil)
	if res.header.Get("Content-Type") != "application/octet-stream" || res.body != body {
		t.Fatalf("GET: %q %q, want the binary payload back", res.header.Get("Content-Type"), res.body)
	}
	// The same client asking for base64 gets "b4" packets.
	res = do(t, "GET", ts.url("EIO=3&transport=polling&b64=1"), "", nil)
	_, open, _ := strings.Cut(res.body, ":")
	var op openPacket
	json.Unmarshal([]byte(open[1:]), &op)
	q = "EIO=3&transport=polling&b64=1&sid=" + op.SID
	do(t, "POST", ts.url(q), body, http.Header{"Content-Type": {"application/octet-stream"}})
	if res := do(t, "GET", ts.url(q), "", nil); res.body != "6:b4AQID" {
		t.Fatalf("b64 GET: %q", res.body)
	}
}

func TestJSONP(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	res := do(t, "GET", ts.url("EIO=3&transport=polling&j=3"), "", nil)
	if !strings.HasPrefix(res.body, `___eio[3]("`) || res.header.Get("Content-Type") != "text/javascript; charset=UTF-8" {
		t.Fatalf("JSONP handshake: %q %q", res.header.Get("Content-Type"), res.body)
	}
	raw := strings.TrimSuffix(strings.TrimPrefix(res.body, `___eio[3](`), ");")
	var payload string
	if err := json.Unmarshal([]byte(raw), &payload); err != nil {
		t.Fatalf("JSONP body %q: %v", res.body, err)
	}
	_, open, _ := strings.Cut(payload, ":")
	var op openPacket
	json.Unmarshal([]byte(open[1:]), &op)
	q := "EIO=3&transport=polling&j=3&sid=" + op.SID
	form := "d=" + url.QueryEscape(`6:4héllo`)
	if res := do(t, "POST", ts.url(q), form, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}); res.status != 200 {
		t.Fatalf("JSONP POST: %d %s", res.status, res.body)
	}
	res = do(t, "GET", ts.url(q), "", nil)
	if res.body != `___eio[3]("6:4héllo");` {
		t.Fatalf("JSONP GET: %q", res.body)
	}
	if res := do(t, "GET", ts.url("EIO=3&transport=polling&j=alert(1)"), "", nil); res.status != 400 {
		t.Fatalf("JSONP index must be digits: %d %q", res.status, res.body)
	}
}

func TestPayloadTooLarge(t *testing.T) {
	ts := newTestServer(t, nil, &engineio.Options{MaxPayload: 100})
	sid := handshake(t, ts, "4").SID
	q := "EIO=4&transport=polling&sid=" + sid
	res := do(t, "POST", ts.url(q), "4"+strings.Repeat("x", 200), nil)
	if res.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("big POST: %d %s", res.status, res.body)
	}
	waitFor(t, func() bool { return ts.eng.Len() == 0 }, "session closed after 413")

	// WebSocket: a message over the limit closes with 1009.
	c := dialWS(t, ts, "EIO=4&transport=websocket")
	readWS(t, c) // open
	c.WriteMessage(websocket.TextMessage, []byte("4"+strings.Repeat("x", 200)))
	_, _, err := c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("big websocket message: %v, want close 1009", err)
	}
}

func TestOctetStreamOnEIO4(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	sid := handshake(t, ts, "4").SID
	res := do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "4hi", http.Header{"Content-Type": {"application/octet-stream"}})
	if res.status != 400 {
		t.Fatalf("octet-stream POST on EIO4: %d %s", res.status, res.body)
	}
}

func TestOverlappingPolls(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	sid := handshake(t, ts, "4").SID
	q := ts.url("EIO=4&transport=polling&sid=" + sid)
	first := make(chan response, 1)
	go func() { first <- do(t, "GET", q, "", nil) }()
	waitFor(t, func() bool { return true }, "")
	time.Sleep(50 * time.Millisecond)
	if res := do(t, "GET", q, "", nil); res.status != 400 {
		t.Fatalf("second GET: %d %s", res.status, res.body)
	}
	res := <-first
	if res.body != "1" {
		t.Fatalf("first GET after the session closed: %q, want the close packet", res.body)
	}
	if ts.eng.Len() != 0 {
		t.Fatal("session still open after overlapping polls")
	}
}

func TestCORS(t *testing.T) {
	ts := newTestServer(t, nil, &engineio.Options{AllowedOrigins: []string{"https://app.example"}})
	res := do(t, "GET", ts.url("EIO=4&transport=polling"), "", http.Header{"Origin": {"https://app.example"}})
	if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		res.header.Get("Access-Control-Allow-Credentials") != "true" || res.header.Get("Vary") != "Origin" {
		t.Fatalf("allowed origin: %d %v", res.status, res.header)
	}
	res = do(t, "GET", ts.url("EIO=4&transport=polling"), "", http.Header{"Origin": {"https://evil.example"}})
	if res.status != 403 || res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign origin: %d %v", res.status, res.header)
	}
	before := ts.eng.Len()
	res = do(t, "OPTIONS", ts.url("EIO=4&transport=polling"), "", http.Header{
		"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type"}})
	if res.status != 204 || res.header.Get("Access-Control-Allow-Origin") != "https://app.example" || res.header.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight: %d %v", res.status, res.header)
	}
	if ts.eng.Len() != before {
		t.Fatal("preflight created a session")
	}
	// WebSocket handshakes are checked by the same rule.
	_, resp, err := websocket.DefaultDialer.Dial(ts.wsURL("EIO=4&transport=websocket"), http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("foreign origin websocket: %v %v", err, resp)
	}
	// Same-origin is allowed without a list entry.
	same := newTestServer(t, nil, nil)
	res = do(t, "GET", same.url("EIO=4&transport=polling"), "", http.Header{"Origin": {same.URL}})
	if res.status != 200 {
		t.Fatalf("same origin: %d %s", res.status, res.body)
	}
	// "*" lets any site in, never with credentials: the answer is "*",
	// not the origin reflected (CVE-2020-28481). Listed origins keep
	// theirs.
	any := newTestServer(t, nil, &engineio.Options{AllowedOrigins: []string{"*", "https://app.example"}})
	res = do(t, "GET", any.url("EIO=4&transport=polling"), "", http.Header{"Origin": {"https://x.example"}})
	if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != "*" || res.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("* allow-list: %d %v", res.status, res.header)
	}
	res = do(t, "GET", any.url("EIO=4&transport=polling"), "", http.Header{"Origin": {"https://app.example"}})
	if res.header.Get("Access-Control-Allow-Origin") != "https://app.example" || res.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("listed origin beside *: %v", res.header)
	}
}

func dialWS(t *testing.T, ts *testServer, q string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(ts.wsURL(q), nil)
	if err != nil {
		t.Fatalf("dial %s: %v", q, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readWS(t *testing.T, c *websocket.Conn) (int, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	kind, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read websocket: %v", err)
	}
	return kind, string(data)
}

func TestWebSocketFirst(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	for _, eio := range []string{"3", "4"} {
		c := dialWS(t, ts, "EIO="+eio+"&transport=websocket")
		_, open := readWS(t, c)
		var op openPacket
		if err := json.Unmarshal([]byte(open[1:]), &op); err != nil || open[0] != '0' || len(op.Upgrades) != 0 {
			t.Fatalf("EIO=%s open %q", eio, open)
		}
		c.WriteMessage(websocket.TextMessage, []byte("4héllo 😀"))
		if _, got := readWS(t, c); got != "4héllo 😀" {
			t.Fatalf("EIO=%s echo %q", eio, got)
		}
		c.WriteMessage(websocket.BinaryMessage, binaryFrame(eio, []byte{1, 2, 3}))
		kind, got := readWS(t, c)
		if kind != websocket.BinaryMessage || got != string(binaryFrame(eio, []byte{1, 2, 3})) {
			t.Fatalf("EIO=%s binary echo %v %q", eio, kind, got)
		}
	}
}

func binaryFrame(eio string, data []byte) []byte {
	if eio == "3" {
		return append([]byte{4}, data...)
	}
	return data
}

func TestUpgrade(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	for _, eio := range []string{"3", "4"} {
		sid := handshake(t, ts, eio).SID
		q := "EIO=" + eio + "&transport=polling&sid=" + sid
		// A poll is pending when the upgrade starts.
		pending := make(chan response, 1)
		go func() { pending <- do(t, "GET", ts.url(q), "", nil) }()
		time.Sleep(30 * time.Millisecond)

		c := dialWS(t, ts, "EIO="+eio+"&transport=websocket&sid="+sid)
		c.WriteMessage(websocket.TextMessage, []byte("2probe"))
		if _, got := readWS(t, c); got != "3probe" {
			t.Fatalf("EIO=%s probe answer %q", eio, got)
		}
		res := <-pending
		if !strings.HasSuffix(res.body, "6") {
			t.Fatalf("EIO=%s pending poll during upgrade: %q, want a noop", eio, res.body)
		}
		// A POST sent while the upgrade is under way is not lost.
		post := "4during"
		if eio == "3" {
			post = "7:4during"
		}
		if res := do(t, "POST", ts.url(q), post, nil); res.status != 200 {
			t.Fatalf("EIO=%s POST during upgrade: %d", eio, res.status)
		}
		c.WriteMessage(websocket.TextMessage, []byte("5"))
		if _, got := readWS(t, c); got != "4during" {
			t.Fatalf("EIO=%s echo of the POST after upgrade: %q", eio, got)
		}
		c.WriteMessage(websocket.TextMessage, []byte("4after"))
		if _, got := readWS(t, c); got != "4after" {
			t.Fatalf("EIO=%s echo after upgrade %q", eio, got)
		}
		// Polling is over for this session, and a second WebSocket is refused.
		if res := do(t, "GET", ts.url(q), "", nil); res.status != 400 {
			t.Fatalf("EIO=%s poll after upgrade: %d %q", eio, res.status, res.body)
		}
		_, resp, err := websocket.DefaultDialer.Dial(ts.wsURL("EIO="+eio+"&transport=websocket&sid="+sid), nil)
		if err == nil || resp == nil || resp.StatusCode != 400 {
			t.Fatalf("EIO=%s second websocket: %v %v", eio, err, resp)
		}
	}
}

func TestHeartbeatEIO4(t *testing.T) {
	ts := newTestServer(t, nil, &engineio.Options{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond})
	c := dialWS(t, ts, "EIO=4&transport=websocket")
	readWS(t, c)
	// Answering pings keeps the session open.
	for range 3 {
		if _, got := readWS(t, c); got != "2" {
			t.Fatalf("ping: %q", got)
		}
		c.WriteMessage(websocket.TextMessage, []byte("3"))
	}
	if ts.eng.Len() != 1 {
		t.Fatal("session closed although it answered every ping")
	}
	// Silence closes it.
	readWS(t, c)
	waitFor(t, func() bool { return ts.eng.Len() == 0 }, "session closed by ping timeout")
}

func TestHeartbeatEIO3(t *testing.T) {
	ts := newTestServer(t, nil, &engineio.Options{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond})
	c := dialWS(t, ts, "EIO=3&transport=websocket")
	readWS(t, c)
	for range 4 {
		time.Sleep(40 * time.Millisecond)
		c.WriteMessage(websocket.TextMessage, []byte("2"))
		if _, got := readWS(t, c); got != "3" {
			t.Fatalf("pong: %q", got)
		}
	}
	if ts.eng.Len() != 1 {
		t.Fatal("session closed although the client pinged")
	}
	waitFor(t, func() bool { return ts.eng.Len() == 0 }, "session closed when the client stopped pinging")
}

// blocker is a handler whose sessions are kept for the test to write to.
type recorder struct {
	mu       sync.Mutex
	sessions []*engineio.Session
	closed   []string
}

func (r *recorder) Open(s *engineio.Session) engineio.Receiver {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sessions = append(r.sessions, s)
	return recv{r}
}

type recv struct{ r *recorder }

func (recv) OnMessage(engineio.Message) {}
func (v recv) OnClose(reason string) {
	v.r.mu.Lock()
	defer v.r.mu.Unlock()
	v.r.closed = append(v.r.closed, reason)
}

func TestQueueOverflowClosesOnlyThatSession(t *testing.T) {
	rec := &recorder{}
	ts := newTestServer(t, rec, &engineio.Options{WriteQueueSize: 8})
	handshake(t, ts, "4") // never polls again
	live := handshake(t, ts, "4")
	rec.mu.Lock()
	dead, alive := rec.sessions[0], rec.sessions[1]
	rec.mu.Unlock()
	var lastErr error
	for i := range 20 {
		lastErr = dead.Send(engineio.Message{Data: []byte("x")})
		if i < 8 && lastErr != nil {
			t.Fatalf("send %d: %v", i, lastErr)
		}
	}
	if lastErr == nil {
		t.Fatal("sending past the queue never failed")
	}
	if err := alive.Send(engineio.Message{Data: []byte("still here")}); err != nil {
		t.Fatal(err)
	}
	res := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+live.SID), "", nil)
	if res.body != "4still here" {
		t.Fatalf("other session got %q", res.body)
	}
	waitFor(t, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.closed) == 1 && rec.closed[0] == engineio.ReasonQueueOverflow
	}, "overflowing session closed with its reason")
}

func TestShutdown(t *testing.T) {
	rec := &recorder{}
	eng := engineio.NewServer(rec, nil)
	ts := httptest.NewServer(eng)
	defer ts.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.ReadMessage()
	rec.mu.Lock()
	s := rec.sessions[0]
	rec.mu.Unlock()
	s.Send(engineio.Message{Data: []byte("last words")})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := eng.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	_, got, _ := c.ReadMessage()
	if string(got) != "4last words" {
		t.Fatalf("queued message before shutdown: %q", got)
	}
	_, _, err = c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("close after shutdown: %v, want 1001", err)
	}
	res, err := http.Get(ts.URL + "/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("handshake after shutdown: %d", res.StatusCode)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMalformedOrigin(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: http://a\x00b\r\nConnection: close\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	// net/http refuses control characters in header values before the
	// engine sees them; either way the answer is a 400.
	if res.StatusCode != 400 {
		t.Fatalf("origin with a control character: %d %s", res.StatusCode, body)
	}
	handshake(t, ts, "4") // the server is still up
}

// TestStickyCookie checks Node's cookie option: the handshake, over
// polling or websocket, sets a cookie holding the session id for a load
// balancer to route the session's later requests by.
func TestStickyCookie(t *testing.T) {
	ts := newTestServer(t, nil, &engineio.Options{Cookie: "io"})
	for _, eio := range []string{"3", "4"} {
		res := do(t, "GET", ts.url("EIO="+eio+"&transport=polling"), "", nil)
		body := res.body
		if eio == "3" {
			_, body, _ = strings.Cut(body, ":")
		}
		var op openPacket
		json.NewDecoder(strings.NewReader(body[1:])).Decode(&op)
		want := "io=" + op.SID + "; Path=/; HttpOnly; SameSite=Lax"
		if got := res.header.Get("Set-Cookie"); op.SID == "" || got != want {
			t.Fatalf("EIO=%s polling handshake Set-Cookie %q, want %q", eio, got, want)
		}
		// Later requests of the session set no cookie.
		body = "4x"
		if eio == "3" {
			body = "2:4x"
		}
		if res := do(t, "POST", ts.url("EIO="+eio+"&transport=polling&sid="+op.SID), body, nil); res.status != 200 || res.header.Get("Set-Cookie") != "" {
			t.Fatalf("EIO=%s post: %d, Set-Cookie %q; want 200 and no cookie", eio, res.status, res.header.Get("Set-Cookie"))
		}

		c, res2, err := websocket.DefaultDialer.Dial(ts.wsURL("EIO="+eio+"&transport=websocket"), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, open := readWS(t, c)
		c.Close()
		json.Unmarshal([]byte(open[1:]), &op)
		want = "io=" + op.SID + "; Path=/; HttpOnly; SameSite=Lax"
		if got := res2.Header.Get("Set-Cookie"); got != want {
			t.Fatalf("EIO=%s websocket handshake Set-Cookie %q, want %q", eio, got, want)
		}
	}

	// Off by default, as in Node.
	plain := newTestServer(t, nil, nil)
	if got := do(t, "GET", plain.url("EIO=4&transport=polling"), "", nil).header.Get("Set-Cookie"); got != "" {
		t.Fatalf("cookie set without the option: %q", got)
	}
}
