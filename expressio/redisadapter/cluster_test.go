package redisadapter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/expressio-go/expressio/expressio"
	"github.com/expressio-go/expressio/expressio/redisadapter"
)

// redisServer is a real redis-server on a loopback port, persistence off,
// that a test can stop and start again on the same port.
type redisServer struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

// startRedis starts redis-server; a missing binary fails the test (never
// a skip): scripts/setup installs it.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server missing: run scripts/setup; these tests need a real Redis and are never skipped")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &redisServer{t: t, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log"))
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", r.addr(), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("redis-server did not listen on %s", r.addr())
}

func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// node is one expressio server of a test cluster.
type node struct {
	io  *expressio.Server
	ts  *httptest.Server
	rdb *redis.Client
	log *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newNode starts a server on the Redis at addr, with routes for the
// tests: "join" joins the rooms given, "whoami" acks the socket id.
func newNode(t *testing.T, addr string) *node {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 500 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	factory, err := redisadapter.New(ctx, rdb, &redisadapter.Options{Logger: logger, RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	io := expressio.NewServer(&expressio.Options{Logger: logger})
	if err := io.SetAdapter(factory); err != nil {
		t.Fatal(err)
	}
	io.Route("join", func(req *expressio.SocketRequest) {
		var rooms []string
		req.Bind(&rooms)
		for _, r := range rooms {
			req.IO.Join(r)
		}
		req.IO.Respond()
	})
	n := &node{io: io, ts: httptest.NewServer(io), rdb: rdb, log: logs}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		io.Shutdown(ctx)
		n.ts.Close()
		rdb.Close()
	})
	return n
}

// client is a raw Engine.IO 4 / Socket.IO v5 client on the root
// namespace.
type client struct {
	t    *testing.T
	id   string
	conn *websocket.Conn
	in   chan string
}

func (n *node) connect(t *testing.T) *client {
	t.Helper()
	u := "ws" + strings.TrimPrefix(n.ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, conn: conn, in: make(chan string, 64)}
	go func() {
		defer close(c.in)
		for {
			kind, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if kind == websocket.BinaryMessage {
				c.in <- "bin:" + string(data)
				continue
			}
			c.in <- string(data)
		}
	}()
	t.Cleanup(func() { conn.Close() })
	c.next() // open
	conn.WriteMessage(websocket.TextMessage, []byte("40"))
	var ok struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(c.next(), "40")), &ok); err != nil {
		t.Fatalf("connect: %v", err)
	}
	c.id = ok.SID
	return c
}

func (c *client) send(s string) { c.conn.WriteMessage(websocket.TextMessage, []byte(s)) }

// next returns the next frame but pings.
func (c *client) next() string {
	c.t.Helper()
	for {
		select {
		case s, ok := <-c.in:
			if !ok {
				c.t.Fatal("connection closed")
			}
			if s == "2" {
				c.send("3")
				continue
			}
			return s
		case <-time.After(3 * time.Second):
			c.t.Fatal("no frame within 3s")
		}
	}
}

func (c *client) expect(want string) {
	c.t.Helper()
	if got := c.next(); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

func (c *client) expectNothing(d time.Duration) {
	c.t.Helper()
	select {
	case s := <-c.in:
		c.t.Fatalf("unexpected frame %q", s)
	case <-time.After(d):
	}
}

func (c *client) join(rooms ...string) {
	c.t.Helper()
	b, _ := json.Marshal(rooms)
	c.send(`4299["join",` + string(b) + `]`)
	c.expect(`4399[]`)
}

// settle waits for the subscriptions of every node to be in place: a
// Redis subscription is confirmed asynchronously.
func settle(t *testing.T, nodes ...*node) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		n, err := nodes[0].io.ServerCount(context.Background())
		if err == nil && n == len(nodes) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the cluster did not reach %d servers", len(nodes))
}

