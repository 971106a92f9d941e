package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/expressio-go/expressio/expressio"
	"github.com/expressio-go/expressio/protocol/engineio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startServer serves the routes of compat/fixture's bench profile: echo
// acks its arguments, bcast broadcasts them to every socket and acks the
// sender when it asked.
func startServer(t *testing.T, opts *expressio.Options) string {
	t.Helper()
	io := expressio.NewServer(opts)
	io.Route("echo", func(req *expressio.SocketRequest) {
		args := make([]any, len(req.Args))
		for i, a := range req.Args {
			args[i] = a
		}
		req.IO.Respond(args...)
	})
	io.Route("bcast", func(req *expressio.SocketRequest) {
		args := make([]any, len(req.Args))
		for i, a := range req.Args {
			args[i] = a
		}
		io.Broadcast("bcast", args...)
		req.IO.Respond()
	})
	mux := http.NewServeMux()
	mux.Handle(io.Path(), io)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := io.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
	})
	return ts.URL
}

// runJSON runs the command line and decodes its JSON output.
func runJSON(t *testing.T, stop context.Context, args ...string) (map[string]any, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(stop, args, &stdout, &stderr)
	t.Logf("stderr:\n%s", stderr.String())
	t.Logf("stdout: %s", stdout.String())
	if strings.Count(stdout.String(), "\n") != 1 {
		t.Fatalf("want one JSON line on stdout, got %q", stdout.String())
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("decode output: %v", err)
	}
	return out, code
}

func num(t *testing.T, out map[string]any, key string) float64 {
	t.Helper()
	v, ok := out[key].(float64)
	if !ok {
		t.Fatalf("%s: missing or not a number in %v", key, out)
	}
	return v
}

var modes = []string{"4", "3", "mixed"}

func TestConnect(t *testing.T) {
	// Short heartbeats, so that the hold sees revision 3's client pings and
	// revision 4's server pings go through.
	url := startServer(t, fastPings)
	for _, eng := range engines {
		for _, eio := range modes {
			t.Run(eng+"/eio"+eio, func(t *testing.T) {
				testConnect(t, url, eng, eio)
			})
		}
	}
}

func testConnect(t *testing.T, url, eng, eio string) {
	out, code := runJSON(t, context.Background(), "-url", url, "-scenario", "connect", "-engine", eng,
		"-n", "40", "-concurrency", "8", "-hold", "600ms", "-eio", eio, "-timeout", "20s")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got := num(t, out, "connected"); got != 40 {
		t.Errorf("connected %v, want 40", got)
	}
	for _, key := range []string{"failed", "dropped", "errors"} {
		if got := num(t, out, key); got != 0 {
			t.Errorf("%s %v, want 0", key, got)
		}
	}
	if num(t, out, "conns_per_sec") <= 0 || num(t, out, "connect_p99_ms") <= 0 {
		t.Errorf("no connect rate or latency: %v", out)
	}
	if got := num(t, out, "hold_seconds"); got < 0.6 {
		t.Errorf("hold_seconds %v, want 0.6", got)
	}
	if out["scenario"] != "connect" || out["eio"] != eio {
		t.Errorf("scenario/eio: %v", out)
	}
}

// TestConnectDropped checks that the hold notices connections the server
// closes.
func TestConnectDropped(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng, func(t *testing.T) {
			io := expressio.NewServer(nil)
			mux := http.NewServeMux()
			mux.Handle(io.Path(), io)
			ts := httptest.NewServer(mux)
			defer ts.Close()
			time.AfterFunc(300*time.Millisecond, func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				io.Shutdown(ctx)
			})
			out, code := runJSON(t, context.Background(), "-url", ts.URL, "-scenario", "connect", "-engine", eng,
				"-n", "10", "-hold", "1s", "-eio", "mixed", "-timeout", "20s")
			if code != 0 || num(t, out, "connected") != 10 || num(t, out, "dropped") != 10 {
				t.Errorf("exit %d, %v", code, out)
			}
		})
	}
}

