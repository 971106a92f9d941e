package expressio_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/expressio-go/expressio/expressio"
)

// joinRoute makes a socket join the rooms it names, for the tests below.
func joinRoute(io *expressio.Server) {
	io.Route("join", func(req *expressio.SocketRequest) {
		var rooms []string
		req.Bind(&rooms)
		for _, r := range rooms {
			req.IO.Join(r)
		}
		req.IO.Respond()
	})
}

func TestSelections(t *testing.T) {
	io := expressio.NewServer(nil)
	joinRoute(io)
	ts := newServer(t, io)
	a, b, c := connect(t, ts, "4"), connect(t, ts, "3"), connect(t, ts, "4")
	a.send(`421["join",["r1","r2"]]`)
	a.expect(`431[]`)
	b.send(`421["join",["r2"]]`)
	b.expect(`431[]`)
	// c joins nothing.

	// Several rooms: a member of both gets the event once.
	if err := io.To("r1").To("r2").Broadcast("multi", 1); err != nil {
		t.Fatal(err)
	}
	a.expect(`42["multi",1]`)
	b.expect(`42["multi",1]`)
	a.expectNothing(100 * time.Millisecond)
	c.expectNothing(0)

	// Except a room, and except a socket id.
	io.Except("r1").Broadcast("not-r1")
	b.expect(`42["not-r1"]`)
	c.expect(`42["not-r1"]`)
	a.expectNothing(100 * time.Millisecond)

	bID := socketIn(t, io, "r2", "r1")
	io.To("r2").Except(bID).Emit("r2-but-b")
	a.expect(`42["r2-but-b"]`)
	b.expectNothing(100 * time.Millisecond)

	if n := io.To("r1", "r2").Len(); n != 2 {
		t.Fatalf("To(r1, r2).Len() = %d, want 2", n)
	}
	if n, err := io.ServerCount(context.Background()); err != nil || n != 1 {
		t.Fatalf("ServerCount = %d, %v; want 1 with the memory adapter", n, err)
	}
}

// socketIn returns the id of the one socket in room but not in other.
func socketIn(t *testing.T, io *expressio.Server, room, other string) string {
	t.Helper()
	for _, s := range io.To(room).Except(other).Sockets() {
		return s.ID()
	}
	t.Fatalf("no socket in %s but not in %s", room, other)
	return ""
}

func TestRemoteOperationsOnOneServer(t *testing.T) {
	io := expressio.NewServer(nil)
	joinRoute(io)
	io.Route("mark", func(req *expressio.SocketRequest) {
		req.Socket.Set("mark", "x")
		req.IO.Respond()
	})
	ts := newServer(t, io)
	a, b := connect(t, ts, "4"), connect(t, ts, "3")
	a.send(`421["join",["g"]]`)
	a.expect(`431[]`)
	a.send(`422["mark"]`)
	a.expect(`432[]`)
	ctx := context.Background()

	got, err := io.To("g").FetchSockets(ctx)
	if err != nil || len(got) != 1 {
		t.Fatalf("FetchSockets(g) = %v, %v", got, err)
	}
	s := got[0]
	if !slices.Contains(s.Rooms, "g") || !slices.Contains(s.Rooms, s.ID) || string(s.Data) != `{"mark":"x"}` {
		t.Fatalf("fetched socket %+v", s.SocketInfo)
	}
	if s.Handshake.Issued == 0 || s.Handshake.Address == "" {
		t.Fatalf("fetched handshake %+v", s.Handshake)
	}

	// Every socket in g joins h; then h reaches a only.
	if err := io.To("g").SocketsJoin(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	io.To("h").Broadcast("in-h")
	a.expect(`42["in-h"]`)
	b.expectNothing(100 * time.Millisecond)
	if err := io.To("g").SocketsLeave(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	if n := io.To("h").Len(); n != 0 {
		t.Fatalf("h has %d members after SocketsLeave", n)
	}

	// A fetched socket acts on itself.
	if err := s.Emit("direct", "hi"); err != nil {
		t.Fatal(err)
	}
	a.expect(`42["direct","hi"]`)
	if err := s.Disconnect(ctx, false); err != nil {
		t.Fatal(err)
	}
	a.expect(`41`)
	if n := len(io.Of("/").Sockets()); n != 1 {
		t.Fatalf("%d sockets left, want 1", n)
	}
}

func TestBroadcastWithAck(t *testing.T) {
	io := expressio.NewServer(nil)
	joinRoute(io)
	ts := newServer(t, io)
	a, b, c := connect(t, ts, "4"), connect(t, ts, "3"), connect(t, ts, "4")
	for _, cl := range []*wsClient{a, b} {
		cl.send(`421["join",["q"]]`)
		cl.expect(`431[]`)
	}

	type result struct {
		answers []expressio.Payload
		err     error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		answers, err := io.To("q").BroadcastWithAck(ctx, "question", "who?")
		done <- result{answers, err}
	}()
	// One packet, one ack id, for every member.
	fa, fb := a.read(), b.read()
	if fa != fb || fa[:2] != "42" {
		t.Fatalf("members got %q and %q; want one packet with one ack id", fa, fb)
	}
	id := fa[2 : len(fa)-len(`["question","who?"]`)]
	c.expectNothing(100 * time.Millisecond)
	a.send(`43` + id + `["a","ignored"]`)
	b.send(`43` + id + `["b"]`)
	r := <-done
	if r.err != nil || len(r.answers) != 2 {
		t.Fatalf("BroadcastWithAck = %v, %v", r.answers, r.err)
	}
	var names []string
	for _, p := range r.answers {
		if len(p.Args) != 1 {
			t.Fatalf("answer %v: want only the first ack argument", p.Args)
		}
		var s string
		p.Bind(0, &s)
		names = append(names, s)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"a", "b"}) {
		t.Fatalf("answers %v", names)
	}

	// A member that never answers: the answers that came, and a timeout.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		answers, err := io.To("q").BroadcastWithAck(ctx, "again")
		done <- result{answers, err}
	}()
	fa = a.read()
	b.read()
	a.send(`43` + fa[2:len(fa)-len(`["again"]`)] + `["a"]`)
	r = <-done
	if !errors.Is(r.err, expressio.ErrAckTimeout) || len(r.answers) != 1 {
		t.Fatalf("with a silent member: %v, %v", r.answers, r.err)
	}
}

func TestServerEventsWithoutCluster(t *testing.T) {
	io := expressio.NewServer(nil)
	ctx := context.Background()
	if err := io.ServerSideEmit(ctx, "hello", 1); err != nil {
		t.Fatal(err)
	}
	answers, err := io.ServerSideEmitWithAck(ctx, "ping")
	if err != nil || len(answers) != 0 {
		t.Fatalf("ServerSideEmitWithAck alone = %v, %v; want no answers", answers, err)
	}
}
