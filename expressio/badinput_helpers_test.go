package expressio_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/expressio"
)

// The bad-input suite (badinput_*_test.go) runs every attack of the
// project's BAD-INPUT.md, the known attacks on socket.io servers, against
// a real App on a real TCP socket, while bystanders of every wire
// generation sit in one room and receive a numbered broadcast stream.
// These are its helpers.

// Generations of client the suite speaks.
const (
	genEIO4   = "4"
	genEIO3   = "3"
	genLegacy = "0.9"
)

// waitLong bounds every wait of the suite on the server.
const waitLong = 5 * time.Second

// arena is an App served over httptest with legacy (0.9) clients on, its
// routes, and bystanders joined to the room "arena".
type arena struct {
	t    *testing.T
	app  *expressio.App
	ts   *httptest.Server
	host string // host:port of ts
	gens []string
	http *http.Client // for attacks: bounded, its own connections

	bystanders []*bystander
	next       int // next number of the broadcast stream
}

// newArena serves a new App, configured by setup (which may be nil) on
// top of the suite's defaults, and joins one bystander of each generation
// in gens to the room "arena".
func newArena(t *testing.T, setup func(*expressio.App), gens ...string) *arena {
	t.Helper()
	app := expressio.New()
	for name, v := range map[string]any{"log": false, "legacy": true} {
		if err := app.IO.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	app.IO.Route("echo", func(req *expressio.SocketRequest) {
		vals, err := req.Values()
		if err != nil {
			panic(err)
		}
		req.IO.Respond(vals...)
	})
	app.IO.Route("join", func(req *expressio.SocketRequest) {
		req.IO.Join("arena")
		req.IO.Respond()
	})
	app.IO.Route("boom", func(*expressio.SocketRequest) { panic("boom") })
	app.IO.Of("/admin")
	if setup != nil {
		setup(app)
	}
	ts := newApp(t, app)
	a := &arena{
		t: t, app: app, ts: ts, gens: gens,
		host: strings.TrimPrefix(ts.URL, "http://"),
		http: &http.Client{Transport: &http.Transport{}, Timeout: waitLong},
	}
	t.Cleanup(a.http.CloseIdleConnections)
	for _, g := range gens {
		a.bystanders = append(a.bystanders, a.join(g))
	}
	return a
}

// row runs one row of the spec as a subtest: attack runs while the
// stream flows; then every bystander must have received every number
// sent meanwhile, in order, and a fresh client of each generation must
// connect and get an ack.
func (a *arena) row(name string, attack func(t *testing.T)) {
	a.t.Helper()
	a.t.Run(name, func(t *testing.T) {
		from := a.next
		stop := a.stream(t)
		defer func() { a.next = stop() }() // also after a failed attack
		attack(t)
		to := stop()
		for _, b := range a.bystanders {
			b.expectStream(t, from, to)
		}
		a.serverUp(t)
	})
}

// stream broadcasts "seq" with consecutive numbers to the room, one at
// once and then one every few milliseconds, until the returned stop is
// called, which sends a last one and returns the next number not sent.
func (a *arena) stream(t *testing.T) (stop func() int) {
	n := a.next
	send := func() {
		if err := a.app.IO.Room("arena").Broadcast("seq", n); err != nil {
			t.Errorf("broadcast %d: %v", n, err)
		}
		n++
	}
	send()
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(3 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				send()
			}
		}
	}()
	var once sync.Once
	stop = func() int {
		once.Do(func() {
			close(quit)
			<-done
			send() // one more once the attack is over
		})
		return n
	}
	t.Cleanup(func() { stop() })
	return stop
}

// serverUp checks that a new client of every generation the arena serves
// connects and gets its ack.
func (a *arena) serverUp(t *testing.T) {
	t.Helper()
	for _, eio := range []string{genEIO4, genEIO3} {
		if !slices.Contains(a.gens, eio) {
			continue
		}
		c := connect(t, a.ts, eio)
		c.send(`421["echo","up"]`)
		c.expect(`431["up"]`)
		c.conn.Close()
	}
	if slices.Contains(a.gens, genLegacy) {
		conn := legacyDial(t, a.ts.URL, "")
		conn.WriteMessage(websocket.TextMessage, []byte(`5:1+::{"name":"echo","args":["up"]}`))
		if got := legacyRead(t, conn); got != `6:::1+["up"]` {
			t.Fatalf("fresh 0.9 client: ack %q", got)
		}
		conn.Close()
	}
}

