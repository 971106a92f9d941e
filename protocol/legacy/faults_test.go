package legacy_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/protocol/legacy"
)

// A WebSocket client that stops reading is dropped when its queue
// overflows, and its connection ends with it: nothing keeps writing to
// it until WriteTimeout, so Shutdown does not wait on it.
func TestQueueOverflowEndsAStalledWebSocket(t *testing.T) {
	ts := newTestServer(t, &legacy.Options{WriteQueueSize: 8, WriteTimeout: time.Minute})
	sid := ts.handshake(t)
	dialer := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(4096) // it never reads
		}
		return c, err
	}}
	c, _, err := dialer.Dial(ts.wsURL("/socket.io/1/websocket/"+sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s := ts.rec.session(t)

	// Megabyte packets until the queue overflows: the kernel buffers a
	// few, then the writer is stuck and the queue fills.
	big := legacy.Packet{Type: legacy.Message, Data: bytes.Repeat([]byte("x"), 1<<20)}
	for sent := 0; ; sent++ {
		err := s.Send(big)
		if errors.Is(err, legacy.ErrQueueFull) {
			break
		}
		if err != nil || sent > 64 {
			t.Fatalf("Send %d: %v", sent, err)
		}
	}
	if r := ts.rec.closed(t); r != legacy.ReasonQueueOverflow {
		t.Fatalf("close reason %q", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a dropped client still connected: %v", err)
	}
}
