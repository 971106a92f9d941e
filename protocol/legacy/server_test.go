package legacy_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/protocol/legacy"
)

func TestStaticAnswers(t *testing.T) {
	ts := newTestServer(t, nil)
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/socket.io", 200, "Welcome to socket.io."},
		{"/socket.io/", 200, "Welcome to socket.io."},
		{"/socket.io/0/", 200, "Welcome to socket.io."},
		{"/socket.io/socket.io.min.js", 200, "Welcome to socket.io."},
		{"/socket.io/1/a/b/c", 200, "Welcome to socket.io."},
		{"/socket.io/2/", 500, "Protocol version not supported."},
		{"/socket.io/2/xhr-polling/abc", 500, "Protocol version not supported."},
		{"/socket.io/10/", 500, "Protocol version not supported."},
		{"/socket.io/abc/xhr-polling", 500, "Protocol version not supported."},
	}
	for _, tt := range tests {
		res := ts.get(t, tt.path)
		if res.status != tt.status || res.body != tt.body {
			t.Errorf("GET %s = %d %q, want %d %q", tt.path, res.status, res.body, tt.status, tt.body)
		}
		// Node writes no Content-Type on these.
		if ct, ok := res.header["Content-Type"]; ok {
			t.Errorf("GET %s: Content-Type %q, want none", tt.path, ct)
		}
	}
}

func TestOwns(t *testing.T) {
	srv := legacy.NewServer(newRecorder(), &legacy.Options{Logger: quietLogger()})
	custom := legacy.NewServer(newRecorder(), &legacy.Options{Resource: "/io/", Logger: quietLogger()})
	tests := []struct {
		srv  *legacy.Server
		url  string
		want bool
	}{
		{srv, "/socket.io", true},
		{srv, "/socket.io/", true},
		{srv, "/socket.io/?t=1", true},
		{srv, "/socket.io/1/?t=1", true},
		{srv, "/socket.io/1/xhr-polling/abc?t=1", true},
		{srv, "/socket.io/1", true},
		{srv, "/socket.io/2/", true},
		{srv, "/socket.io/?EIO=4&transport=polling", false},
		{srv, "/socket.io/?EIO=3&transport=websocket&sid=x", false},
		{srv, "/socket.io/socket.io.js", false},
		{srv, "/socket.iox/1/", false},
		{srv, "/other/1/", false},
		{srv, "/", false},
		{custom, "/io/1/", true},
		{custom, "/io/", true},
		{custom, "/socket.io/1/", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.url, nil)
		if got := tt.srv.Owns(r); got != tt.want {
			t.Errorf("Owns(%s) = %v, want %v", tt.url, got, tt.want)
		}
	}
}

func TestHandshake(t *testing.T) {
	tests := []struct {
		name string
		opts legacy.Options
		want string // the body after "<sid>:"
	}{
		{"defaults", legacy.Options{}, "60:60:websocket,htmlfile,xhr-polling,jsonp-polling"},
		{"no heartbeats", legacy.Options{DisableHeartbeats: true}, ":60:websocket,htmlfile,xhr-polling,jsonp-polling"},
		{"custom", legacy.Options{HeartbeatTimeout: 1500 * time.Millisecond, CloseTimeout: 2 * time.Minute,
			Transports: []string{"xhr-polling", "websocket"}}, "1.5:120:xhr-polling,websocket"},
	}
	for _, tt := range tests {
		opts := tt.opts
		ts := newTestServer(t, &opts)
		for _, method := range []string{"GET", "POST", "PUT", "DELETE"} {
			res := ts.do(t, method, "/socket.io/1/?t=1795&token=abc", "", nil)
			m := handshakeRE.FindStringSubmatch(res.body)
			if res.status != 200 || m == nil || m[2] != tt.want {
				t.Errorf("%s: %s handshake = %d %q, want <sid>:%s", tt.name, method, res.status, res.body, tt.want)
			}
			if ct := res.header.Get("Content-Type"); ct != "text/plain" {
				t.Errorf("%s: Content-Type %q, want text/plain", tt.name, ct)
			}
			if res.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s: CORS headers without an Origin", tt.name)
			}
		}
	}

	// Session ids are 20 characters of CSPRNG output and never repeat.
	ts := newTestServer(t, nil)
	seen := map[string]bool{}
	for range 200 {
		sid := ts.handshake(t)
		if seen[sid] {
			t.Fatalf("sid %s repeated", sid)
		}
		seen[sid] = true
	}
	// A handshake with a sid-less transport path is a handshake too, as in
	// Node.
	if res := ts.get(t, "/socket.io/1/xhr-polling/"); handshakeRE.FindStringSubmatch(res.body) == nil {
		t.Errorf("GET /socket.io/1/xhr-polling/ = %d %q, want a handshake", res.status, res.body)
	}
}