func TestNewFailsClearlyWithoutRedis(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	_, err := redisadapter.New(context.Background(), rdb, nil)
	if err == nil || !strings.Contains(err.Error(), "redis does not answer") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("New without Redis: %v; want an error naming the address", err)
	}
}

func TestBroadcastsAcrossServers(t *testing.T) {
	r := startRedis(t)
	a, b := newNode(t, r.addr()), newNode(t, r.addr())
	settle(t, a, b)
	ca, cb, cb2 := a.connect(t), b.connect(t), b.connect(t)
	ca.join("r1")
	cb.join("r1", "r2")
	cb2.join("r3")

	// Namespace broadcast, from either side.
	a.io.Broadcast("all", "héllo", map[string]int{"n": 1})
	for _, c := range []*client{ca, cb, cb2} {
		c.expect(`42["all","héllo",{"n":1}]`)
	}
	b.io.Broadcast("back")
	for _, c := range []*client{ca, cb, cb2} {
		c.expect(`42["back"]`)
	}

	// One room; several rooms (a member of both gets it once); except.
	a.io.Room("r1").Broadcast("one")
	ca.expect(`42["one"]`)
	cb.expect(`42["one"]`)
	a.io.To("r2", "r3").Broadcast("multi")
	cb.expect(`42["multi"]`)
	cb2.expect(`42["multi"]`)
	a.io.Except("r1").Broadcast("but-r1")
	cb2.expect(`42["but-r1"]`)
	b.io.To("r1").Except(ca.id).Broadcast("but-ca")
	cb.expect(`42["but-ca"]`)
	ca.expectNothing(150 * time.Millisecond)
	cb2.expectNothing(0)

	// Binary, rebuilt as attachments on the other server.
	a.io.Room("r1").Broadcast("bin", []byte{0, 1, 255}, map[string]any{"nested": []byte{7}})
	for _, c := range []*client{ca, cb} {
		c.expect(`452-["bin",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`)
		c.expect("bin:\x00\x01\xff")
		c.expect("bin:\x07")
	}
}

func TestClusterOperations(t *testing.T) {
	r := startRedis(t)
	a, b := newNode(t, r.addr()), newNode(t, r.addr())
	settle(t, a, b)
	ctx := context.Background()
	ca, cb := a.connect(t), b.connect(t)
	cb.join("g")

	if n, err := a.io.ServerCount(ctx); err != nil || n != 2 {
		t.Fatalf("ServerCount = %d, %v; want 2", n, err)
	}

	// Fetch sockets sees the other server's sockets, with their rooms.
	got, err := a.io.To("g").FetchSockets(ctx)
	if err != nil || len(got) != 1 || got[0].ID != cb.id || !slices.Contains(got[0].Rooms, "g") {
		t.Fatalf("FetchSockets(g) from a = %+v, %v", got, err)
	}
	all, err := a.io.FetchSockets(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("FetchSockets() = %d sockets, %v; want 2", len(all), err)
	}
	ids, err := a.io.To("g").SocketIDs(ctx)
	if err != nil || !slices.Equal(ids, []string{cb.id}) {
		t.Fatalf("SocketIDs(g) = %v, %v", ids, err)
	}
	rooms, err := a.io.Of("/").AllRooms(ctx)
	if err != nil || !slices.Contains(rooms, "g") || !slices.Contains(rooms, ca.id) || !slices.Contains(rooms, cb.id) {
		t.Fatalf("AllRooms = %v, %v", rooms, err)
	}

	// Remote join: a puts b's socket in "h"; a broadcast to h from a
	// reaches it.
	if err := a.io.To(cb.id).SocketsJoin(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return b.io.Room("h").Len() == 1 }, "remote join")
	a.io.Room("h").Broadcast("in-h")
	cb.expect(`42["in-h"]`)
	if err := a.io.To("h").SocketsLeave(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return b.io.Room("h").Len() == 0 }, "remote leave")

	// Broadcast with acks: one answer per socket of both servers.
	done := make(chan []expressio.Payload, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		answers, err := a.io.BroadcastWithAck(cctx, "q")
		if err != nil {
			t.Errorf("BroadcastWithAck: %v", err)
		}
		done <- answers
	}()
	for _, c := range []*client{ca, cb} {
		f := c.next()
		id := strings.TrimSuffix(strings.TrimPrefix(f, "42"), `["q"]`)
		c.send(`43` + id + `["` + c.id + `"]`)
	}
	answers := <-done
	var who []string
	for _, p := range answers {
		var s string
		p.Bind(0, &s)
		who = append(who, s)
	}
	slices.Sort(who)
	want := []string{ca.id, cb.id}
	slices.Sort(want)
	if !slices.Equal(who, want) {
		t.Fatalf("broadcast answers %v, want %v", who, want)
	}

	// Server-side events, with answers.
	b.io.OnServerEvent("ping", func(e *expressio.ServerEvent) {
		var n int
		e.Args.Bind(0, &n)
		e.Respond(fmt.Sprintf("pong %d", n))
	})
	res, err := a.io.ServerSideEmitWithAck(ctx, "ping", 7)
	if err != nil || len(res) != 1 || string(res[0]) != `"pong 7"` {
		t.Fatalf("ServerSideEmitWithAck = %s, %v", res, err)
	}

	// Remote disconnect.
	if err := a.io.To(cb.id).DisconnectSockets(ctx, false); err != nil {
		t.Fatal(err)
	}
	cb.expect(`41`)
}

