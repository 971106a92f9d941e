package wsconn

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair returns a server Conn and the raw client socket of one upgraded
// connection; the client's frames are written by hand with frame.
func pair(t *testing.T, u *Upgrader) (*Conn, net.Conn) {
	t.Helper()
	conns := make(chan *Conn, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		conns <- c
	}))
	t.Cleanup(ts.Close)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := <-conns
	t.Cleanup(func() { c.Close(); ws.Close() })
	return c, ws.NetConn()
}

// frame builds a masked client frame; rsv sets the reserved bits.
func frame(fin bool, op Opcode, payload []byte, rsv byte) []byte {
	b0 := byte(op) | rsv<<4
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	n := len(payload)
	switch {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n < 1<<16:
		out = append(out, 0x80|126, byte(n>>8), byte(n))
	default:
		out = append(out, 0x80|127, 0, 0, 0, byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	out = append(out, key[:]...)
	masked := append([]byte(nil), payload...)
	mask(key, masked)
	return append(out, masked...)
}

func write(t *testing.T, nc net.Conn, frames ...[]byte) {
	t.Helper()
	go func() { // a large write must not wait for the test's own read
		for _, f := range frames {
			if _, err := nc.Write(f); err != nil {
				return
			}
		}
	}()
}

func TestReadMessages(t *testing.T) {
	c, nc := pair(t, &Upgrader{})
	big := bytes.Repeat([]byte("0123456789"), 7000) // 64-bit length
	mid := bytes.Repeat([]byte("x"), 300)           // 16-bit length
	write(t, nc,
		frame(true, OpText, []byte("4hello"), 0),
		frame(true, OpBinary, []byte{0, 1, 2, 255}, 0),
		frame(true, OpPong, []byte("ignored"), 0),
		frame(true, OpPing, []byte("p"), 0),
		frame(false, OpText, []byte("frag"), 0),
		frame(true, OpPing, []byte("between"), 0), // control frames may interleave
		frame(false, OpContinuation, []byte("men"), 0),
		frame(true, OpContinuation, []byte("ted"), 0),
		frame(true, OpText, mid, 0),
		frame(true, OpBinary, big, 0),
		frame(true, OpText, []byte("héllo ✓"), 0),
	)
	want := []Message{
		{OpText, []byte("4hello")},
		{OpBinary, []byte{0, 1, 2, 255}},
		{OpPing, []byte("p")},
		{OpPing, []byte("between")},
		{OpText, []byte("fragmented")},
		{OpText, mid},
		{OpBinary, big},
		{OpText, []byte("héllo ✓")},
	}
	for i, w := range want {
		m, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if m.Op != w.Op || !bytes.Equal(m.Data, w.Data) {
			t.Fatalf("message %d: got op %d %.40q, want op %d %.40q", i, m.Op, m.Data, w.Op, w.Data)
		}
	}
}

// An idle connection holds no read buffer: the point of the package.
func TestIdleHoldsNoBuffer(t *testing.T) {
	c, nc := pair(t, &Upgrader{})
	write(t, nc, frame(true, OpText, []byte("one"), 0), frame(true, OpText, []byte("two"), 0))
	for _, want := range []string{"one", "two"} {
		m, err := c.ReadMessage()
		if err != nil || string(m.Data) != want {
			t.Fatalf("got %q, %v; want %q", m.Data, err, want)
		}
	}
	if c.rbuf != nil {
		t.Fatal("a read buffer is held after the last buffered message was read")
	}
	// Waiting for the next message holds none either, and a byte at a
	// time still makes a message.
	done := make(chan Message)
	go func() {
		m, _ := c.ReadMessage()
		done <- m
	}()
	f := frame(true, OpText, []byte("three"), 0)
	for i := range f {
		nc.Write(f[i : i+1])
		time.Sleep(time.Millisecond)
	}
	if m := <-done; string(m.Data) != "three" {
		t.Fatalf("got %q", m.Data)
	}
	if c.rbuf != nil {
		t.Fatal("a read buffer is held after the message was read")
	}
}

func TestProtocolErrors(t *testing.T) {
	unmasked := frame(true, OpText, []byte("hi"), 0)
	unmasked[1] &^= 0x80
	unmasked = append(unmasked[:2], []byte("hi")...)
	long16 := []byte{0x81, 0x80 | 126, 0, 5, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}
	highBit := []byte{0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}
	tests := []struct {
		name   string
		frames [][]byte
		code   int
	}{
		{"reserved bits (CVE-2022-21676)", [][]byte{frame(true, OpText, []byte("test"), 4)}, CloseProtocolError},
		{"unmasked", [][]byte{unmasked}, CloseProtocolError},
		{"reserved opcode", [][]byte{frame(true, Opcode(3), nil, 0)}, CloseProtocolError},
		{"continuation first", [][]byte{frame(true, OpContinuation, []byte("x"), 0)}, CloseProtocolError},
		{"message inside a fragmented one", [][]byte{frame(false, OpText, []byte("a"), 0), frame(true, OpText, []byte("b"), 0)}, CloseProtocolError},
		{"fragmented ping", [][]byte{frame(false, OpPing, nil, 0)}, CloseProtocolError},
		{"long ping", [][]byte{frame(true, OpPing, make([]byte, 126), 0)}, CloseProtocolError},
		{"length not minimal", [][]byte{long16}, CloseProtocolError},
		{"length high bit", [][]byte{highBit}, CloseProtocolError},
		{"text not UTF-8", [][]byte{frame(true, OpText, []byte{'4', 0xff, 0xfe}, 0)}, CloseInvalidPayload},
		{"fragmented text not UTF-8", [][]byte{frame(false, OpText, []byte{'4', 0xe2}, 0), frame(true, OpContinuation, []byte{0x28}, 0)}, CloseInvalidPayload},
		{"close with 1 byte", [][]byte{frame(true, OpClose, []byte{3}, 0)}, CloseProtocolError},
		{"close code 1005", [][]byte{frame(true, OpClose, []byte{0x03, 0xed}, 0)}, CloseProtocolError},
		{"close reason not UTF-8", [][]byte{frame(true, OpClose, []byte{0x03, 0xe8, 0xff}, 0)}, CloseInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, nc := pair(t, &Upgrader{})
			write(t, nc, tt.frames...)
			_, err := c.ReadMessage()
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code != tt.code {
				t.Fatalf("got %v, want a protocol error with code %d", err, tt.code)
			}
		})
	}
}

func TestPeerClose(t *testing.T) {
	c, nc := pair(t, &Upgrader{})
	write(t, nc, frame(true, OpClose, []byte{0x03, 0xe9, 'b', 'y', 'e'}, 0))
	_, err := c.ReadMessage()
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != CloseGoingAway || ce.Text != "bye" {
		t.Fatalf("got %v, want close 1001 bye", err)
	}

	c, nc = pair(t, &Upgrader{})
	nc.Close()
	if _, err := c.ReadMessage(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("peer gone without a close frame: got %v", err)
	}
}

func TestReadLimit(t *testing.T) {
	c, nc := pair(t, &Upgrader{ReadLimit: 100})
	write(t, nc, frame(true, OpText, make([]byte, 100), 0), frame(true, OpText, make([]byte, 101), 0))
	if m, err := c.ReadMessage(); err != nil || len(m.Data) != 100 {
		t.Fatalf("a message at the limit: %d bytes, %v", len(m.Data), err)
	}
	if _, err := c.ReadMessage(); !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("over the limit: got %v", err)
	}
	// The declared length is checked before anything is allocated.
	c, nc = pair(t, &Upgrader{ReadLimit: 1 << 20})
	write(t, nc, []byte{0x82, 0x80 | 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4})
	if _, err := c.ReadMessage(); !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("a 2^63-byte frame: got %v", err)
	}
}