func TestHandshakeJSONP(t *testing.T) {
	ts := newTestServer(t, nil)
	res := ts.get(t, "/socket.io/1/?t=1&jsonp=3")
	re := regexp.MustCompile(`^io\.j\[3\]\("[A-Za-z0-9_-]{20}:60:60:websocket,htmlfile,xhr-polling,jsonp-polling"\);$`)
	if res.status != 200 || !re.MatchString(res.body) {
		t.Errorf("jsonp handshake = %d %q", res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/javascript" {
		t.Errorf("Content-Type %q, want application/javascript", ct)
	}
	// A jsonp index that is not digits is ignored, as Node's /^\d+$/ does.
	res = ts.get(t, "/socket.io/1/?jsonp=alert(1)")
	if handshakeRE.FindStringSubmatch(res.body) == nil {
		t.Errorf("handshake with a bad jsonp index = %q", res.body)
	}
}

func TestHandshakeRefused(t *testing.T) {
	errDenied := errors.New("denied")
	authorize := func(r *http.Request) (any, error) {
		switch tok := r.URL.Query().Get("token"); tok {
		case "bad":
			return nil, fmt.Errorf("token: %w", legacy.ErrUnauthorized)
		case "err":
			return nil, errDenied
		default:
			return "user:" + tok, nil
		}
	}
	ts := newTestServer(t, &legacy.Options{
		Authorize:   authorize,
		AllowOrigin: func(origin string, _ *http.Request) bool { return origin == "https://good.example" },
	})
	evil := http.Header{"Origin": {"https://evil.example"}}
	good := http.Header{"Origin": {"https://good.example"}}
	tests := []struct {
		name   string
		query  string
		header http.Header
		status int
		ctype  string
		body   string
	}{
		{"bad origin", "", evil, 403, "text/plain", "handshake bad origin"},
		{"bad origin jsonp", "&jsonp=2", evil, 200, "application/javascript", `io.j[2](new Error("handshake bad origin"));`},
		{"null origin", "", http.Header{"Origin": {"null"}}, 403, "text/plain", "handshake bad origin"},
		{"unauthorized", "&token=bad", nil, 403, "text/plain", "handshake unauthorized"},
		{"unauthorized jsonp", "&token=bad&jsonp=0", nil, 200, "application/javascript", `io.j[0](new Error("handshake unauthorized"));`},
		{"error", "&token=err", good, 500, "text/plain", "handshake error"},
		{"error jsonp", "&token=err&jsonp=1", nil, 200, "application/javascript", `io.j[1](new Error("handshake error"));`},
	}
	for _, tt := range tests {
		res := ts.do(t, "GET", "/socket.io/1/?t=1"+tt.query, "", tt.header)
		if res.status != tt.status || res.body != tt.body || res.header.Get("Content-Type") != tt.ctype {
			t.Errorf("%s: %d %q %q, want %d %q %q", tt.name, res.status, res.header.Get("Content-Type"), res.body, tt.status, tt.ctype, tt.body)
		}
		if tt.header.Get("Origin") == "https://evil.example" && res.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: CORS headers for a refused origin", tt.name)
		}
	}
	if ts.srv.Len() != 0 {
		t.Errorf("%d sessions after refused handshakes", ts.srv.Len())
	}

	// What Authorize returns is the session's AuthData.
	sid := handshakeRE.FindStringSubmatch(ts.get(t, "/socket.io/1/?token=ann").body)[1]
	ts.get(t, "/socket.io/1/xhr-polling/"+sid)
	if got := ts.rec.session(t).AuthData(); got != "user:ann" {
		t.Errorf("AuthData = %v", got)
	}

	// An allowed origin gets exactly that origin back, with credentials.
	res := ts.do(t, "GET", "/socket.io/1/", "", good)
	if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != "https://good.example" ||
		res.header.Get("Access-Control-Allow-Credentials") != "true" || res.header.Get("Vary") != "Origin" {
		t.Errorf("allowed origin: %d %v", res.status, res.header)
	}
}

// TestAllowedOrigins: listed origins are echoed with credentials; "*"
// lets any other origin in, answered "*" without credentials, never the
// origin reflected with them (CVE-2020-28481).
func TestAllowedOrigins(t *testing.T) {
	ts := newTestServer(t, &legacy.Options{AllowedOrigins: []string{"https://good.example", "*"}})
	for _, tt := range []struct {
		origin, acao, credentials string
	}{
		{"https://good.example", "https://good.example", "true"},
		{"https://other.example", "*", ""},
	} {
		from := http.Header{"Origin": {tt.origin}}
		res := ts.do(t, "GET", "/socket.io/1/", "", from)
		if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != tt.acao || res.header.Get("Access-Control-Allow-Credentials") != tt.credentials {
			t.Errorf("handshake from %s: %d %v", tt.origin, res.status, res.header)
		}
		sid := handshakeRE.FindStringSubmatch(res.body)[1]
		for _, method := range []string{"POST", "GET"} {
			res := ts.do(t, method, "/socket.io/1/xhr-polling/"+sid, "3:::x", from)
			if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != tt.acao || res.header.Get("Access-Control-Allow-Credentials") != tt.credentials {
				t.Errorf("%s from %s: %d %v", method, tt.origin, res.status, res.header)
			}
		}
	}
	strict := newTestServer(t, &legacy.Options{AllowedOrigins: []string{"https://good.example"}})
	if res := strict.do(t, "GET", "/socket.io/1/", "", http.Header{"Origin": {"https://other.example"}}); res.status != 403 {
		t.Errorf("unlisted origin: %d %q", res.status, res.body)
	}
}

func TestOriginRefusedOnTransports(t *testing.T) {
	ts := newTestServer(t, nil) // same-origin only
	sid, _ := ts.connect(t)
	evil := http.Header{"Origin": {"https://evil.example"}}
	for _, tt := range []struct{ method, path string }{
		{"GET", "/socket.io/1/"},
		{"GET", "/socket.io/1/xhr-polling/" + sid},
		{"POST", "/socket.io/1/xhr-polling/" + sid},
		{"GET", "/socket.io/1/jsonp-polling/" + sid},
		{"GET", "/socket.io/1/htmlfile/" + sid},
		{"GET", "/socket.io/1/xhr-polling/" + sid + "?disconnect"},
	} {
		res := ts.do(t, tt.method, tt.path, "3:::x", evil)
		if res.status != 403 || res.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s %s from evil origin = %d %v", tt.method, tt.path, res.status, res.header)
		}
	}
	_, _, err := websocket.DefaultDialer.Dial(ts.wsURL("/socket.io/1/websocket/"+sid), evil)
	if err == nil {
		t.Error("websocket from evil origin accepted")
	}
	// The session is untouched: a same-origin poll still works.
	self := http.Header{"Origin": {ts.URL}}
	if res := ts.do(t, "POST", "/socket.io/1/xhr-polling/"+sid, "3:::hi", self); res.status != 200 || res.body != "1" ||
		res.header.Get("Access-Control-Allow-Origin") != ts.URL || res.header.Get("X-XSS-Protection") != "0" {
		t.Errorf("same-origin POST = %d %q %v", res.status, res.body, res.header)
	}
	if p := ts.rec.packet(t); p.Type != legacy.Message || string(p.Data) != "hi" {
		t.Errorf("packet %+v", p)
	}
}

func TestHandshakeData(t *testing.T) {
	ts := newTestServer(t, nil)
	header := http.Header{"Cookie": {"connect.sid=s%3Aabc.sig"}, "Origin": {ts.URL}}
	res := ts.do(t, "GET", "/socket.io/1/?token=abc&t=1795", "", header)
	sid := handshakeRE.FindStringSubmatch(res.body)[1]
	before := time.Now()
	ts.get(t, "/socket.io/1/xhr-polling/"+sid+"?token=abc&t=1796")
	s := ts.rec.session(t)
	hs := s.Handshake()
	if s.ID() != sid || s.Transport() != "xhr-polling" {
		t.Errorf("session %s on %s", s.ID(), s.Transport())
	}
	if hs.Header.Get("Cookie") != "connect.sid=s%3Aabc.sig" {
		t.Errorf("handshake Cookie %q", hs.Header.Get("Cookie"))
	}
	if want := (url.Values{"token": {"abc"}}); hs.Query.Encode() != want.Encode() {
		t.Errorf("handshake query %v, want %v", hs.Query, want)
	}
	if !hs.XDomain || hs.Secure || hs.URL != "/socket.io/1/?token=abc&t=1795" || hs.Address == "" || hs.Host == "" {
		t.Errorf("handshake %+v", hs)
	}
	if hs.Time.After(before) || hs.Issued != hs.Time.UnixMilli() {
		t.Errorf("handshake time %v issued %d", hs.Time, hs.Issued)
	}
	if s.Context().Err() != nil {
		t.Error("context done on an open session")
	}
	if s.AuthData() != nil {
		t.Errorf("AuthData %v without Authorize", s.AuthData())
	}
	s.Close()
	<-s.Context().Done()
}