// bystander is a client in the room "arena" that records the stream.
type bystander struct {
	name     string
	sid      string   // its Engine.IO or 0.9 session id
	socketID string   // its socket id, when not the sid (EIO4)
	seqs     chan int // stream numbers, as they arrive
	gone     chan struct{}

	mu     sync.Mutex
	raw    []string      // every other message received after joining
	arrive chan struct{} // signalled on each message
}

func newBystander(name string) *bystander {
	return &bystander{name: name, seqs: make(chan int, 1<<16), gone: make(chan struct{}), arrive: make(chan struct{}, 1)}
}

// record passes a stream number on, and keeps any other message.
func (b *bystander) record(msg, prefix, suffix string) {
	if rest, ok := strings.CutPrefix(msg, prefix); ok {
		if num, ok := strings.CutSuffix(rest, suffix); ok {
			if n, err := strconv.Atoi(num); err == nil {
				b.seqs <- n
				return
			}
		}
	}
	b.mu.Lock()
	b.raw = append(b.raw, msg)
	b.mu.Unlock()
	select {
	case b.arrive <- struct{}{}:
	default:
	}
}

// received returns every message but the stream's received so far.
func (b *bystander) received() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.raw...)
}

// waitFor waits for a message containing sub and returns the messages
// received so far, the stream's aside.
func (b *bystander) waitFor(t *testing.T, sub string) []string {
	t.Helper()
	deadline := time.After(waitLong)
	for {
		got := b.received()
		for _, m := range got {
			if strings.Contains(m, sub) {
				return got
			}
		}
		select {
		case <-b.arrive:
		case <-b.gone:
			t.Fatalf("bystander %s disconnected waiting for %q", b.name, sub)
		case <-deadline:
			t.Fatalf("bystander %s never got %q", b.name, sub)
		}
	}
}

// expectStream checks that the numbers from..to-1 arrived, in order,
// none missing.
func (b *bystander) expectStream(t *testing.T, from, to int) {
	t.Helper()
	for want := from; want < to; want++ {
		select {
		case n := <-b.seqs:
			if n < from {
				want-- // left over from a row that failed
				continue
			}
			if n != want {
				t.Fatalf("bystander %s: stream number %d, want %d", b.name, n, want)
			}
		case <-b.gone:
			t.Fatalf("bystander %s disconnected before stream number %d", b.name, want)
		case <-time.After(waitLong):
			t.Fatalf("bystander %s: stream number %d never came", b.name, want)
		}
	}
}

// join connects a bystander of generation g and joins it to the room.
func (a *arena) join(g string) *bystander {
	t := a.t
	t.Helper()
	switch g {
	case genEIO4:
		return a.joinWebSocket()
	case genEIO3:
		return a.joinEIO3Polling()
	case genLegacy:
		return a.joinLegacy()
	}
	t.Fatalf("unknown generation %q", g)
	return nil
}

func (a *arena) joinWebSocket() *bystander {
	t := a.t
	b := newBystander("EIO4 websocket")
	u := "ws://" + a.host + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newWSClient(t, conn, "4")
	b.sid = openSID(t, c.read())
	c.send("40")
	var ack struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(c.read(), "40")), &ack); err != nil {
		t.Fatalf("connect answer: %v", err)
	}
	b.socketID = ack.SID
	c.send(`421["join"]`)
	c.expect(`431[]`)
	go func() {
		defer close(b.gone)
		for f := range c.frames {
			if f.err != nil {
				return
			}
			b.record(f.data, `42["seq",`, `]`)
		}
	}()
	return b
}

