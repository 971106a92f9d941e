package legacy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/protocol/legacy"
)

// recorder is a Handler that reports what happens to its sessions and
// answers events that ask for ack data with their own arguments.
type recorder struct {
	sessions chan *legacy.Session
	packets  chan legacy.Packet
	closes   chan string
	onOpen   func(s *legacy.Session)

	mu     sync.Mutex
	opened []*legacy.Session // every session, for the test's end
}

func newRecorder() *recorder {
	return &recorder{
		sessions: make(chan *legacy.Session, 1024),
		packets:  make(chan legacy.Packet, 1024),
		closes:   make(chan string, 1024),
	}
}

func (h *recorder) Open(s *legacy.Session) legacy.Receiver {
	if h.onOpen != nil {
		h.onOpen(s)
	}
	h.mu.Lock()
	h.opened = append(h.opened, s)
	h.mu.Unlock()
	h.sessions <- s
	return &recording{h, s}
}

type recording struct {
	h *recorder
	s *legacy.Session
}

func (r *recording) OnPacket(p legacy.Packet) {
	p.Data = append([]byte(nil), p.Data...)
	r.h.packets <- p
	if p.Type == legacy.Event && p.Ack {
		_, args, err := legacy.ParseEvent(p.Data)
		if err != nil {
			return
		}
		arr := []byte("[]")
		if len(args) > 0 {
			arr, _ = json.Marshal(args)
		}
		data, err := legacy.AckData(p.ID, arr)
		if err != nil {
			panic(err)
		}
		r.s.Send(legacy.Packet{Type: legacy.Ack, Endpoint: p.Endpoint, Data: data})
	}
}

func (r *recording) OnClose(reason string) { r.h.closes <- reason }

const waitFor = 5 * time.Second

func (h *recorder) session(t *testing.T) *legacy.Session {
	t.Helper()
	select {
	case s := <-h.sessions:
		return s
	case <-time.After(waitFor):
		t.Fatal("no session opened")
		return nil
	}
}

func (h *recorder) packet(t *testing.T) legacy.Packet {
	t.Helper()
	select {
	case p := <-h.packets:
		return p
	case <-time.After(waitFor):
		t.Fatal("no packet received")
		return legacy.Packet{}
	}
}

func (h *recorder) closed(t *testing.T) string {
	t.Helper()
	select {
	case r := <-h.closes:
		return r
	case <-time.After(waitFor):
		t.Fatal("no session closed")
		return ""
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

type testServer struct {
	*httptest.Server
	srv    *legacy.Server
	rec    *recorder
	client *http.Client
}

// newTestServer runs a legacy server with a recorder, mounted at "/" so
// that it sees whole paths.
func newTestServer(t *testing.T, opts *legacy.Options) *testServer {
	t.Helper()
	if opts == nil {
		opts = &legacy.Options{}
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	rec := newRecorder()
	srv := legacy.NewServer(rec, opts)
	ts := &testServer{Server: httptest.NewServer(srv), srv: srv, rec: rec}
	ts.client = &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	t.Cleanup(func() {
		// Sessions are closed first: Shutdown would wait for polling
		// clients that polled just now to poll again, which the tests'
		// clients never do (see TestShutdownGivesUpOnAGonePollingClient).
		rec.mu.Lock()
		for _, s := range rec.opened {
			s.Close()
		}
		rec.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, legacy.ErrServerClosed) {
			t.Errorf("Shutdown: %v", err)
		}
		ts.client.CloseIdleConnections()
		ts.Close()
	})
	return ts
}

type response struct {
	status int
	header http.Header
	body   string
}

func (ts *testServer) do(t *testing.T, method, path, body string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := ts.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(b)}
}

func (ts *testServer) get(t *testing.T, path string) response {
	t.Helper()
	return ts.do(t, "GET", path, "", nil)
}

var handshakeRE = regexp.MustCompile(`^([A-Za-z0-9_-]{20}):(.*)$`)

// handshake returns a new session id.
func (ts *testServer) handshake(t *testing.T) string {
	t.Helper()
	res := ts.get(t, "/socket.io/1/?t=1")
	m := handshakeRE.FindStringSubmatch(res.body)
	if res.status != 200 || m == nil {
		t.Fatalf("handshake: %d %q", res.status, res.body)
	}
	return m[1]
}

// connect handshakes and makes the first xhr-polling GET, which must
// answer "1::".
func (ts *testServer) connect(t *testing.T) (string, *legacy.Session) {
	t.Helper()
	sid := ts.handshake(t)
	if res := ts.get(t, "/socket.io/1/xhr-polling/"+sid); res.body != "1::" {
		t.Fatalf("first poll: %d %q", res.status, res.body)
	}
	return sid, ts.rec.session(t)
}

func (ts *testServer) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + path
}

// dial opens the websocket transport of a new session and reads "1::".
func (ts *testServer) dial(t *testing.T) (*websocket.Conn, *legacy.Session) {
	t.Helper()
	sid := ts.handshake(t)
	c, _, err := websocket.DefaultDialer.Dial(ts.wsURL("/socket.io/1/websocket/"+sid), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if got := readWS(t, c); got != "1::" {
		t.Fatalf("first message %q, want 1::", got)
	}
	return c, ts.rec.session(t)
}

func readWS(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitFor))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

func writeWS(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// wsCloseCode reads until the connection ends and returns its close code.
func wsCloseCode(t *testing.T, c *websocket.Conn) int {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitFor))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				return ce.Code
			}
			return -1
		}
	}
}

func mustEncode(t *testing.T, p legacy.Packet) string {
	t.Helper()
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