func TestXHRPolling(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.handshake(t)
	path := "/socket.io/1/xhr-polling/" + sid + "?token=abc&t=1"
	origin := http.Header{"Origin": {ts.URL}}

	// The first GET gets the connect echo, with Node's headers.
	res := ts.do(t, "GET", path, "", origin)
	if res.status != 200 || res.body != "1::" {
		t.Fatalf("first poll = %d %q", res.status, res.body)
	}
	for k, want := range map[string]string{
		"Content-Type":                     "text/plain; charset=UTF-8",
		"Content-Length":                   "3",
		"Connection":                       "Keep-Alive",
		"Access-Control-Allow-Origin":      ts.URL,
		"Access-Control-Allow-Credentials": "true",
	} {
		if got := res.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	s := ts.rec.session(t)

	// A POST answers "1" and delivers its packets in order.
	res = ts.do(t, "POST", path, "\ufffd20\ufffd5:::{\"name\":\"hello\"}\ufffd9\ufffd3:::wörld", nil)
	if res.status != 200 || res.body != "1" || res.header.Get("Content-Type") != "text/plain; charset=UTF-8" {
		t.Errorf("POST = %d %q %v", res.status, res.body, res.header)
	}
	if p := ts.rec.packet(t); p.Type != legacy.Event || string(p.Data) != `{"name":"hello"}` {
		t.Errorf("first packet %+v", p)
	}
	if p := ts.rec.packet(t); p.Type != legacy.Message || string(p.Data) != "wörld" {
		t.Errorf("second packet %+v", p)
	}

	// Several queued packets go out framed: the captured payload.
	welcome, _ := legacy.EventData("welcome", []byte(`[{"hello":"world"}]`))
	s.Send(legacy.Packet{Type: legacy.Event, Data: welcome}, legacy.Packet{Type: legacy.Ack, Data: []byte(`1+[1,"a"]`)})
	if res = ts.get(t, path); res.body != welcomeAckPayload {
		t.Errorf("poll = %q, want %q", res.body, welcomeAckPayload)
	}

	// A pending poll is answered as soon as something is sent.
	go func() {
		time.Sleep(50 * time.Millisecond)
		s.Send(legacy.Packet{Type: legacy.Message, Data: []byte("later")})
	}()
	if res = ts.get(t, path); res.body != "3:::later" {
		t.Errorf("long poll = %q", res.body)
	}

	// An event asking for ack data is answered by the handler.
	ts.do(t, "POST", path, `5:1+::{"name":"echo","args":[1,"a"]}`, nil)
	if p := ts.rec.packet(t); p.ID != "1" || !p.Ack {
		t.Errorf("event %+v", p)
	}
	if res = ts.get(t, path); res.body != `6:::1+[1,"a"]` {
		t.Errorf("ack = %q", res.body)
	}
}

func TestUTF16LengthsOverPolling(t *testing.T) {
	ts := newTestServer(t, nil)
	sid, s := ts.connect(t)
	path := "/socket.io/1/xhr-polling/" + sid
	s.Send(legacy.Packet{Type: legacy.Message, Data: []byte("😀é")}, legacy.Packet{Type: legacy.Message, Data: []byte("🎉")})
	if res := ts.get(t, path); res.body != "\ufffd7\ufffd3:::😀é\ufffd6\ufffd3:::🎉" {
		t.Errorf("poll = %q", res.body)
	}
	ts.do(t, "POST", path, "\ufffd7\ufffd3:::😀é\ufffd6\ufffd3:::🎉", nil)
	for _, want := range []string{"😀é", "🎉"} {
		if p := ts.rec.packet(t); string(p.Data) != want {
			t.Errorf("packet %q, want %q", p.Data, want)
		}
	}
}

func TestNoopAfterPollingDuration(t *testing.T) {
	ts := newTestServer(t, &legacy.Options{PollingDuration: 100 * time.Millisecond})
	sid, _ := ts.connect(t)
	start := time.Now()
	if res := ts.get(t, "/socket.io/1/xhr-polling/"+sid); res.status != 200 || res.body != "8::" {
		t.Errorf("poll = %d %q, want 8::", res.status, res.body)
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("noop after %v, want ~100ms", d)
	}
	res := ts.get(t, "/socket.io/1/jsonp-polling/"+sid+"?t=1&i=4")
	if res.body != `io.j[4]("8::");` {
		t.Errorf("jsonp poll = %q", res.body)
	}
}

func TestJSONPPolling(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.handshake(t)
	path := "/socket.io/1/jsonp-polling/" + sid + "?t=1&i=3"
	res := ts.get(t, path)
	if res.body != `io.j[3]("1::");` {
		t.Errorf("first poll = %q", res.body)
	}
	for k, want := range map[string]string{
		"Content-Type":     "text/javascript; charset=UTF-8",
		"X-XSS-Protection": "0",
		"Content-Length":   fmt.Sprint(len(res.body)),
		"Connection":       "Keep-Alive",
	} {
		if got := res.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	s := ts.rec.session(t)

	// The index defaults to 0, and must be digits.
	s.Send(legacy.Packet{Type: legacy.Message, Data: []byte("x")})
	if res = ts.get(t, "/socket.io/1/jsonp-polling/"+sid+"?i=a)"); res.body != `io.j[0]("3:::x");` {
		t.Errorf("poll without index = %q", res.body)
	}

	// A POST is a form whose d is the payload as a JSON string.
	form := url.Values{"d": {`"\ufffd7\ufffd3:::a\nb\ufffd3\ufffd2::"`}}.Encode()
	res = ts.do(t, "POST", path, form, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if res.status != 200 || res.body != "1" {
		t.Errorf("POST = %d %q", res.status, res.body)
	}
	if p := ts.rec.packet(t); p.Type != legacy.Message || string(p.Data) != "a\nb" {
		t.Errorf("packet %+v", p)
	}
}

func TestHTMLFile(t *testing.T) {
	ts := newTestServer(t, &legacy.Options{HeartbeatInterval: 100 * time.Millisecond})
	sid := ts.handshake(t)
	res, err := ts.client.Get(ts.URL + "/socket.io/1/htmlfile/" + sid + "?t=1")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if len(res.TransferEncoding) != 1 || res.TransferEncoding[0] != "chunked" {
		t.Errorf("Transfer-Encoding %v, want chunked", res.TransferEncoding)
	}
	read := func(want string) {
		t.Helper()
		buf := make([]byte, len(want))
		if _, err := io.ReadFull(res.Body, buf); err != nil || string(buf) != want {
			t.Fatalf("read %q, %v; want %q", buf, err, want)
		}
	}
	read("<html><body><script>var _ = function (msg) { parent.s._(msg, document); };</script>" + strings.Repeat(" ", 173))
	read(`<script>_("1::");</script>`)
	s := ts.rec.session(t)
	s.Send(legacy.Packet{Type: legacy.Event, Endpoint: "/chat", Data: []byte(`{"name":"a/b","args":["</script>"]}`)})
	read(`<script>_("5::\/chat:{\"name\":\"a\/b\",\"args\":[\"<\/script>\"]}");</script>`)

	// Heartbeats go on the stream; the client answers them by POST.
	read(`<script>_("2::");</script>`)
	ts.do(t, "POST", "/socket.io/1/htmlfile/"+sid, "2::", nil)
	read(`<script>_("2::");</script>`)

	// Closing the stream closes the session, as in Node.
	res.Body.Close()
	if r := ts.rec.closed(t); r != legacy.ReasonSocketClose {
		t.Errorf("close reason %q", r)
	}
}

func TestWebSocket(t *testing.T) {
	ts := newTestServer(t, &legacy.Options{HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: 5 * time.Second})
	c, s := ts.dial(t)
	if s.Transport() != "websocket" {
		t.Errorf("transport %q", s.Transport())
	}
	writeWS(t, c, `5:7+::{"name":"echo","args":["x",{"y":1}]}`)
	if got := readWS(t, c); got != `6:::7+["x",{"y":1}]` {
		t.Errorf("ack %q", got)
	}
	// Each packet is its own text message.
	s.Send(legacy.Packet{Type: legacy.Message, Data: []byte("a")}, legacy.Packet{Type: legacy.Message, Data: []byte("b")})
	for _, want := range []string{"3:::a", "3:::b"} {
		if got := readWS(t, c); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	// Heartbeats every interval, as long as the client answers.
	for range 3 {
		if got := readWS(t, c); got != "2::" {
			t.Fatalf("got %q, want 2::", got)
		}
		writeWS(t, c, "2::")
	}
	// The client's "0::" is answered with "0::" and ends everything.
	writeWS(t, c, "0::")
	if got := readWS(t, c); got != "0::" {
		t.Errorf("got %q, want 0::", got)
	}
	if code := wsCloseCode(t, c); code != websocket.CloseNormalClosure {
		t.Errorf("close code %d", code)
	}
	if r := ts.rec.closed(t); r != legacy.ReasonBooted {
		t.Errorf("close reason %q", r)
	}
}

func TestHeartbeatTimeout(t *testing.T) {
	ts := newTestServer(t, &legacy.Options{HeartbeatInterval: 50 * time.Millisecond, HeartbeatTimeout: 100 * time.Millisecond})
	c, s := ts.dial(t)
	if got := readWS(t, c); got != "2::" {
		t.Fatalf("got %q, want 2::", got)
	}
	start := time.Now()
	if r := ts.rec.closed(t); r != legacy.ReasonHeartbeatTimeout {
		t.Errorf("close reason %q", r)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("closed %v after the heartbeat", d)
	}
	wsCloseCode(t, c)
	if err := s.Send(legacy.Packet{Type: legacy.Noop}); !errors.Is(err, legacy.ErrSessionClosed) {
		t.Errorf("Send after close: %v", err)
	}
}

func TestNoHeartbeatsOnPolling(t *testing.T) {
	ts := newTestServer(t, &legacy.Options{HeartbeatInterval: 20 * time.Millisecond, HeartbeatTimeout: 20 * time.Millisecond,
		PollingDuration: 150 * time.Millisecond})
	sid, _ := ts.connect(t)
	for range 2 {
		if res := ts.get(t, "/socket.io/1/xhr-polling/"+sid); res.body != "8::" {
			t.Fatalf("poll = %q, want 8:: (no heartbeat, no timeout)", res.body)
		}
	}
}

func TestCloseTimeout(t *testing.T) {
	ts := newTestServer(t, &legacy.Options{CloseTimeout: 100 * time.Millisecond})
	sid, _ := ts.connect(t)
	start := time.Now()
	if r := ts.rec.closed(t); r != legacy.ReasonCloseTimeout {
		t.Errorf("close reason %q", r)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("closed after %v", d)
	}
	if res := ts.get(t, "/socket.io/1/xhr-polling/"+sid); res.status != 200 || res.body != "7:::1+0" {
		t.Errorf("poll after close = %d %q", res.status, res.body)
	}

	// Polling in time keeps the session.
	ts = newTestServer(t, &legacy.Options{CloseTimeout: 100 * time.Millisecond, PollingDuration: 30 * time.Millisecond})
	sid, _ = ts.connect(t)
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		time.Sleep(20 * time.Millisecond)
		if res := ts.get(t, "/socket.io/1/xhr-polling/"+sid); res.body != "8::" {
			t.Fatalf("poll = %q", res.body)
		}
	}
	select {
	case r := <-ts.rec.closes:
		t.Errorf("closed while polling: %q", r)
	default:
	}
}

func TestHandshakeExpiry(t *testing.T) {
	ts := newTestServer(t, &legacy.Options{HandshakeExpiry: 50 * time.Millisecond})
	sid := ts.handshake(t)
	if ts.srv.Len() != 1 {
		t.Fatalf("Len %d", ts.srv.Len())
	}
	time.Sleep(150 * time.Millisecond)
	if ts.srv.Len() != 0 {
		t.Errorf("Len %d after expiry", ts.srv.Len())
	}
	if res := ts.get(t, "/socket.io/1/xhr-polling/"+sid); res.body != "7:::1+0" {
		t.Errorf("poll = %q", res.body)
	}
}

func TestForcedDisconnect(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, tt := range []struct{ name, path string }{
		{"transport", "/socket.io/1/xhr-polling/%s?disconnect"},
		{"disconnectSync", "/socket.io/1//%s/?disconnect=1"}, // what the 0.9.16 client sends
	} {
		sid, _ := ts.connect(t)
		res := ts.get(t, fmt.Sprintf(tt.path, sid))
		if res.status != 200 || res.body != "" {
			t.Errorf("%s: %d %q", tt.name, res.status, res.body)
		}
		if r := ts.rec.closed(t); r != legacy.ReasonBooted {
			t.Errorf("%s: close reason %q", tt.name, r)
		}
	}
	// On a WebSocket, the client gets "0::".
	c, s := ts.dial(t)
	if res := ts.get(t, "/socket.io/1/websocket/"+s.ID()+"?disconnect"); res.status != 200 {
		t.Errorf("ws ?disconnect = %d", res.status)
	}
	if got := readWS(t, c); got != "0::" {
		t.Errorf("got %q, want 0::", got)
	}
	ts.rec.closed(t)
}

func TestClientDisconnect(t *testing.T) {
	ts := newTestServer(t, nil)
	sid, _ := ts.connect(t)
	path := "/socket.io/1/xhr-polling/" + sid
	done := make(chan response)
	go func() { done <- ts.get(t, path) }()
	time.Sleep(50 * time.Millisecond) // let the poll wait
	// Leaving an endpoint is the Receiver's business.
	ts.do(t, "POST", path, "0::/chat", nil)
	if p := ts.rec.packet(t); p.Type != legacy.Disconnect || p.Endpoint != "/chat" {
		t.Errorf("packet %+v", p)
	}
	// "0::" ends the session; the pending poll carries the answer.
	if res := ts.do(t, "POST", path, "0::", nil); res.body != "1" {
		t.Errorf("POST = %q", res.body)
	}
	if res := <-done; res.body != "0::" {
		t.Errorf("pending poll = %q, want 0::", res.body)
	}
	if r := ts.rec.closed(t); r != legacy.ReasonBooted {
		t.Errorf("close reason %q", r)
	}
	select {
	case p := <-ts.rec.packets:
		t.Errorf("0:: reached the Receiver: %+v", p)
	default:
	}
}

func TestServerClose(t *testing.T) {
	ts := newTestServer(t, nil)
	sid, s := ts.connect(t)
	s.Send(legacy.Packet{Type: legacy.Message, Data: []byte("bye")})
	s.Close()
	if r := ts.rec.closed(t); r != legacy.ReasonBooted {
		t.Errorf("close reason %q", r)
	}
	// Nothing is connected: the farewell is gone with the session.
	if res := ts.get(t, "/socket.io/1/xhr-polling/"+sid); res.body != "7:::1+0" {
		t.Errorf("poll = %q", res.body)
	}
	c, s := ts.dial(t)
	s.Send(legacy.Packet{Type: legacy.Message, Data: []byte("bye")})
	s.Close()
	for _, want := range []string{"3:::bye", "0::"} {
		if got := readWS(t, c); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if code := wsCloseCode(t, c); code != websocket.CloseNormalClosure {
		t.Errorf("close code %d", code)
	}
}

func TestUnknownSession(t *testing.T) {
	ts := newTestServer(t, nil)
	tests := []struct {
		method, path, body string
	}{
		{"GET", "/socket.io/1/xhr-polling/nope", "7:::1+0"},
		{"GET", "/socket.io/1/jsonp-polling/nope?i=2", `io.j[2]("7:::1+0");`},
		{"GET", "/socket.io/1/htmlfile/nope", "<html><body><script>var _ = function (msg) { parent.s._(msg, document); };</script>" +
			strings.Repeat(" ", 173) + `<script>_("7:::1+0");</script>`},
		{"POST", "/socket.io/1/xhr-polling/nope", "1"},
		{"POST", "/socket.io/1/jsonp-polling/nope", "1"},
		{"GET", "/socket.io/1/xhr-polling/nope?disconnect", ""},
	}
	for _, tt := range tests {
		res := ts.do(t, tt.method, tt.path, "3:::x", nil)
		if res.status != 200 || res.body != tt.body {
			t.Errorf("%s %s = %d %q, want 200 %q", tt.method, tt.path, res.status, res.body, tt.body)
		}
	}
	c, _, err := websocket.DefaultDialer.Dial(ts.wsURL("/socket.io/1/websocket/nope"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := readWS(t, c); got != "7:::1+0" {
		t.Errorf("ws got %q", got)
	}
	wsCloseCode(t, c)
}

func TestAutoAck(t *testing.T) {
	ts := newTestServer(t, nil)
	sid, _ := ts.connect(t)
	path := "/socket.io/1/xhr-polling/" + sid
	ts.do(t, "POST", path, "\ufffd21\ufffd5:1::{\"name\":\"hello\"}\ufffd11\ufffd3:2:/chat:x", nil)
	if p := ts.rec.packet(t); p.ID != "1" || p.Ack || p.Type != legacy.Event {
		t.Errorf("packet %+v", p)
	}
	if p := ts.rec.packet(t); p.ID != "2" || p.Endpoint != "/chat" {
		t.Errorf("packet %+v", p)
	}
	if res := ts.get(t, path); res.body != "\ufffd5\ufffd6:::1\ufffd10\ufffd6::/chat:2" {
		t.Errorf("acks = %q", res.body)
	}
	// Even a noop with an id is acked, as Node does; it is not delivered.
	ts.do(t, "POST", path, "8:4::", nil)
	if res := ts.get(t, path); res.body != "6:::4" {
		t.Errorf("noop ack = %q", res.body)
	}
	// With '+', the Receiver answers instead (here with the arguments).
	ts.do(t, "POST", path, `5:3+::{"name":"x"}`, nil)
	ts.rec.packet(t)
	if res := ts.get(t, path); res.body != "6:::3" {
		t.Errorf("data ack = %q", res.body)
	}
}

func TestPayloadTooLarge(t *testing.T) {
	ts := newTestServer(t, &legacy.Options{MaxPayload: 1000})
	sid, _ := ts.connect(t)
	other, _ := ts.connect(t)
	res := ts.do(t, "POST", "/socket.io/1/xhr-polling/"+sid, "3:::"+strings.Repeat("x", 2000), nil)
	if res.status != 413 {
		t.Errorf("big POST = %d %q", res.status, res.body)
	}
	if r := ts.rec.closed(t); r != legacy.ReasonPayloadTooLarge {
		t.Errorf("close reason %q", r)
	}
	// At the limit is fine, and other sessions are untouched.
	body := "3:::" + strings.Repeat("y", 996)
	if res := ts.do(t, "POST", "/socket.io/1/xhr-polling/"+other, body, nil); res.status != 200 {
		t.Errorf("POST at the limit = %d", res.status)
	}
	if p := ts.rec.packet(t); len(p.Data) != 996 {
		t.Errorf("packet of %d bytes", len(p.Data))
	}

	// A WebSocket message over the limit closes with 1009.
	c, _ := ts.dial(t)
	writeWS(t, c, "3:::"+strings.Repeat("x", 2000))
	if code := wsCloseCode(t, c); code != websocket.CloseMessageTooBig {
		t.Errorf("close code %d, want 1009", code)
	}
	if r := ts.rec.closed(t); r != legacy.ReasonPayloadTooLarge {
		t.Errorf("close reason %q", r)
	}
}

func TestQueueOverflow(t *testing.T) {
	ts := newTestServer(t, &legacy.Options{WriteQueueSize: 4})
	_, a := ts.connect(t)
	bsid, b := ts.connect(t)
	msg := legacy.Packet{Type: legacy.Message, Data: []byte("m")}
	for range 4 {
		if err := a.Send(msg); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Send(msg); !errors.Is(err, legacy.ErrQueueFull) {
		t.Errorf("Send over the limit: %v", err)
	}
	if r := ts.rec.closed(t); r != legacy.ReasonQueueOverflow {
		t.Errorf("close reason %q", r)
	}
	if err := a.Send(msg); !errors.Is(err, legacy.ErrSessionClosed) {
		t.Errorf("Send after overflow: %v", err)
	}
	// The other session loses nothing.
	if err := b.Send(msg, msg); err != nil {
		t.Fatal(err)
	}
	if res := ts.get(t, "/socket.io/1/xhr-polling/"+bsid); res.body != "\ufffd5\ufffd3:::m\ufffd5\ufffd3:::m" {
		t.Errorf("other session's poll = %q", res.body)
	}
	// Send is all or none.
	if err := b.Send(msg, msg, msg, msg, msg); !errors.Is(err, legacy.ErrQueueFull) {
		t.Errorf("Send of 5: %v", err)
	}
}

func TestInvalidSend(t *testing.T) {
	ts := newTestServer(t, nil)
	_, s := ts.connect(t)
	if err := s.Send(legacy.Packet{Type: legacy.Message, Data: []byte("ok")}, legacy.Packet{Type: legacy.Event, Endpoint: "a:b"}); !errors.Is(err, legacy.ErrInvalidPacket) {
		t.Errorf("Send: %v", err)
	}
	if err := s.Send(legacy.Packet{Type: legacy.Message}); err != nil {
		t.Errorf("the session closed: %v", err)
	}
}

func TestOverlappingPoll(t *testing.T) {
	ts := newTestServer(t, nil)
	sid, _ := ts.connect(t)
	path := "/socket.io/1/xhr-polling/" + sid
	done := make(chan response)
	go func() { done <- ts.get(t, path) }()
	time.Sleep(50 * time.Millisecond)
	if res := ts.get(t, path); res.body != "7:::1+0" {
		t.Errorf("second poll = %q", res.body)
	}
	if res := <-done; res.status != 200 || res.body != "" {
		t.Errorf("first poll = %d %q", res.status, res.body)
	}
	if r := ts.rec.closed(t); r != legacy.ReasonTransportOverlap {
		t.Errorf("close reason %q", r)
	}
}

func TestTransportSwitch(t *testing.T) {
	// A client that gives up on one transport tries the next with the same
	// sid (0.9.16's "try multiple transports"): the new one takes over.
	ts := newTestServer(t, nil)
	sid := ts.handshake(t)
	done := make(chan response)
	go func() { done <- ts.get(t, "/socket.io/1/jsonp-polling/"+sid) }()
	if res := <-done; res.body != `io.j[0]("1::");` {
		t.Fatalf("jsonp poll = %q", res.body)
	}
	s := ts.rec.session(t)
	go func() { done <- ts.get(t, "/socket.io/1/jsonp-polling/"+sid) }()
	time.Sleep(50 * time.Millisecond)
	c, _, err := websocket.DefaultDialer.Dial(ts.wsURL("/socket.io/1/websocket/"+sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if res := <-done; res.body != `io.j[0]("");` {
		t.Errorf("replaced poll = %q", res.body)
	}
	s.Send(legacy.Packet{Type: legacy.Message, Data: []byte("on ws")})
	if got := readWS(t, c); got != "3:::on ws" {
		t.Errorf("got %q", got)
	}
	if s.Transport() != "websocket" {
		t.Errorf("transport %q", s.Transport())
	}
}

func TestBadInput(t *testing.T) {
	ts := newTestServer(t, nil)
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	tests := []struct {
		name      string
		transport string
		body      string
		header    http.Header
	}{
		{"unknown type", "xhr-polling", "9::", nil},
		{"no colon", "xhr-polling", "hello", nil},
		{"giant id", "xhr-polling", "5:" + strings.Repeat("9", 5000) + "::", nil},
		{"bad framing", "xhr-polling", "\ufffd9\ufffd1::", nil},
		{"bad length", "xhr-polling", "\ufffdx\ufffd1::", nil},
		{"split surrogate", "htmlfile", "\ufffd5\ufffd3:::😀", nil},
		{"jsonp no d", "jsonp-polling", "e=1", form},
		{"jsonp not JSON", "jsonp-polling", "d=3%3A%3A%3Ax", form},
		{"jsonp not a string", "jsonp-polling", "d=42", form},
		{"jsonp bad packet", "jsonp-polling", url.Values{"d": {`"x::"`}}.Encode(), form},
	}
	for _, tt := range tests {
		sid, _ := ts.connect(t)
		res := ts.do(t, "POST", "/socket.io/1/"+tt.transport+"/"+sid, tt.body, tt.header)
		if res.status != 400 {
			t.Errorf("%s: %d %q, want 400", tt.name, res.status, res.body)
		}
		if r := ts.rec.closed(t); r != legacy.ReasonParseError {
			t.Errorf("%s: close reason %q", tt.name, r)
		}
	}

	// Requests that never reach a session.
	sid, _ := ts.connect(t)
	for _, tt := range []struct {
		name, method, path string
		header             http.Header
		status             int
	}{
		{"h2c upgrade", "GET", "/socket.io/1/xhr-polling/" + sid, http.Header{"Upgrade": {"h2c"}, "Connection": {"Upgrade"}}, 400},
		{"h2c on handshake", "GET", "/socket.io/1/", http.Header{"Upgrade": {"h2c"}, "Connection": {"Upgrade"}}, 400},
		{"ws upgrade on polling", "GET", "/socket.io/1/xhr-polling/" + sid, http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}, 400},
		{"websocket without upgrade", "GET", "/socket.io/1/websocket/" + sid, nil, 400},
		{"unknown transport", "GET", "/socket.io/1/__proto__/" + sid, nil, 400},
		{"flashsocket", "GET", "/socket.io/1/flashsocket/" + sid, nil, 400},
		{"empty transport", "GET", "/socket.io/1//" + sid, nil, 400},
		{"POST on websocket", "POST", "/socket.io/1/websocket/" + sid, nil, 400},
		{"PUT", "PUT", "/socket.io/1/xhr-polling/" + sid, nil, 405},
		{"OPTIONS", "OPTIONS", "/socket.io/1/xhr-polling/" + sid, nil, 405},
	} {
		if res := ts.do(t, tt.method, tt.path, "", tt.header); res.status != tt.status {
			t.Errorf("%s: %d %q, want %d", tt.name, res.status, res.body, tt.status)
		}
	}
	// Garbage after the upgrade headers (CVE-2022-21676) fails the
	// upgrade cleanly.
	res := ts.do(t, "GET", "/socket.io/1/websocket/"+sid, "test", http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}})
	if res.status != 400 {
		t.Errorf("ws upgrade without a key = %d", res.status)
	}
	// None of that touched the session.
	if res := ts.do(t, "POST", "/socket.io/1/xhr-polling/"+sid, "3:::still here", nil); res.body != "1" {
		t.Errorf("POST = %q", res.body)
	}
	if p := ts.rec.packet(t); string(p.Data) != "still here" {
		t.Errorf("packet %+v", p)
	}

	// On a WebSocket, bad packets close with 1002, binary with 1003.
	for _, tt := range []struct {
		kind int
		msg  string
		code int
	}{
		{websocket.TextMessage, "garbage", websocket.CloseProtocolError},
		{websocket.TextMessage, "\ufffd3\ufffd1::", websocket.CloseProtocolError},
		{websocket.BinaryMessage, "3:::x", websocket.CloseUnsupportedData},
	} {
		c, _ := ts.dial(t)
		c.WriteMessage(tt.kind, []byte(tt.msg))
		if code := wsCloseCode(t, c); code != tt.code {
			t.Errorf("%q: close code %d, want %d", tt.msg, code, tt.code)
		}
		if r := ts.rec.closed(t); r != legacy.ReasonParseError {
			t.Errorf("close reason %q", r)
		}
	}
}

func TestSecondWebSocket(t *testing.T) {
	ts := newTestServer(t, nil)
	c, s := ts.dial(t)
	c2, _, err := websocket.DefaultDialer.Dial(ts.wsURL("/socket.io/1/websocket/"+s.ID()), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got := readWS(t, c2); got != "7:::1+0" {
		t.Errorf("second ws got %q", got)
	}
	wsCloseCode(t, c)
	if r := ts.rec.closed(t); r != legacy.ReasonTransportOverlap {
		t.Errorf("close reason %q", r)
	}
}

func TestShutdown(t *testing.T) {
	ts := newTestServer(t, nil)
	sid, _ := ts.connect(t)
	c, _ := ts.dial(t)
	done := make(chan response)
	go func() { done <- ts.get(t, "/socket.io/1/xhr-polling/"+sid) }()
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if res := <-done; res.status != 200 || res.body != "7:::1+0" {
		t.Errorf("pending poll = %d %q, want the session's end", res.status, res.body)
	}
	if code := wsCloseCode(t, c); code != websocket.CloseGoingAway {
		t.Errorf("ws close code %d", code)
	}
	for range 2 {
		if r := ts.rec.closed(t); r != legacy.ReasonServerShutdown {
			t.Errorf("close reason %q", r)
		}
	}
	if res := ts.get(t, "/socket.io/1/"); res.status != 503 {
		t.Errorf("handshake after shutdown = %d", res.status)
	}
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, legacy.ErrServerClosed) {
		t.Errorf("second Shutdown: %v", err)
	}
}

// A polling client between two polls when Shutdown begins gets what was
// queued for it on its next poll, and Shutdown waits for that poll.
func TestShutdownWaitsForThePollBetweenPolls(t *testing.T) {
	ts := newTestServer(t, nil)
	sid, s := ts.connect(t)
	s.Send(legacy.Packet{Type: legacy.Message, Data: []byte("last words")})
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- ts.srv.Shutdown(ctx)
	}()
	if r := ts.rec.closed(t); r != legacy.ReasonServerShutdown {
		t.Fatalf("close reason %q", r)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned before the client collected its packets: %v", err)
	default:
	}
	want := string(legacy.EncodeFrames([]byte("3:::last words"), []byte("7:::1+0")))
	if res := ts.get(t, "/socket.io/1/xhr-polling/"+sid); res.body != want {
		t.Errorf("poll after Shutdown began = %q, want %q", res.body, want)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if res := ts.get(t, "/socket.io/1/xhr-polling/"+sid); res.body != "7:::1+0" {
		t.Errorf("poll after Shutdown = %q", res.body)
	}
}

// A polling client that never polls again delays Shutdown by 2 s at most.
func TestShutdownGivesUpOnAGonePollingClient(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.connect(t)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
}

func TestPostFirst(t *testing.T) {
	// A client may POST before its first poll: that connects it too.
	ts := newTestServer(t, nil)
	sid := ts.handshake(t)
	path := "/socket.io/1/jsonp-polling/" + sid
	form := url.Values{"d": {`"3:::early"`}}.Encode()
	if res := ts.do(t, "POST", path, form, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}); res.body != "1" {
		t.Fatalf("POST = %q", res.body)
	}
	s := ts.rec.session(t)
	if p := ts.rec.packet(t); string(p.Data) != "early" {
		t.Errorf("packet %+v", p)
	}
	if s.Transport() != "jsonp-polling" {
		t.Errorf("transport %q", s.Transport())
	}
	if res := ts.get(t, path); res.body != `io.j[0]("1::");` {
		t.Errorf("first poll = %q", res.body)
	}
}

func TestOpenSendsFirst(t *testing.T) {
	// What Open sends comes right after the connect echo.
	ts := newTestServer(t, nil)
	ts.rec.onOpen = func(s *legacy.Session) {
		data, _ := legacy.EventData("welcome", []byte(`[{"hello":"world"}]`))
		s.Send(legacy.Packet{Type: legacy.Event, Data: data})
	}
	sid := ts.handshake(t)
	if res := ts.get(t, "/socket.io/1/xhr-polling/"+sid); res.body != "\ufffd3\ufffd1::\ufffd49\ufffd"+welcomePkt {
		t.Errorf("first poll = %q", res.body)
	}
}

func TestConcurrentSessions(t *testing.T) {
	ts := newTestServer(t, nil)
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			sid := ts.handshake(t)
			path := "/socket.io/1/xhr-polling/" + sid
			if res := ts.get(t, path); res.body != "1::" {
				errs <- fmt.Errorf("first poll %q", res.body)
				return
			}
			ts.do(t, "POST", path, fmt.Sprintf(`5:%d+::{"name":"e","args":[%d]}`, i+1, i), nil)
			want := fmt.Sprintf("6:::%d+[%d]", i+1, i)
			if res := ts.get(t, path); res.body != want {
				errs <- fmt.Errorf("poll %q, want %q", res.body, want)
				return
			}
			errs <- nil
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestScriptRequestOrigins: script and iframe requests (JSONP, htmlfile)
// carry no Origin; a browser's cross-site one is judged by its Referer.
func TestScriptRequestOrigins(t *testing.T) {
	ts := newTestServer(t, nil)
	host := strings.TrimPrefix(ts.URL, "http://")
	tests := []struct {
		name   string
		header http.Header
		ok     bool
	}{
		{"no browser", nil, true},
		{"same-origin fetch", http.Header{"Sec-Fetch-Site": {"same-origin"}}, true},
		{"typed in", http.Header{"Sec-Fetch-Site": {"none"}}, true},
		{"cross-site, own referer", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Referer": {ts.URL + "/chat.html"}}, true},
		{"cross-site, evil referer", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Referer": {"https://evil.example/x"}}, false},
		{"same-site, evil referer", http.Header{"Sec-Fetch-Site": {"same-site"}, "Referer": {"http://evil." + host + "/"}}, false},
		{"cross-site, no referer", http.Header{"Sec-Fetch-Site": {"cross-site"}}, false},
		// socket.io-client 0.9 in Node sends its Host as the Origin of a
		// WebSocket; no browser does.
		{"scheme-less own host", http.Header{"Origin": {host}}, true},
		{"scheme-less other host", http.Header{"Origin": {"evil.example:80"}}, false},
	}
	for _, tt := range tests {
		res := ts.do(t, "GET", "/socket.io/1/?t=1&jsonp=0", "", tt.header)
		if ok := strings.HasPrefix(res.body, `io.j[0]("`) && !strings.Contains(res.body, "Error"); ok != tt.ok {
			t.Errorf("%s: jsonp handshake = %q, want allowed %v", tt.name, res.body, tt.ok)
		}
		sid, _ := ts.connect(t)
		res = ts.do(t, "GET", "/socket.io/1/jsonp-polling/"+sid+"?disconnect", "", tt.header)
		if ok := res.status == 200; ok != tt.ok {
			t.Errorf("%s: jsonp request = %d, want allowed %v", tt.name, res.status, tt.ok)
		}
		if !tt.ok {
			ts.get(t, "/socket.io/1/xhr-polling/"+sid+"?disconnect")
		}
		ts.rec.closed(t)
	}
	c, _, err := websocket.DefaultDialer.Dial(ts.wsURL("/socket.io/1/websocket/"+ts.handshake(t)), http.Header{"Origin": {host}})
	if err != nil {
		t.Fatalf("ws with the 0.9 Node client's Origin: %v", err)
	}
	if got := readWS(t, c); got != "1::" {
		t.Errorf("got %q", got)
	}
	c.Close()
}

// TestFragmentFlood sends 100k one-byte continuation frames that never set
// FIN: the message grows to MaxPayload and the socket closes with 1009.
func TestFragmentFlood(t *testing.T) {
	ts := newTestServer(t, &legacy.Options{MaxPayload: 10_000})
	sid := ts.handshake(t)
	host := strings.TrimPrefix(ts.URL, "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /socket.io/1/websocket/%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", sid, host)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", res, err)
	}
	go func() {
		bw := bufio.NewWriter(conn)
		frame := []byte{0x01, 0x81, 1, 2, 3, 4, 'x' ^ 1} // text, no FIN, masked, 1 byte
		for i := range 100_000 {
			if i == 1 {
				frame[0] = 0x00 // continuation
			}
			if _, err := bw.Write(frame); err != nil {
				return
			}
		}
		bw.Flush()
	}()
	// Read server frames until the close frame.
	conn.SetReadDeadline(time.Now().Add(waitFor))
	for {
		var hdr [2]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		n := int(hdr[1] & 0x7f)
		if n == 126 {
			var ext [2]byte
			io.ReadFull(br, ext[:])
			n = int(ext[0])<<8 | int(ext[1])
		}
		payload := make([]byte, n)
		io.ReadFull(br, payload)
		if hdr[0]&0x0f == 0x8 {
			if code := int(payload[0])<<8 | int(payload[1]); code != websocket.CloseMessageTooBig {
				t.Errorf("close code %d, want 1009", code)
			}
			break
		}
	}
	if r := ts.rec.closed(t); r != legacy.ReasonPayloadTooLarge {
		t.Errorf("close reason %q", r)
	}
}

// TestScriptEscaping: JSONP and htmlfile bodies are JSON.stringify's
// output, plus \u2028 and \u2029 (which end a string literal in old
// JavaScript) and, for htmlfile, \/. Bytes that are not UTF-8 become
// U+FFFD, as in a JavaScript string.
func TestScriptEscaping(t *testing.T) {
	ts := newTestServer(t, nil)
	data := "\b\f\r\t\n\x00\x1f\x7f\"\\/\u2028\u2029é😀\xff"
	// JSON.stringify("3:::"+data) in Node 20, with the two differences.
	js := `"3:::\b\f\r\t\n\u0000\u001f` + "\x7f" + `\"\\/\u2028\u2029é😀` + "\ufffd" + `"`
	sid, s := ts.connect(t)
	s.Send(legacy.Packet{Type: legacy.Message, Data: []byte(data)})
	if res := ts.get(t, "/socket.io/1/jsonp-polling/"+sid); res.body != "io.j[0]("+js+");" {
		t.Errorf("jsonp body %q, want %q", res.body, "io.j[0]("+js+");")
	}
	sid = ts.handshake(t)
	res, err := ts.client.Get(ts.URL + "/socket.io/1/htmlfile/" + sid)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	s = ts.rec.session(t)
	s.Send(legacy.Packet{Type: legacy.Message, Data: []byte(data)})
	want := `<html><body><script>var _ = function (msg) { parent.s._(msg, document); };</script>` + strings.Repeat(" ", 173) +
		`<script>_("1::");</script><script>_(` + strings.Replace(js, "/", `\/`, 1) + `);</script>`
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(res.Body, buf); err != nil || string(buf) != want {
		t.Errorf("htmlfile %q, %v; want %q", buf, err, want)
	}
}