func (a *arena) joinEIO3Polling() *bystander {
	t := a.t
	b := newBystander("EIO3 polling")
	// Its own client: a long poll holds a connection.
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	base := "http://" + a.host + "/socket.io/?EIO=3&transport=polling"
	status, body := do(t, client, "GET", base, "", nil)
	pkts := eio3Packets(t, body)
	if status != 200 || len(pkts) < 1 {
		t.Fatalf("EIO3 handshake: %d %q", status, body)
	}
	b.sid = openSID(t, pkts[0])
	u := base + "&sid=" + b.sid
	if status, body := do(t, client, "POST", u, eio3Payload(`421["join"]`), nil); status != 200 {
		t.Fatalf("EIO3 join: %d %q", status, body)
	}
	for joined := false; !joined; {
		status, body := do(t, client, "GET", u, "", nil)
		if status != 200 {
			t.Fatalf("EIO3 poll: %d %q", status, body)
		}
		for _, p := range eio3Packets(t, body) {
			joined = joined || p == `431[]`
		}
	}
	go func() {
		defer close(b.gone)
		for {
			res, err := client.Get(u)
			if err != nil {
				return
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil || res.StatusCode != 200 {
				return
			}
			pkts, err := parseEIO3Payload(string(body))
			if err != nil {
				return
			}
			for _, p := range pkts {
				if p == "1" {
					return
				}
				b.record(p, `42["seq",`, `]`)
			}
		}
	}()
	// Revision 3 clients ping; the server closes silent ones.
	go func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-b.gone:
				return
			case <-tick.C:
				if res, err := client.Post(u, "text/plain;charset=UTF-8", strings.NewReader("1:2")); err == nil {
					res.Body.Close()
				}
			}
		}
	}()
	return b
}

func (a *arena) joinLegacy() *bystander {
	t := a.t
	b := newBystander("0.9 websocket")
	status, body := get(t, a.ts.URL+"/socket.io/1/?t=1")
	if status != 200 {
		t.Fatalf("0.9 handshake: %d %q", status, body)
	}
	b.sid, _, _ = strings.Cut(body, ":")
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+a.host+"/socket.io/1/websocket/"+b.sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if got := legacyRead(t, conn); got != "1::" {
		t.Fatalf("0.9 open: %q", got)
	}
	conn.WriteMessage(websocket.TextMessage, []byte(`5:1+::{"name":"join"}`))
	if got := legacyRead(t, conn); got != "6:::1" {
		t.Fatalf("0.9 join: %q", got)
	}
	conn.SetReadDeadline(time.Time{})
	go func() {
		defer close(b.gone)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if string(data) == "2::" { // heartbeat
				conn.WriteMessage(websocket.TextMessage, data)
				continue
			}
			b.record(string(data), `5:::{"name":"seq","args":[`, `]}`)
		}
	}()
	return b
}

// openSID returns the sid of an Engine.IO open packet.
func openSID(t *testing.T, open string) string {
	t.Helper()
	var o struct {
		SID string `json:"sid"`
	}
	if !strings.HasPrefix(open, "0{") || json.Unmarshal([]byte(open[1:]), &o) != nil || o.SID == "" {
		t.Fatalf("open packet %q", open)
	}
	return o.SID
}

// do makes a request with client and returns its status and body.
func do(t *testing.T, client *http.Client, method, u, body string, header http.Header) (int, string) {
	t.Helper()
	res, err := doErr(client, method, u, body, header)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return res.StatusCode, res.body
}

type response struct {
	*http.Response
	body string
}

func doErr(client *http.Client, method, u, body string, header http.Header) (response, error) {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	if method == "POST" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{res, string(b)}, err
}

// eio3Payload frames text packets as a revision 3 polling body (ASCII
// packets: lengths in bytes are lengths in UTF-16 units).
func eio3Payload(pkts ...string) string {
	var b strings.Builder
	for _, p := range pkts {
		fmt.Fprintf(&b, "%d:%s", len(p), p)
	}
	return b.String()
}

func eio3Packets(t *testing.T, body string) []string {
	t.Helper()
	pkts, err := parseEIO3Payload(body)
	if err != nil {
		t.Fatalf("revision 3 payload %q: %v", body, err)
	}
	return pkts
}

// parseEIO3Payload splits a revision 3 text payload of ASCII packets.
func parseEIO3Payload(body string) ([]string, error) {
	var pkts []string
	for body != "" {
		num, rest, ok := strings.Cut(body, ":")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n > len(rest) {
			return nil, fmt.Errorf("bad length prefix in %q", body)
		}
		pkts = append(pkts, rest[:n])
		body = rest[n:]
	}
	return pkts, nil
}

// packetsOf splits a polling body of either revision.
func packetsOf(t *testing.T, eio, body string) []string {
	t.Helper()
	if eio == genEIO3 {
		return eio3Packets(t, body)
	}
	return strings.Split(body, "\x1e")
}

// poller is an attacking Engine.IO polling session.
type poller struct {
	a   *arena
	eio string
	sid string
}