// 100k one-byte continuation frames (CVE-2026-48779's flood) are one
// message bounded by the read limit, not 100k allocations kept.
func TestContinuationFlood(t *testing.T) {
	const n = 100_000
	flood := make([][]byte, 0, n+1)
	flood = append(flood, frame(false, OpBinary, []byte{1}, 0))
	for range n - 1 {
		flood = append(flood, frame(false, OpContinuation, []byte{1}, 0))
	}
	var all []byte
	for _, f := range flood {
		all = append(all, f...)
	}

	c, nc := pair(t, &Upgrader{ReadLimit: 64 << 10})
	write(t, nc, all)
	if _, err := c.ReadMessage(); !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("flood over the limit: got %v", err)
	}
	if len(c.frag) > 64<<10 || cap(c.frag) > 2*(64<<10)+1 {
		t.Fatalf("the fragments grew to len %d cap %d past the 64 KiB limit", len(c.frag), cap(c.frag))
	}

	c, nc = pair(t, &Upgrader{ReadLimit: 1 << 20})
	write(t, nc, all, frame(true, OpContinuation, []byte{1}, 0))
	m, err := c.ReadMessage()
	if err != nil || len(m.Data) != n+1 {
		t.Fatalf("flood under the limit: %d bytes, %v", len(m.Data), err)
	}
}

func TestAppendFrameReadByGorilla(t *testing.T) {
	conns := make(chan *Conn, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&Upgrader{}).Upgrade(w, r, nil)
		if err == nil {
			conns <- c
		}
	}))
	defer ts.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c := <-conns
	defer c.Close()
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 200_000} {
		payload := bytes.Repeat([]byte{'a'}, n)
		f := AppendFrame(nil, OpText, payload[:n/2], payload[n/2:])
		if len(f) != FrameSize(n) {
			t.Fatalf("FrameSize(%d) = %d, frame is %d", n, FrameSize(n), len(f))
		}
		if err := c.Write(f, time.Now().Add(5*time.Second)); err != nil {
			t.Fatal(err)
		}
		kind, data, err := ws.ReadMessage()
		if err != nil || kind != websocket.TextMessage || len(data) != n {
			t.Fatalf("%d bytes: got kind %d, %d bytes, %v", n, kind, len(data), err)
		}
	}
	if err := c.WriteClose(CloseGoingAway, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	_, _, err = ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("got %v, want close 1001", err)
	}
}