func TestConnectRate(t *testing.T) {
	url := startServer(t, nil)
	start := time.Now()
	out, code := runJSON(t, context.Background(), "-url", url, "-scenario", "connect",
		"-n", "20", "-rate", "100", "-source-ips", "127.0.0.1,127.0.0.1", "-timeout", "20s")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got := num(t, out, "connected"); got != 20 {
		t.Errorf("connected %v, want 20", got)
	}
	// 20 at 100/s: the last starts 190 ms after the first.
	if d := time.Since(start); d < 190*time.Millisecond {
		t.Errorf("20 connections at 100/s took %s", d)
	}
}

func TestConnectStop(t *testing.T) {
	url := startServer(t, nil)
	stop, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	out, code := runJSON(t, stop, "-url", url, "-scenario", "connect", "-n", "10", "-hold", "1m", "-timeout", "20s")
	if code != 0 {
		t.Fatalf("exit %d: an interrupted hold is normal", code)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the stop took %s", d)
	}
	if out["interrupted"] != true || num(t, out, "connected") != 10 {
		t.Errorf("got %v", out)
	}
}

// fastPings has the server ping (revision 4) and expect pings (revision
// 3) every 100ms, so that every run answers and sends some.
var fastPings = &expressio.Options{Engine: engineio.Options{PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond}}

var engines = []string{"epoll", "goroutine"}

func TestAck(t *testing.T) {
	url := startServer(t, fastPings)
	for _, eng := range engines {
		for _, eio := range modes {
			t.Run(eng+"/eio"+eio, func(t *testing.T) {
				testAck(t, url, eng, eio)
			})
		}
	}
}

func testAck(t *testing.T, url, eng, eio string) {
	out, code := runJSON(t, context.Background(), "-url", url, "-scenario", "ack", "-engine", eng,
		"-clients", "20", "-duration", "300ms", "-payload", "24", "-eio", eio, "-timeout", "20s")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got := num(t, out, "errors"); got != 0 {
		t.Errorf("errors %v", got)
	}
	acks := num(t, out, "acks")
	if acks < 20 || num(t, out, "acks_per_sec") <= 0 {
		t.Errorf("acks %v, acks/s %v", acks, out["acks_per_sec"])
	}
	p50, p99, maxv := num(t, out, "p50_ms"), num(t, out, "p99_ms"), num(t, out, "max_ms")
	if p50 <= 0 || p50 > p99 || p99 > maxv || maxv > 300 {
		t.Errorf("latencies p50 %v p99 %v max %v", p50, p99, maxv)
	}
	if d := num(t, out, "duration_seconds"); d < 0.29 || d > 0.31 {
		t.Errorf("duration_seconds %v", d)
	}
}

func TestAckWarmup(t *testing.T) {
	url := startServer(t, nil)
	out, code := runJSON(t, context.Background(), "-url", url, "-scenario", "ack",
		"-clients", "2", "-warmup", "100ms", "-duration", "200ms", "-timeout", "20s")
	if code != 0 || num(t, out, "acks") == 0 || num(t, out, "errors") != 0 {
		t.Fatalf("exit %d, %v", code, out)
	}
	if d := num(t, out, "duration_seconds"); d < 0.19 || d > 0.21 {
		t.Errorf("duration_seconds %v, want the measured 0.2", d)
	}
}

func TestBroadcast(t *testing.T) {
	url := startServer(t, fastPings)
	for _, eng := range engines {
		for _, eio := range modes {
			t.Run(eng+"/eio"+eio, func(t *testing.T) {
				testBroadcast(t, url, eng, eio)
			})
		}
	}
}