// pollURL is the polling URL of a session of revision eio ("" sid for a
// handshake).
func (a *arena) pollURL(eio, sid string) string {
	u := a.ts.URL + "/socket.io/?EIO=" + eio + "&transport=polling"
	if sid != "" {
		u += "&sid=" + sid
	}
	return u
}

// poll opens a polling session of revision eio joined to "/" (EIO3 is
// joined by its handshake; EIO4 sends CONNECT).
func (a *arena) poll(t *testing.T, eio string) *poller {
	t.Helper()
	status, body := do(t, a.http, "GET", a.pollURL(eio, ""), "", nil)
	pkts := packetsOf(t, eio, body)
	if status != 200 {
		t.Fatalf("EIO%s handshake: %d %q", eio, status, body)
	}
	p := &poller{a: a, eio: eio, sid: openSID(t, pkts[0])}
	if eio == genEIO4 {
		p.post(t, "40", 200)
		if got := p.get(t); !strings.HasPrefix(got, `40{"sid":`) {
			t.Fatalf("EIO4 connect over polling: %q", got)
		}
	} else if len(pkts) < 2 || pkts[1] != "40" {
		t.Fatalf("EIO3 handshake without the root connect: %q", body)
	}
	return p
}

func (p *poller) url() string { return p.a.pollURL(p.eio, p.sid) }

// payload frames packets for the session's revision.
func (p *poller) payload(pkts ...string) string {
	if p.eio == genEIO3 {
		return eio3Payload(pkts...)
	}
	return strings.Join(pkts, "\x1e")
}

// post sends packets and checks the status.
func (p *poller) post(t *testing.T, body string, status int) string {
	t.Helper()
	got, res := do(t, p.a.http, "POST", p.url(), body, nil)
	if got != status {
		t.Fatalf("EIO%s POST %.60q: %d %q, want %d", p.eio, body, got, res, status)
	}
	return res
}

// get polls once and returns the body.
func (p *poller) get(t *testing.T) string {
	t.Helper()
	status, body := do(t, p.a.http, "GET", p.url(), "", nil)
	if status != 200 {
		t.Fatalf("EIO%s poll: %d %q", p.eio, status, body)
	}
	return body
}

// ack checks that the session still works: an event gets its ack.
func (p *poller) ack(t *testing.T) {
	t.Helper()
	p.post(t, p.payload(`42999["echo","alive"]`), 200)
	for range 3 {
		for _, pkt := range packetsOf(t, p.eio, p.get(t)) {
			if pkt == `43999["alive"]` {
				return
			}
		}
	}
	t.Fatalf("EIO%s session %s: no ack", p.eio, p.sid)
}

// closed checks that the session has ended: a poll gets the close packet
// or, once it is forgotten, 400 {"code":1,"message":"Session ID unknown"}.
func (p *poller) closed(t *testing.T) {
	t.Helper()
	for range 2 {
		res, err := doErr(p.a.http, "GET", p.url(), "", nil)
		if err != nil {
			t.Fatalf("EIO%s session %s still open: %v", p.eio, p.sid, err)
		}
		if res.StatusCode == 400 {
			expectEngineError(t, res, 400, 1)
			return
		}
		pkts := packetsOf(t, p.eio, res.body)
		if res.StatusCode != 200 || pkts[len(pkts)-1] != "1" {
			t.Fatalf("EIO%s session %s after the attack: %d %q", p.eio, p.sid, res.StatusCode, res.body)
		}
	}
	t.Fatalf("EIO%s session %s: polls still answered after its close packet", p.eio, p.sid)
}

// expectEngineError checks an Engine.IO refusal: the status and the JSON
// body {"code":code,"message":...}.
func expectEngineError(t *testing.T, res response, status, code int) {
	t.Helper()
	var body struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	}
	if res.StatusCode != status || json.Unmarshal([]byte(res.body), &body) != nil || body.Code == nil || *body.Code != code || body.Message == "" {
		t.Fatalf("answer %d %q, want %d {\"code\":%d,\"message\":...}", res.StatusCode, res.body, status, code)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("refusal Content-Type %q", ct)
	}
}

// engineDo makes a request with the attack client and returns the answer.
func (a *arena) engineDo(t *testing.T, method, u, body string, header http.Header) response {
	t.Helper()
	res, err := doErr(a.http, method, u, body, header)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return res
}

// websocket opens an attacking WebSocket session of revision eio joined
// to "/".
func (a *arena) websocket(t *testing.T, eio string) *wsClient {
	t.Helper()
	return connect(t, a.ts, eio)
}