func TestMalformedMessagesAreDropped(t *testing.T) {
	r := startRedis(t)
	a := newNode(t, r.addr())
	settle(t, a)
	c := a.connect(t)
	pub := redis.NewClient(&redis.Options{Addr: r.addr()})
	defer pub.Close()
	ctx := context.Background()
	for _, ch := range []string{"socket.io#/#", "socket.io-request#/#", "socket.io-response#/#"} {
		for _, msg := range []string{"", "garbage", "{not json", "\x93\xa1x", "\xdd\xff\xff\xff\xff"} {
			pub.Publish(ctx, ch, msg)
		}
	}
	// The subscriber goes on: a broadcast published by another "server"
	// after the garbage still arrives.
	other := newNode(t, r.addr())
	settle(t, a, other)
	other.io.Broadcast("still-here")
	c.expect(`42["still-here"]`)
	if !strings.Contains(a.log.String(), "malformed") {
		t.Fatalf("no log line about malformed messages:\n%s", a.log.String())
	}
}

func TestRedisRestart(t *testing.T) {
	r := startRedis(t)
	a, b := newNode(t, r.addr()), newNode(t, r.addr())
	settle(t, a, b)
	ca, cb := a.connect(t), b.connect(t)

	r.stop()
	// Broadcasts while Redis is away reach this server's clients and do
	// not block or fail.
	for range 20 {
		if err := a.io.Broadcast("during"); err != nil {
			t.Fatal(err)
		}
	}
	for range 20 {
		ca.expect(`42["during"]`)
	}
	time.Sleep(300 * time.Millisecond)
	r.start()

	// Within seconds of Redis' return, broadcasts cross again, both ways.
	resumed := func(from *node, to *client, event string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			from.io.Broadcast(event)
			select {
			case f := <-to.in:
				if f == `42["`+event+`"]` {
					return
				}
			case <-time.After(200 * time.Millisecond):
			}
		}
		t.Fatalf("%s: broadcasts did not resume within 10s of Redis' return", event)
	}
	resumed(a, cb, "a-to-b")
	resumed(b, ca, "b-to-a")
	for _, n := range []*node{a, b} {
		logs := n.log.String()
		if !strings.Contains(logs, "subscribed again") || !strings.Contains(logs, "down_for") {
			t.Fatalf("the loss window is not logged:\n%s", logs)
		}
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