func testBroadcast(t *testing.T, url, eng, eio string) {
	out, code := runJSON(t, context.Background(), "-url", url, "-scenario", "broadcast", "-engine", eng,
		"-receivers", "20", "-duration", "300ms", "-eio", eio, "-timeout", "20s")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, key := range []string{"errors", "receivers_missing", "missed_deliveries", "broadcasts_incomplete"} {
		if got := num(t, out, key); got != 0 {
			t.Errorf("%s %v, want 0", key, got)
		}
	}
	sent, done := num(t, out, "broadcasts_sent"), num(t, out, "broadcasts_completed")
	if sent == 0 || done != sent {
		t.Errorf("broadcasts sent %v, completed %v", sent, done)
	}
	if got := num(t, out, "deliveries"); got != 20*sent {
		t.Errorf("deliveries %v, want every receiver to get every broadcast: %v", got, 20*sent)
	}
	if got := num(t, out, "sender_acks"); got != sent {
		t.Errorf("sender_acks %v, want %v", got, sent)
	}
	p50, p99 := num(t, out, "p50_ms"), num(t, out, "p99_ms")
	if p50 <= 0 || p50 > p99 || p99 > 300 || num(t, out, "deliveries_per_sec") <= 0 {
		t.Errorf("p50 %v p99 %v deliveries/s %v", p50, p99, out["deliveries_per_sec"])
	}
}

func TestBroadcastWindow(t *testing.T) {
	url := startServer(t, nil)
	out, code := runJSON(t, context.Background(), "-url", url, "-scenario", "broadcast",
		"-receivers", "10", "-window", "8", "-warmup", "50ms", "-duration", "200ms", "-eio", "mixed", "-timeout", "20s")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	sent, done := num(t, out, "broadcasts_sent"), num(t, out, "broadcasts_completed")
	if sent == 0 || done != sent || num(t, out, "receivers_missing") != 0 || num(t, out, "errors") != 0 {
		t.Errorf("got %v", out)
	}
	// Warm-up broadcasts are delivered, not counted.
	if got := num(t, out, "deliveries"); got <= 0 || got >= 10*sent {
		t.Errorf("deliveries %v of %v broadcasts to 10", got, sent)
	}
}

func TestTimeout(t *testing.T) {
	url := startServer(t, nil)
	start := time.Now()
	out, code := runJSON(t, context.Background(), "-url", url, "-scenario", "ack",
		"-clients", "2", "-duration", "1m", "-timeout", "300ms")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s past a 300ms timeout", d)
	}
	if out["timed_out"] != true || num(t, out, "acks") == 0 {
		t.Errorf("want partial figures and timed_out: %v", out)
	}
}

func TestConnectFailures(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	defer ts.Close()
	out, code := runJSON(t, context.Background(), "-url", ts.URL, "-scenario", "connect", "-n", "3", "-timeout", "20s")
	if code != 0 {
		t.Errorf("exit %d: failures are a figure of the connect scenario", code)
	}
	if num(t, out, "failed") != 3 || num(t, out, "errors") != 3 || len(out["error_samples"].([]any)) != 3 {
		t.Errorf("got %v", out)
	}
	out, code = runJSON(t, context.Background(), "-url", ts.URL, "-scenario", "ack", "-clients", "2", "-timeout", "20s")
	if code != 1 || out["error"] == nil {
		t.Errorf("ack without clients: exit %d, %v", code, out)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-url", "http://x"},
		{"-url", "http://x", "-scenario", "nope"},
		{"-url", "http://x", "-scenario", "ack", "-eio", "5"},
		{"-url", "http://x", "-scenario", "ack", "-clients", "0"},
		{"-url", "http://x", "-scenario", "connect", "-source-ips", "1.2.3"},
		{"-url", "http://x", "-scenario", "connect", "extra"},
		{"-scenario", "connect"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 || stdout.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q", args, code, stdout.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-url", "ftp://x", "-scenario", "ack"}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stdout.String(), `"error":"-url: scheme`) {
		t.Errorf("bad scheme: exit %d, %s", code, stdout.String())
	}
}