// closeCode waits for the server to end c and returns the close code it
// sent, or -1 when the connection ended without a close frame.
func closeCode(t *testing.T, c *wsClient) int {
	t.Helper()
	deadline := time.After(waitLong)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return -1
			}
			if f.err != nil {
				var ce *websocket.CloseError
				if errors.As(f.err, &ce) {
					return ce.Code
				}
				return -1
			}
		case <-deadline:
			t.Fatal("connection still open")
		}
	}
}

// expectClose checks that the server ends c with the close code want.
func expectClose(t *testing.T, c *wsClient, want int) {
	t.Helper()
	if got := closeCode(t, c); got != want {
		t.Fatalf("close code %d, want %d", got, want)
	}
}

// legacyConn is an attacking 0.9 session over a WebSocket.
type legacyConn struct {
	*websocket.Conn
	sid string
}

func (a *arena) legacy(t *testing.T) *legacyConn {
	t.Helper()
	status, body := do(t, a.http, "GET", a.ts.URL+"/socket.io/1/?t=1", "", nil)
	if status != 200 {
		t.Fatalf("0.9 handshake: %d %q", status, body)
	}
	sid, _, _ := strings.Cut(body, ":")
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+a.host+"/socket.io/1/websocket/"+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if got := legacyRead(t, conn); got != "1::" {
		t.Fatalf("0.9 open: %q", got)
	}
	return &legacyConn{conn, sid}
}

func (c *legacyConn) send(msg string) { c.WriteMessage(websocket.TextMessage, []byte(msg)) }

// ack checks the session still works.
func (c *legacyConn) ack(t *testing.T) {
	t.Helper()
	c.send(`5:77+::{"name":"echo","args":["alive"]}`)
	for {
		if got := legacyRead(t, c.Conn); got == `6:::77+["alive"]` {
			return
		}
	}
}

// closeCode reads until the server ends the connection and returns its
// close code, -1 without a close frame.
func (c *legacyConn) closeCode(t *testing.T) int {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitLong))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("0.9 connection still open")
		}
		return -1
	}
}

// legacyPoller is an attacking 0.9 xhr-polling session.
type legacyPoller struct {
	a   *arena
	sid string
}

func (a *arena) legacyPoll(t *testing.T) *legacyPoller {
	t.Helper()
	status, body := do(t, a.http, "GET", a.ts.URL+"/socket.io/1/?t=1", "", nil)
	if status != 200 {
		t.Fatalf("0.9 handshake: %d %q", status, body)
	}
	p := &legacyPoller{a: a}
	p.sid, _, _ = strings.Cut(body, ":")
	if got := p.get(t); got != "1::" {
		t.Fatalf("0.9 first poll: %q", got)
	}
	return p
}

func (p *legacyPoller) url() string { return p.a.ts.URL + "/socket.io/1/xhr-polling/" + p.sid }

func (p *legacyPoller) get(t *testing.T) string {
	t.Helper()
	status, body := do(t, p.a.http, "GET", p.url(), "", nil)
	if status != 200 {
		t.Fatalf("0.9 poll: %d %q", status, body)
	}
	return body
}

// closed checks that the session is gone: a poll says "not handshaken".
func (p *legacyPoller) closed(t *testing.T) {
	t.Helper()
	for range 2 {
		body := p.get(t)
		if body == "7:::1+0" {
			return
		}
		if !strings.Contains(body, "0::") {
			t.Fatalf("0.9 session %s after the attack: poll %q", p.sid, body)
		}
	}
	t.Fatalf("0.9 session %s still answered", p.sid)
}

// Memory.

// liveHeap returns the bytes held by live heap objects after a full
// collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// allocated returns the bytes allocated so far by the whole process.
func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// expectAllocBelow runs attack and checks that the process allocated
// less than limit bytes meanwhile: an attack of size bytes (limit well
// below it) that the server buffered or copied would fail it.
func expectAllocBelow(t *testing.T, size, limit uint64, attack func()) {
	t.Helper()
	before := allocated()
	attack()
	grew := allocated() - before
	t.Logf("allocated %d KiB during an attack of %d KiB (limit %d KiB)", grew>>10, size>>10, limit>>10)
	if grew >= limit {
		t.Errorf("allocated %d KiB during an attack of %d KiB, want under %d KiB", grew>>10, size>>10, limit>>10)
	}
}