// TryWrite never waits: against a peer that reads nothing it takes what
// the socket buffers and then reports 0, where Write would time out.
func TestTryWriteNeverWaits(t *testing.T) {
	c, _ := pair(t, &Upgrader{})
	chunk := AppendFrame(nil, OpBinary, make([]byte, 64<<10))
	total := 0
	start := time.Now()
	for {
		n, err := c.TryWrite(chunk)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n < len(chunk) {
			break
		}
		if total > 256<<20 {
			t.Fatal("the socket took 256 MiB from a peer that reads nothing")
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("filling the socket took %v", d)
	}
	if n, err := c.TryWrite(chunk); n != 0 || err != nil {
		t.Fatalf("a full socket took %d bytes, %v", n, err)
	}
	err := c.Write(chunk, time.Now().Add(50*time.Millisecond))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write to a full socket: got %v, want a timeout", err)
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	payload := []byte(`2["tick",{"n":1,"text":"hello world"}]`)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFrame(buf[:0], OpText, []byte{'4'}, payload)
	}
}

// BenchmarkReadMessage reads small text messages from a real socket.
func BenchmarkReadMessage(b *testing.B) {
	conns := make(chan *Conn, 1)
	u := &Upgrader{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := u.Upgrade(w, r, nil); err == nil {
			conns <- c
		}
	}))
	defer ts.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	c := <-conns
	defer c.Close()
	msg := frame(true, OpText, []byte(`42["echo","hello world"]`), 0)
	batch := bytes.Repeat(msg, 64)
	go func() {
		for {
			if _, err := ws.NetConn().Write(batch); err != nil {
				return
			}
		}
	}()
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := c.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}

// A parked connection has no goroutine: bytes arriving wake it once, and a
// connection closed while parked is never woken. The watcher goroutine
// ends with the last parked connection (goleak checks).
func TestPark(t *testing.T) {
	u := &Upgrader{}
	c, nc := pair(t, u)
	woken := make(chan struct{}, 2)
	if err := c.Park(func() { woken <- struct{}{} }); err != nil {
		if errors.Is(err, ErrParkUnsupported) {
			t.Skip("parking needs Linux") // this suite's CI runs on Linux
		}
		t.Fatal(err)
	}
	select {
	case <-woken:
		t.Fatal("woken with nothing to read")
	case <-time.After(50 * time.Millisecond):
	}
	write(t, nc, frame(true, OpText, []byte("hello"), 0))
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("not woken by a message")
	}
	if m, err := c.ReadMessage(); err != nil || string(m.Data) != "hello" {
		t.Fatalf("after the wake: %q %v", m.Data, err)
	}
	// Parked again, then closed: never woken.
	if err := c.Park(func() { woken <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	c.Close()
	write(t, nc, frame(true, OpText, []byte("late"), 0))
	select {
	case <-woken:
		t.Fatal("a closed connection was woken")
	case <-time.After(100 * time.Millisecond):
	}
	if err := c.Park(func() {}); !errors.Is(err, net.ErrClosed) && !errors.Is(err, ErrParkUnsupported) {
		t.Fatalf("Park after Close: %v", err)
	}

	// A peer that hangs up wakes its parked connection, whose read then
	// reports the end.
	c2, nc2 := pair(t, u)
	if err := c2.Park(func() { woken <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	nc2.Close()
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("not woken by a hang-up")
	}
	if _, err := c2.ReadMessage(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read after a hang-up: %v", err)
	}
}

// FuzzReadMessage feeds arbitrary bytes to the frame reader: it must
// return messages within the read limit, UTF-8 text, or an error, and
// never panic or hang.
func FuzzReadMessage(f *testing.F) {
	f.Add(frame(true, OpText, []byte("4hello"), 0))
	f.Add(append(frame(false, OpText, []byte("frag"), 0), frame(true, OpContinuation, []byte("ment"), 0)...))
	f.Add(append(frame(true, OpPing, []byte("p"), 0), frame(true, OpBinary, []byte{4, 0, 1}, 0)...))
	f.Add(frame(true, OpClose, []byte{0x03, 0xe8, 'o', 'k'}, 0))
	f.Add(frame(true, OpText, bytes.Repeat([]byte("x"), 300), 0))
	f.Add([]byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4})
	const limit = 1 << 12
	f.Fuzz(func(t *testing.T, data []byte) {
		server, client := net.Pipe() // not a socket: the portable read path
		u := &Upgrader{ReadLimit: limit, ReadBufferSize: 64}
		u.once.Do(u.init)
		c := newConn(server, u)
		go func() {
			client.Write(data)
			client.Close()
		}()
		defer c.Close()
		for range len(data) + 1 {
			m, err := c.ReadMessage()
			if err != nil {
				return
			}
			if len(m.Data) > limit {
				t.Fatalf("a %d-byte message over the %d-byte limit", len(m.Data), limit)
			}
			if m.Op == OpText && !utf8.Valid(m.Data) {
				t.Fatalf("text message %q is not UTF-8", m.Data)
			}
		}
		t.Fatal("more messages than bytes")
	})
}