func TestParsers(t *testing.T) {
	for _, tc := range []struct {
		in      string
		t, seq  int64
		wantErr bool
	}{
		{in: `{"t":1700000000123456789,"seq":42}]`, t: 1700000000123456789, seq: 42},
		{in: `{"seq":42,"t":1700000000123456789}]`, t: 1700000000123456789, seq: 42},
		{in: `{"seq": 7, "t": 1.7e+18}]`, t: 1700000000000000000, seq: 7},
		{in: `{"t":1700000000123456800.5,"seq":1}]`, t: 1700000000123456768, seq: 1},
		{in: `{"seq":1}]`, wantErr: true},
		{in: `{"t":"x","seq":1}]`, wantErr: true},
	} {
		gotT, gotSeq, ok := parseBcast([]byte(tc.in))
		if ok == tc.wantErr || ok && (gotT != tc.t || gotSeq != tc.seq) {
			t.Errorf("parseBcast(%s) = %d, %d, %v; want %d, %d", tc.in, gotT, gotSeq, ok, tc.t, tc.seq)
		}
	}
	for _, tc := range []struct {
		in   string
		id   int64
		args string
		ok   bool
	}{
		{"12[\"x\"]", 12, "[\"x\"]", true},
		{"0[]", 0, "[]", true},
		{"[]", 0, "", false},
		{"1234567890123456789012[]", 0, "", false},
	} {
		id, args, ok := parseAckID([]byte(tc.in))
		if ok != tc.ok || ok && (id != tc.id || string(args) != tc.args) {
			t.Errorf("parseAckID(%s) = %d, %s, %v", tc.in, id, args, ok)
		}
	}
	if v, ok := jsonInt([]byte(`{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`), keyPingInterval); !ok || v != 25000 {
		t.Errorf("pingInterval %d %v", v, ok)
	}
	if got := string(appendEcho(nil, 7, []byte("ab"))); got != `427["echo","ab"]` {
		t.Errorf("appendEcho: %s", got)
	}
	if got := string(appendBcast(nil, 3, 99)); got != `423["bcast",{"t":99,"seq":3}]` {
		t.Errorf("appendBcast: %s", got)
	}
}

func TestHistogram(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 123456, 1 << 40, 1<<63 - 1} {
		b := bucketOf(v)
		if b < 0 || b >= nBuckets {
			t.Fatalf("bucketOf(%d) = %d", v, b)
		}
		mid := bucketValue(b)
		if diff := mid - v; diff < 0 && -diff > v/64+1 || diff > v/64+1 {
			t.Errorf("bucketValue(bucketOf(%d)) = %d", v, mid)
		}
		if b > 0 && bucketOf(bucketValue(b-1)) != b-1 {
			t.Errorf("bucket %d does not round trip", b-1)
		}
	}
	var h histogram
	for i := range 1000 {
		h.record(i, int64(i+1)*int64(time.Microsecond)) // 1µs..1ms
	}
	s := h.summary()
	if s.Count != 1000 || s.P50 < 0.49 || s.P50 > 0.51 || s.P99 < 0.98 || s.P99 > 1.0 || s.Max != 1 {
		t.Errorf("summary %+v", s)
	}
	if (&histogram{}).summary().Count != 0 {
		t.Error("empty histogram")
	}
}

func TestFrames(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		payload := bytes.Repeat([]byte{'a'}, n)
		b := appendFrame(nil, opText, payload)
		for cut := range min(len(b), 20) {
			if _, ok, err := parseFrame(b[:cut]); ok || err != nil {
				t.Fatalf("%d bytes: parseFrame of the first %d bytes: ok %v, %v", n, cut, ok, err)
			}
		}
		f, ok, err := parseFrame(b)
		if !ok || err != nil || !f.fin || f.op != opText || !f.masked || f.n != n || f.hdr+f.n != len(b) {
			t.Fatalf("%d bytes: %+v %v %v", n, f, ok, err)
		}
		got := b[f.hdr:]
		maskBytes(got, f.mask)
		if !bytes.Equal(got, payload) {
			t.Errorf("%d bytes: payload does not unmask", n)
		}
	}
	if _, _, err := parseFrame([]byte{0xc1, 0x00}); err == nil {
		t.Error("want an error for a reserved bit")
	}
}