// Raw wire clients.

// rawHTTP sends req, written verbatim, on a new TCP connection and
// returns the connection and a reader for what the server answers.
func (a *arena) rawHTTP(t *testing.T, req string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", a.host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(waitLong))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	return conn, bufio.NewReader(conn)
}

// readResponse reads one HTTP response and its body.
func readResponse(t *testing.T, br *bufio.Reader) response {
	t.Helper()
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body := ""
	if res.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body = string(b)
	}
	return response{res, body}
}

// upgradeRequest is a WebSocket upgrade for path, with extra header lines
// (each ending in \r\n).
func (a *arena) upgradeRequest(path, extra string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: " + a.host + "\r\n" + a.upgradeHeaders() + extra + "\r\n"
}

// rawWS is a WebSocket client that writes frames byte by byte, to send
// what no library would: fragments without end, lying lengths.
type rawWS struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	sync int
}

// dialRaw opens a WebSocket at path with a handcrafted upgrade.
func (a *arena) dialRaw(t *testing.T, path string) *rawWS {
	t.Helper()
	conn, br := a.rawHTTP(t, a.upgradeRequest(path, ""))
	res := readResponse(t, br)
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade %s: %d %q", path, res.StatusCode, res.body)
	}
	conn.SetDeadline(time.Time{})
	return &rawWS{t: t, conn: conn, br: br, bw: newRawWriter(conn)}
}

// header buffers a client frame header: masked, with the zero key, so
// the payload goes as it is.
func (w *rawWS) header(fin bool, op byte, n uint64) {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var h [14]byte
	h[0] = b0
	switch {
	case n < 126:
		h[1] = 0x80 | byte(n)
		w.bw.Write(h[:6])
	case n <= 0xffff:
		h[1] = 0x80 | 126
		binary.BigEndian.PutUint16(h[2:], uint16(n))
		w.bw.Write(h[:8])
	default:
		h[1] = 0x80 | 127
		binary.BigEndian.PutUint64(h[2:], n)
		w.bw.Write(h[:14])
	}
}

// frame buffers a whole frame; it fails once a write to the connection
// has failed.
func (w *rawWS) frame(fin bool, op byte, payload []byte) error {
	w.header(fin, op, uint64(len(payload)))
	_, err := w.bw.Write(payload) // bufio's errors are sticky
	return err
}

func (w *rawWS) flush() error { return w.bw.Flush() }

