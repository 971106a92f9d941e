package expressio_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expressio-go/expressio/expressio"
	"github.com/expressio-go/expressio/protocol/engineio"
	"github.com/expressio-go/expressio/protocol/legacy"
)

// The fault suite: end to end, against a real App over TCP with raw wire
// clients of every generation (EIO4, EIO3, socket.io 0.9), each fault
// must cost exactly the faulty connection.

// maxDelay bounds how late a healthy client may get a broadcast, from the
// Broadcast call to the frame being read off its socket, the machine's
// own pauses discounted (see pauseMeter).
const maxDelay = 100 * time.Millisecond

// A WebSocket client that stops reading (its TCP window fills) and a
// polling client that stops polling, of every generation, share a room
// with healthy clients while the server broadcasts a steady stream to it.
// The healthy clients get every message within maxDelay; the stalled
// ones are dropped when their bounded write queue fills, and the drop is
// logged with the session and its reason. (Drops are not counted
// anywhere an operator could read, so no count is asserted.)
func TestStalledClientsAreDroppedWithoutDelayingOthers(t *testing.T) {
	const (
		queue    = 32
		messages = 300
		every    = 2 * time.Millisecond
	)
	a := newFaultApp(t, expressio.Options{Engine: engineio.Options{WriteQueueSize: queue}})

	var healthy []*peer
	stalledWS := map[string]*peer{}
	stalledPoll := map[string]*pollingClient{}
	var names []string
	for _, g := range generations() {
		for i := range 2 {
			name := "healthy-" + g.name + "-" + string(rune('a'+i))
			healthy = append(healthy, a.dialPeer(g, name, peerOptions{}))
			names = append(names, name)
		}
		ws, poll := "stalled-ws-"+g.name, "stalled-poll-"+g.name
		stalledWS[ws] = a.dialPeer(g, ws, peerOptions{stalled: true})
		stalledPoll[poll] = a.dialPolling(g, poll, true)
		names = append(names, ws, poll)
	}
	a.awaitJoined(names...)

	// Fill the stalled WebSockets' TCP buffers first, sending to them
	// alone, so that their writers are stuck in a write when the stream
	// starts, with room left in their queues.
	for name, p := range stalledWS {
		a.fill(name, p.gen)
	}

	sent := make([]time.Time, messages)
	for i := range messages {
		sent[i] = time.Now()
		if err := a.io.Room("r").Broadcast("tick", i, "steady"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(every)
	}

	// Every healthy client got every message, in order, in time.
	for _, p := range healthy {
		late := 0
		var worst, paused time.Duration
		for i := range messages {
			in := p.expectTick(i, 5*time.Second)
			d, pause := in.at.Sub(sent[i]), a.pauses.within(sent[i], in.at)
			if d-pause > maxDelay {
				late++
				if d-pause > worst-paused {
					worst, paused = d, pause
				}
			}
		}
		if late > 0 {
			t.Errorf("%s: %d of %d broadcasts came later than %v; the worst %v after it was sent, of which the process was paused %v",
				p.name, late, messages, maxDelay, worst, paused)
		}
	}

	// Every stalled client was dropped for its queue, and logged.
	for name, p := range stalledWS {
		if d := checkDropped(t, a, name, p.sid, p.gen); d.at.Before(sent[0]) {
			t.Errorf("%s: dropped before the stream began", name)
		}
	}
	for name, c := range stalledPoll {
		checkDropped(t, a, name, c.sid, c.gen)
	}
	for _, p := range healthy {
		if d, gone := a.gone.get(p.name); gone {
			t.Errorf("%s: healthy client disconnected: %s", p.name, d.reason)
		}
	}
}

// A polling client that asks for a poll and never reads the response,
// while the server has megabytes queued for it, is dropped when its queue
// fills, and the server gives up on the unread response within the
// write timeout: Shutdown then completes while the client still holds its
// connection open.
func TestUnreadPollResponseIsAbandoned(t *testing.T) {
	const writeTimeout = 300 * time.Millisecond
	a := newFaultApp(t, expressio.Options{Engine: engineio.Options{WriteQueueSize: 32, WriteTimeout: writeTimeout}})
	clients := map[string]*pollingClient{}
	for _, g := range generations() {
		name := "unread-" + g.name
		clients[name] = a.dialPolling(g, name, true)
		a.awaitJoined(name)
	}
	// Responses bigger than what the TCP buffers hold.
	for name, c := range clients {
		a.fill(name, c.gen)
		c.stallPoll()
	}
	// The responses took the queues; more broadcasts fill them again.
	for i := range 40 {
		if err := a.io.Room("r").Broadcast("tick", i); err != nil {
			t.Fatal(err)
		}
	}
	for name, c := range clients {
		checkDropped(t, a, name, c.sid, c.gen)
	}
	start := time.Now()
	if err := a.shutdown(writeTimeout + 2*time.Second); err != nil {
		t.Fatalf("shutdown with unread poll responses, after %v: %v", time.Since(start), err)
	}
}

// fill sends the named client four times what the kernel buffers for it
// (serverSendBuffer, doubled), so that the server's writes to a client
// that does not read block. It takes four events: eight of the queue's
// slots on Engine.IO (an event and its binary attachment), four on 0.9.
// Engine.IO clients get binary, which costs no encoding on a WebSocket;
// 0.9 ones, which have no binary, get text.
func (a *faultApp) fill(name string, g generation) {
	a.t.Helper()
	var payload any = make([]byte, 2*serverSendBuffer)
	if g.legacy() {
		payload = strings.Repeat("x", 2*serverSendBuffer)
	}
	for range 4 {
		if err := a.io.Room(name).Broadcast("fill", payload); err != nil {
			a.t.Fatal(err)
		}
	}
}

// checkDropped asserts that the named client was disconnected for its
// write queue and that the drop was logged with its session id.
func checkDropped(t *testing.T, a *faultApp, name, sid string, g generation) departure {
	t.Helper()
	want, logged := engineio.ReasonQueueOverflow, "engineio: write queue full"
	if g.legacy() {
		want, logged = legacy.ReasonQueueOverflow, "legacy: write queue full"
	}
	d := a.gone.await(t, name, 5*time.Second)
	if d.reason != want {
		t.Errorf("%s: disconnect reason %q, want %q", name, d.reason, want)
	}
	a.logs.await(t, logged, "sid="+sid)
	return d
}

// Small heartbeat timings for the tests below: a silent client is closed
// about heartbeat = interval+timeout after its last sign of life.
const (
	pingInterval = 250 * time.Millisecond
	pingTimeout  = 150 * time.Millisecond
	heartbeat    = pingInterval + pingTimeout
	// slack is what a loaded machine under the race detector may add to
	// a timer, besides the process's pauses (see pauseMeter).
	slack = 400 * time.Millisecond
)

// heartbeatOptions has the small heartbeat timings, and a 0.9 close
// timeout (the polling transports' heartbeat) as long as a heartbeat.
func heartbeatOptions() expressio.Options {
	return expressio.Options{
		Engine: engineio.Options{PingInterval: pingInterval, PingTimeout: pingTimeout},
		Legacy: expressio.LegacyOptions{CloseTimeout: heartbeat},
	}
}

// timeoutReason is the reason a heartbeat timeout gives: Engine.IO's, or
// socket.io 0.9's own name.
func timeoutReason(g generation) string {
	if g.legacy() {
		return legacy.ReasonHeartbeatTimeout
	}
	return engineio.ReasonPingTimeout
}

// Heartbeats fail in both directions: an EIO4 client that never answers
// the server's pings, an EIO3 client that never pings, a 0.9 client that
// never echoes heartbeats. Each is closed, with the heartbeat timeout as
// its reason, about pingInterval+pingTimeout after it opened; so is a
// polling client that stops polling with nothing sent to it (0.9, which
// has no heartbeats on polling: after its close timeout). Their
// neighbours, which keep their heartbeats, stay and keep receiving.
func TestHeartbeatTimeoutClosesOnlyThatSession(t *testing.T) {
	a := newFaultApp(t, heartbeatOptions())
	var silent, healthy []*peer
	polling := map[string]*pollingClient{}
	for _, g := range generations() {
		silent = append(silent, a.dialPeer(g, "silent-"+g.name, peerOptions{silent: true}))
		healthy = append(healthy, a.dialPeer(g, "healthy-"+g.name, peerOptions{}))
		polling["gone-poll-"+g.name] = a.dialPolling(g, "gone-poll-"+g.name, true)
	}
	checkTimeout := func(name, want string, opened time.Time) {
		t.Helper()
		d := a.gone.await(t, name, 10*time.Second)
		if d.reason != want {
			t.Errorf("%s: reason %q, want %q", name, d.reason, want)
		}
		if took := d.at.Sub(opened); took < heartbeat-100*time.Millisecond || took > heartbeat+slack+a.pauses.within(opened, d.at) {
			t.Errorf("%s: closed %v after it opened, want about %v", name, took, heartbeat)
		}
	}
	for _, p := range silent {
		checkTimeout(p.name, timeoutReason(p.gen), p.opened)
		if !p.awaitEnd(2 * time.Second) {
			t.Errorf("%s: the connection stayed open after the timeout", p.name)
		}
	}
	for name, c := range polling {
		want := engineio.ReasonPingTimeout
		if c.gen.legacy() {
			want = legacy.ReasonCloseTimeout
		}
		checkTimeout(name, want, c.opened)
	}
	// The healthy clients went through several heartbeats, before and
	// after their neighbours' timeouts, and still get broadcasts.
	for _, p := range healthy {
		p.awaitBeats(4, 10*time.Second)
	}
	if err := a.io.Room("r").Broadcast("tick", 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range healthy {
		p.expectTick(0, 2*time.Second)
		if d, gone := a.gone.get(p.name); gone {
			t.Errorf("%s: disconnected: %s", p.name, d.reason)
		}
	}
}

// An Engine.IO client that opens a session but never joins a namespace
// is closed after connectTimeout, over WebSocket and over polling; the
// clients that joined stay. Protocol v4 (EIO3) and 0.9 clients are joined
// to "/" by their handshake, so the timeout never applies to them.
func TestConnectTimeoutClosesSessionsThatNeverConnect(t *testing.T) {
	const connectTimeout = 300 * time.Millisecond
	a := newFaultApp(t, expressio.Options{ConnectTimeout: connectTimeout})
	var members []*peer
	for _, g := range generations() {
		// EIO3 and 0.9 clients send nothing after their handshake.
		members = append(members, a.dialPeer(g, "member-"+g.name, peerOptions{}))
	}
	lurker := a.dialPeer(generations()[0], "lurker-ws", peerOptions{noConnect: true})
	poller := a.dialPolling(generations()[0], "lurker-poll", false)

	// The polling lurker's long poll ends with the close packet.
	body, err := poller.poll()
	if err != nil || body != "1" {
		t.Fatalf("lurker-poll: poll answered %q, %v; want the close packet", body, err)
	}
	if took := time.Since(poller.opened); took < connectTimeout-100*time.Millisecond ||
		took > connectTimeout+slack+a.pauses.within(poller.opened, time.Now()) {
		t.Errorf("lurker-poll: closed %v after it opened, want about %v", took, connectTimeout)
	}
	if !lurker.awaitEnd(5 * time.Second) {
		t.Fatal("lurker-ws: still open after connectTimeout")
	}
	if took := lurker.endedAt.Sub(lurker.opened); took < connectTimeout-100*time.Millisecond ||
		took > connectTimeout+slack+a.pauses.within(lurker.opened, lurker.endedAt) {
		t.Errorf("lurker-ws: closed %v after it opened, want about %v", took, connectTimeout)
	}
	for _, sid := range []string{lurker.sid, poller.sid} {
		a.logs.await(t, "no namespace joined in time", "sid="+sid)
	}

	// Well past the timeout, the members are still there.
	time.Sleep(connectTimeout)
	if err := a.io.Room("r").Broadcast("tick", 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range members {
		p.expectTick(0, 2*time.Second)
	}
}

// A client whose TCP peer vanishes without a FIN (a proxy that stops
// forwarding both ways and closes nothing) is found out by the heartbeat
// and closed, on every generation, while the others keep receiving a
// stream of broadcasts.
func TestHalfOpenConnectionsAreDetected(t *testing.T) {
	a := newFaultApp(t, heartbeatOptions())
	target := strings.TrimPrefix(a.url, "http://")
	var healthy, vanished []*peer
	proxies := map[string]*stallProxy{}
	var names []string
	for _, g := range generations() {
		name := "vanished-" + g.name
		proxies[name] = newStallProxy(t, target)
		vanished = append(vanished, a.dialPeer(g, name, peerOptions{via: proxies[name].addr()}))
		healthy = append(healthy, a.dialPeer(g, "healthy-"+g.name, peerOptions{}))
		names = append(names, name, "healthy-"+g.name)
	}
	a.awaitJoined(names...)
	frozen := time.Now()
	for _, p := range proxies {
		p.freeze()
	}

	// Broadcast a tick every 20ms until every vanished client is gone.
	ticks := 0
	deadline := frozen.Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := a.io.Room("r").Broadcast("tick", ticks); err != nil {
			t.Fatal(err)
		}
		ticks++
		gone := 0
		for _, p := range vanished {
			if _, ok := a.gone.get(p.name); ok {
				gone++
			}
		}
		if gone == len(vanished) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, p := range vanished {
		d, ok := a.gone.get(p.name)
		if !ok {
			t.Errorf("%s: still connected %v after its peer vanished", p.name, time.Since(frozen))
			continue
		}
		if want := timeoutReason(p.gen); d.reason != want {
			t.Errorf("%s: reason %q, want %q", p.name, d.reason, want)
		}
		if took := d.at.Sub(frozen); took > heartbeat+slack+a.pauses.within(frozen, d.at) {
			t.Errorf("%s: detected %v after its peer vanished, want within about %v", p.name, took, heartbeat)
		}
		// The server closed its end of the TCP connection too.
		if !proxies[p.name].awaitServerClose(2 * time.Second) {
			t.Errorf("%s: the server kept the TCP connection open", p.name)
		}
	}
	for _, p := range healthy {
		for i := range ticks {
			p.expectTick(i, 2*time.Second)
		}
		if d, gone := a.gone.get(p.name); gone {
			t.Errorf("%s: disconnected: %s", p.name, d.reason)
		}
	}
}

// A route handler that blocks holds up only the later events of its own
// socket (handlers of one socket run one at a time, in order). Other
// clients' events and acknowledgements, in both directions, and the same
// client's events in another namespace, which is another socket, go on.
func TestBlockingHandlerStallsOnlyItsSocket(t *testing.T) {
	a := newFaultApp(t, expressio.Options{})
	release := make(chan struct{})
	blocked := make(chan string, 3)
	a.io.Route("block", func(req *expressio.SocketRequest) {
		blocked <- req.Socket.Handshake().Query.Get("name")
		select {
		case <-release:
			req.IO.Respond("released")
		case <-req.Socket.Context().Done():
		}
	})
	echo := func(req *expressio.SocketRequest) {
		vals, err := req.Values()
		if err != nil {
			panic(err)
		}
		req.IO.Respond(vals...)
	}
	a.io.Route("echo", echo)
	a.io.Of("/other").Route("echo", echo)
	// ask waits in its handler for the client's acknowledgement of a
	// question, then answers with it.
	a.io.Route("ask", func(req *expressio.SocketRequest) {
		ctx, cancel := context.WithTimeout(req.Socket.Context(), 5*time.Second)
		defer cancel()
		answer, err := req.Socket.EmitWithAck(ctx, "question")
		var vals []any
		if err == nil {
			vals, err = answer.Values()
		}
		if err != nil {
			req.IO.Respond(err.Error())
			return
		}
		req.IO.Respond(vals...)
	})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	var blockers, others []*peer
	for _, g := range generations() {
		b := a.dialPeer(g, "blocker-"+g.name, peerOptions{})
		b.join("/other")
		b.emit("/", 1, "block")
		b.emit("/", 2, "echo", "queued")
		blockers = append(blockers, b)
		others = append(others, a.dialPeer(g, "other-"+g.name, peerOptions{}))
	}
	for range blockers {
		select {
		case <-blocked:
		case <-time.After(5 * time.Second):
			t.Fatal("the blocking handlers did not start")
		}
	}
	for _, b := range blockers {
		// The same client in another namespace is served at once.
		b.emit("/other", 3, "echo", "elsewhere")
		if got := b.expectAck("/other", 3, 2*time.Second); got != `["elsewhere"]` {
			t.Errorf("%s: ack in /other %s", b.name, got)
		}
	}
	for _, p := range others {
		p.emit("/", 1, "echo", "hi")
		if got := p.expectAck("/", 1, 2*time.Second); got != `["hi"]` {
			t.Errorf("%s: ack %s", p.name, got)
		}
		p.emit("/", 2, "ask")
		q := p.next(2 * time.Second)
		if q.kind != 'e' || q.event != "question" || q.id < 0 {
			t.Fatalf("%s: got %+v, want a question asking for an ack", p.name, q)
		}
		p.ack("/", q.id, "answer")
		if got := p.expectAck("/", 2, 2*time.Second); got != `["answer"]` {
			t.Errorf("%s: ack of ask %s", p.name, got)
		}
	}
	// The blocked clients' own acknowledgements still reach the server.
	for _, b := range blockers {
		answers := make(chan []expressio.Payload, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			got, err := a.io.Room(b.name).BroadcastWithAck(ctx, "question")
			if err != nil {
				t.Errorf("%s: BroadcastWithAck: %v", b.name, err)
			}
			answers <- got
		}()
		q := b.next(2 * time.Second)
		if q.kind != 'e' || q.event != "question" || q.id < 0 {
			t.Fatalf("%s: got %+v, want a question asking for an ack", b.name, q)
		}
		b.ack("/", q.id, "blocked")
		if got := <-answers; len(got) != 1 || len(got[0].Args) != 1 || string(got[0].Args[0]) != `"blocked"` {
			t.Errorf("%s: BroadcastWithAck answers %+v", b.name, got)
		}
	}
	// The blocked sockets answered nothing meanwhile; released, they
	// answer both events, in order.
	for _, b := range blockers {
		if in, err := b.nextErr(50 * time.Millisecond); err == nil {
			t.Errorf("%s: got %+v while its handler was blocked", b.name, in)
		}
	}
	close(release)
	for _, b := range blockers {
		if got := b.expectAck("/", 1, 2*time.Second); got != `["released"]` {
			t.Errorf("%s: ack of block %s", b.name, got)
		}
		if got := b.expectAck("/", 2, 2*time.Second); got != `["queued"]` {
			t.Errorf("%s: ack of the queued event %s", b.name, got)
		}
	}
}

// Under load (hundreds of clients of every generation exchanging acks),
// one client per generation makes its route panic again and again. Each
// panic ends only its request: the panicking client gets an error ack
// where it asked for one and stays connected, every other client gets
// every ack, every panic is logged, and the server keeps serving.
func TestHandlerPanicsUnderLoadAreIsolated(t *testing.T) {
	const (
		perGeneration = 80
		acks          = 5
		panics        = 40
	)
	a := newFaultApp(t, expressio.Options{})
	a.io.Route("boom", func(*expressio.SocketRequest) { panic("boom") })
	a.io.Route("echo", func(req *expressio.SocketRequest) {
		vals, err := req.Values()
		if err != nil {
			panic(err)
		}
		req.IO.Respond(vals...)
	})
	var load, panickers []*peer
	for _, g := range generations() {
		for i := range perGeneration {
			load = append(load, a.dialPeer(g, fmt.Sprintf("load-%s-%d", g.name, i), peerOptions{}))
		}
		panickers = append(panickers, a.dialPeer(g, "panicker-"+g.name, peerOptions{}))
	}

	var wg sync.WaitGroup
	for _, p := range load {
		wg.Go(func() {
			for id := range int64(acks) {
				p.emit("/", id, "echo", p.name, id)
				got, err := p.awaitAck("/", id, 10*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				if want := fmt.Sprintf(`[%q,%d]`, p.name, id); got != want {
					t.Errorf("%s: ack %s, want %s", p.name, got, want)
				}
			}
		})
	}
	for _, p := range panickers {
		wg.Go(func() {
			for id := range int64(panics) {
				p.emit("/", -1, "boom") // no ack asked: nothing comes back
				p.emit("/", id, "boom")
				got, err := p.awaitAck("/", id, 10*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				if got != `[{"error":"internal server error"}]` {
					t.Errorf("%s: ack of a panicking route %s", p.name, got)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// The panicking clients are still connected and served.
	for _, p := range panickers {
		p.emit("/", 1000, "echo", "still here")
		if got := p.expectAck("/", 1000, 2*time.Second); got != `["still here"]` {
			t.Errorf("%s: ack after the panics %s", p.name, got)
		}
	}
	for _, p := range append(load, panickers...) {
		if d, gone := a.gone.get(p.name); gone {
			t.Errorf("%s: disconnected: %s", p.name, d.reason)
		}
	}
	if n := len(a.logs.lines("route panicked", "event=boom")); n != 2*panics*len(panickers) {
		t.Errorf("%d panics logged, want %d", n, 2*panics*len(panickers))
	}
	// The server still takes new clients of every generation.
	for _, g := range generations() {
		p := a.dialPeer(g, "late-"+g.name, peerOptions{})
		p.emit("/", 1, "echo", "late")
		if got := p.expectAck("/", 1, 2*time.Second); got != `["late"]` {
			t.Errorf("%s: ack %s", p.name, got)
		}
	}
}
