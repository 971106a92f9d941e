package expressio_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/expressio"
)

// newServer runs s behind an httptest server and shuts both down after
// the test.
func newServer(t *testing.T, s *expressio.Server) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(s.Path(), s)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
	})
	return ts
}

// wsClient is a raw socket.io client over a WebSocket, speaking the wire
// format directly so tests see exactly what goes over it. A goroutine
// reads frames into a channel, so waiting for "nothing" leaves the
// connection usable.
type wsClient struct {
	t      *testing.T
	conn   *websocket.Conn
	eio    string
	frames chan frame
}

type frame struct {
	kind int
	data string
	err  error
}

func newWSClient(t *testing.T, conn *websocket.Conn, eio string) *wsClient {
	c := &wsClient{t: t, conn: conn, eio: eio, frames: make(chan frame, 4096)}
	go func() {
		for {
			kind, data, err := conn.ReadMessage()
			if err == nil && eio == "4" && string(data) == "2" {
				conn.WriteMessage(websocket.TextMessage, []byte("3"))
				continue
			}
			c.frames <- frame{kind, string(data), err}
			if err != nil {
				close(c.frames)
				return
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return c
}

func dialURL(t *testing.T, ts *httptest.Server, eio, query string) *wsClient {
	t.Helper()
	u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=" + eio + "&transport=websocket" + query
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := newWSClient(t, conn, eio)
	if open := c.read(); open[0] != '0' {
		t.Fatalf("open packet %q", open)
	}
	return c
}

func dial(t *testing.T, ts *httptest.Server, eio string) *wsClient {
	t.Helper()
	return dialURL(t, ts, eio, "")
}

// connect dials and joins "/" (explicitly on EIO4, implicitly on EIO3).
func connect(t *testing.T, ts *httptest.Server, eio string) *wsClient {
	t.Helper()
	c := dial(t, ts, eio)
	if eio == "4" {
		c.send("40")
	}
	if got := c.read(); !strings.HasPrefix(got, "40") {
		t.Fatalf("connect answer %q", got)
	}
	return c
}

func (c *wsClient) send(msg string) {
	c.t.Helper()
	c.conn.WriteMessage(websocket.TextMessage, []byte(msg))
}

func (c *wsClient) sendBinary(b []byte) {
	c.t.Helper()
	c.conn.WriteMessage(websocket.BinaryMessage, b)
}

// next returns the next frame, or an error when none came within d or
// the connection ended.
func (c *wsClient) next(d time.Duration) (frame, error) {
	select {
	case f, ok := <-c.frames:
		if !ok {
			return frame{}, errors.New("connection closed")
		}
		return f, f.err
	case <-time.After(d):
		return frame{}, errors.New("timeout")
	}
}

// read returns the next frame's text.
func (c *wsClient) read() string {
	c.t.Helper()
	f, err := c.next(3 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f.data
}

// readErr is read for frames that may not come.
func (c *wsClient) readErr(d time.Duration) (string, error) {
	f, err := c.next(d)
	return f.data, err
}

// closed waits for the server to end the connection.
func (c *wsClient) closed(d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok || f.err != nil {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

func (c *wsClient) expect(want string) {
	c.t.Helper()
	if got := c.read(); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

// expectNothing asserts no frame arrives within d.
func (c *wsClient) expectNothing(d time.Duration) {
	c.t.Helper()
	if got, err := c.readErr(d); err == nil {
		c.t.Fatalf("unexpected frame %q", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func post(t *testing.T, u, body string) (int, string) {
	t.Helper()
	res, err := http.Post(u, "text/plain;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