// readFrame reads one server frame.
func (w *rawWS) readFrame(d time.Duration) (op byte, payload []byte, err error) {
	w.conn.SetReadDeadline(time.Now().Add(d))
	var h [2]byte
	if _, err := io.ReadFull(w.br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(w.br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(w.br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("server frame of %d bytes", n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(w.br, payload)
	return h[0] & 0x0f, payload, err
}

// syncServer sends a ping and waits for its pong: the server has then
// read every frame sent before.
func (w *rawWS) syncServer() {
	w.t.Helper()
	w.sync++
	mark := []byte("sync-" + strconv.Itoa(w.sync))
	w.frame(true, websocket.PingMessage, mark)
	if err := w.flush(); err != nil {
		w.t.Fatalf("ping: %v", err)
	}
	for {
		op, payload, err := w.readFrame(waitLong)
		if err != nil {
			w.t.Fatalf("waiting for the pong: %v", err)
		}
		if op == websocket.CloseMessage {
			w.t.Fatalf("closed (%x) while waiting for the pong", payload)
		}
		if op == websocket.PongMessage && bytes.Equal(payload, mark) {
			return
		}
	}
}

// closeCode reads until the server's close frame and returns its code;
// -1 when the connection ended without one.
func (w *rawWS) closeCode() int {
	w.t.Helper()
	for {
		op, payload, err := w.readFrame(waitLong)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				w.t.Fatal("connection still open")
			}
			return -1
		}
		if op == websocket.CloseMessage {
			if len(payload) < 2 {
				return websocket.CloseNoStatusReceived
			}
			return int(binary.BigEndian.Uint16(payload))
		}
	}
}

// expectClose checks the server ends the connection with code want.
func (w *rawWS) expectClose(want int) {
	w.t.Helper()
	if got := w.closeCode(); got != want {
		w.t.Fatalf("close code %d, want %d", got, want)
	}
}

// pump calls write (which buffers a frame and reports whether the
// connection still takes writes) in a goroutine, up to max times or
// until a write fails because the server closed; wait returns how many
// frames went out.
func (w *rawWS) pump(write func(i int) bool, max int) (wait func() int) {
	done := make(chan int, 1)
	go func() {
		i := 0
		for ; i < max && write(i); i++ {
			if w.bw.Buffered() > 32<<10 && w.flush() != nil {
				break
			}
		}
		if w.flush() != nil && i > 0 {
			i-- // the last frame did not go out whole
		}
		done <- i
	}()
	return func() int {
		select {
		case n := <-done:
			return n
		case <-time.After(waitLong):
			w.conn.Close()
			return <-done
		}
	}
}

// readText returns the next text message, skipping control frames.
func (w *rawWS) readText() string {
	w.t.Helper()
	for {
		op, payload, err := w.readFrame(waitLong)
		if err != nil {
			w.t.Fatalf("read: %v", err)
		}
		switch op {
		case websocket.TextMessage:
			return string(payload)
		case websocket.CloseMessage:
			w.t.Fatalf("closed: %x", payload)
		}
	}
}

// rawSocket opens a raw WebSocket session of revision eio joined to "/".
func (a *arena) rawSocket(t *testing.T, eio string) *rawWS {
	t.Helper()
	w := a.dialRaw(t, "/socket.io/?EIO="+eio+"&transport=websocket")
	openSID(t, w.readText())
	if eio == genEIO4 {
		w.frame(true, websocket.TextMessage, []byte("40"))
		w.flush()
	}
	if got := w.readText(); !strings.HasPrefix(got, "40") {
		t.Fatalf("connect answer %q", got)
	}
	return w
}

// rawLegacy opens a raw WebSocket for a new 0.9 session.
func (a *arena) rawLegacy(t *testing.T) *rawWS {
	t.Helper()
	status, body := do(t, a.http, "GET", a.ts.URL+"/socket.io/1/?t=1", "", nil)
	if status != 200 {
		t.Fatalf("0.9 handshake: %d %q", status, body)
	}
	sid, _, _ := strings.Cut(body, ":")
	w := a.dialRaw(t, "/socket.io/1/websocket/"+sid)
	if got := w.readText(); got != "1::" {
		t.Fatalf("0.9 open: %q", got)
	}
	return w
}

// upgradeHeaders are the header lines of a WebSocket upgrade.
func (a *arena) upgradeHeaders() string {
	return "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
}

// rawRequest sends a request with extra header lines on a new connection
// and returns the answer.
func (a *arena) rawRequest(t *testing.T, method, path, extra string) response {
	t.Helper()
	_, br := a.rawHTTP(t, method+" "+path+" HTTP/1.1\r\nHost: "+a.host+"\r\n"+extra+"\r\n")
	return readResponse(t, br)
}

// streamPost POSTs size bytes to path over a connection of its own,
// writing them only as fast as the server reads, and returns the answer.
func (a *arena) streamPost(t *testing.T, path string, size int) response {
	t.Helper()
	conn, br := a.rawHTTP(t, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: %d\r\n\r\n", path, a.host, size))
	chunk := bytes.Repeat([]byte("4"), 64<<10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := conn.Write(chunk[:min(len(chunk), size-sent)]); err != nil {
				return
			}
		}
	}()
	res := readResponse(t, br)
	conn.Close()
	<-done
	return res
}

func newRawWriter(conn net.Conn) *bufio.Writer { return bufio.NewWriterSize(conn, 64<<10) }

// upgrade moves a polling session onto a WebSocket: probe, then upgrade.
func (a *arena) upgrade(t *testing.T, p *poller) *wsClient {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+a.host+"/socket.io/?EIO="+p.eio+"&transport=websocket&sid="+p.sid, nil)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	c := newWSClient(t, conn, p.eio)
	c.send("2probe")
	c.expect("3probe")
	c.send("5")
	return c
}

// websocketSID opens a WebSocket session of revision eio joined to "/"
// and returns it with its sid.
func (a *arena) websocketSID(t *testing.T, eio string) (*wsClient, string) {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+a.host+"/socket.io/?EIO="+eio+"&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newWSClient(t, conn, eio)
	sid := openSID(t, c.read())
	if eio == genEIO4 {
		c.send("40")
	}
	if got := c.read(); !strings.HasPrefix(got, "40") {
		t.Fatalf("connect answer %q", got)
	}
	return c, sid
}