// serverFrame is an unmasked frame, as servers send them.
func serverFrame(op byte, fin bool, payload string) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	return append([]byte{b0, byte(len(payload))}, payload...)
}

func TestUnread(t *testing.T) {
	http := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
	open, connect := serverFrame(opText, true, `0{"sid":"a"}`), serverFrame(opText, true, "40")
	ping, rest := serverFrame(opPing, true, ""), serverFrame(opText, true, `42["hello"]`)
	rec := slices.Concat([]byte(http), open, ping, connect, ping, rest[:5])
	left, err := unread(rec, 2)
	if err != nil || !bytes.Equal(left, slices.Concat(ping, rest[:5])) {
		t.Errorf("unread = %q, %v", left, err)
	}
	// A fragmented message counts once.
	rec = slices.Concat([]byte(http), serverFrame(opText, false, "4"), serverFrame(opContinuation, true, "0"), rest)
	if left, err := unread(rec, 1); err != nil || !bytes.Equal(left, rest) {
		t.Errorf("unread = %q, %v", left, err)
	}
	if _, err := unread(rec[:len(http)+2], 1); err == nil {
		t.Error("want an error for bytes that end inside a frame")
	}
}

// TestTakeover checks that the epoll engine loses nothing gorilla had
// buffered: the server emits right after the namespace connect.
func TestTakeover(t *testing.T) {
	opts := &expressio.Options{Engine: engineio.Options{PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond}}
	io := expressio.NewServer(opts)
	io.OnConnect(func(s *expressio.Socket) {
		s.Emit("hello", 1)
		s.Emit("hello", strings.Repeat("x", 300)) // a 2-byte length
	})
	mux := http.NewServeMux()
	mux.Handle(io.Path(), io)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		io.Shutdown(ctx)
	}()

	e, err := newEngine(ts.URL, "/socket.io/", eioMixed, nil, 5*time.Second, false)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 10)
	reader := newReadEngine("epoll", func(c *conn, err error) { errc <- err }, slog.New(slog.DiscardHandler))
	if _, ok := reader.(*goEngine); ok {
		t.Skip("no epoll engine here")
	}
	const n = 6
	var (
		conns []*conn
		mu    sync.Mutex
		got   = map[int][]string{}
		p     pinger
	)
	for i := range n {
		c, err := e.dial(context.Background(), i, true)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if left, err := unread(c.rec.rec, c.msgs); err == nil && len(left) > 0 {
			t.Logf("connection %d: %d bytes buffered by gorilla", i, len(left))
		}
		if err := reader.add(c, func(pk []byte) bool {
			mu.Lock()
			got[c.id] = append(got[c.id], string(pk))
			mu.Unlock()
			return true
		}); err != nil {
			t.Fatal(err)
		}
		p.add(c)
	}
	reader.start()
	ctx, cancel := context.WithCancel(context.Background())
	var pwg sync.WaitGroup
	pwg.Go(func() { p.run(ctx) })
	time.Sleep(500 * time.Millisecond) // some pings each way
	cancel()
	pwg.Wait()
	reader.stop()
	closeAll(conns)
	select {
	case err := <-errc:
		t.Errorf("read error: %v", err)
	default:
	}
	want := []string{`2["hello",1]`, `2["hello","` + strings.Repeat("x", 300) + `"]`}
	for i := range n {
		if !slices.Equal(got[i], want) {
			t.Errorf("connection %d got %q", i, got[i])
		}
	}
}
