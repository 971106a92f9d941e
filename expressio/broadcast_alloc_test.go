package expressio_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/expressio"
)

// byteCounter counts what a sink receives without keeping it.
type byteCounter struct{ n atomic.Int64 }

func (c *byteCounter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// sinks serves io and connects n Engine.IO 4 WebSocket clients to "/"
// whose every later byte is counted and dropped, so that the clients
// allocate nothing while a broadcast is measured.
func sinks(tb testing.TB, srv *expressio.Server, n int) *byteCounter {
	tb.Helper()
	mux := http.NewServeMux()
	mux.Handle(srv.Path(), srv)
	ts := httptest.NewServer(mux)
	var conns []*websocket.Conn
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		for _, c := range conns {
			c.Close()
		}
		ts.Close()
	})
	counter := new(byteCounter)
	u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	for range n {
		c, _, err := websocket.DefaultDialer.Dial(u, nil)
		if err != nil {
			tb.Fatalf("dial: %v", err)
		}
		conns = append(conns, c)
		if _, open, err := c.ReadMessage(); err != nil || open[0] != '0' {
			tb.Fatalf("open: %q %v", open, err)
		}
		c.WriteMessage(websocket.TextMessage, []byte("40"))
		if _, ok, err := c.ReadMessage(); err != nil || !strings.HasPrefix(string(ok), "40") {
			tb.Fatalf("connect: %q %v", ok, err)
		}
		go io.Copy(counter, c.NetConn())
	}
	return counter
}

// broadcastAllocs returns the allocations of one broadcast to n
// receivers, after checking that every receiver got every broadcast.
func broadcastAllocs(t *testing.T, n int) float64 {
	io := expressio.NewServer(nil)
	counter := sinks(t, io, n)
	// Let the connections go idle first: 100 ms after its last frame a
	// connection parks its reader, which allocates, and that is not the
	// broadcast's doing.
	time.Sleep(300 * time.Millisecond)
	const runs = 200
	allocs := testing.AllocsPerRun(runs, func() {
		if err := io.Broadcast("tick", 1); err != nil {
			t.Fatal(err)
		}
	})
	frame := int64(len(`42["tick",1]`) + 2) // a 2-byte WebSocket header
	want := (runs + 1) * int64(n) * frame   // AllocsPerRun runs once more to warm up
	deadline := time.Now().Add(10 * time.Second)
	for counter.n.Load() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := counter.n.Load(); got != want {
		t.Fatalf("%d receivers got %d bytes, want %d", n, got, want)
	}
	return allocs
}

// The broadcast fast path allocates per broadcast, never per receiver:
// the packet is encoded once and its one WebSocket frame written to every
// ready socket as is. (Run without -race, which makes sync.Pool drop
// items on purpose.)
func TestBroadcastAllocsPerDelivery(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts need a build without -race; scripts/test runs this test so")
	}
	one := broadcastAllocs(t, 1)
	many := broadcastAllocs(t, 300)
	perDelivery := (many - one) / 299
	t.Logf("allocations per broadcast: %.1f to 1 receiver, %.1f to 300; %.4f per delivery", one, many, perDelivery)
	if many-one >= 1 {
		t.Fatalf("a broadcast to 300 receivers allocates %.1f times, to 1 receiver %.1f: %.4f per delivery, want 0", many, one, perDelivery)
	}
}

// BenchmarkBroadcast measures a broadcast to every socket of the root
// namespace, deliveries included: every 64 broadcasts it waits until the
// receivers have everything, so no queue overflows.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("receivers=%d", n), func(b *testing.B) {
			io := expressio.NewServer(nil)
			counter := sinks(b, io, n)
			frame := int64(len(`42["tick","hello world"]`) + 2)
			sent := int64(0)
			caughtUp := func() {
				deadline := time.Now().Add(10 * time.Second)
				for counter.n.Load() < sent*int64(n)*frame {
					if time.Now().After(deadline) {
						b.Fatalf("%d of %d bytes delivered", counter.n.Load(), sent*int64(n)*frame)
					}
					time.Sleep(50 * time.Microsecond)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				io.Broadcast("tick", "hello world")
				if sent++; sent%64 == 0 {
					caughtUp()
				}
			}
			caughtUp()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(sent*int64(n)), "ns/delivery")
		})
	}
}
