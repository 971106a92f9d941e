package expressio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// This file holds the raw wire clients of the fault suite (faults_test.go):
// one client type speaking the three generations the server serves,
// Engine.IO 3 and 4 (Socket.IO v4 and v5) and socket.io 0.9, written
// from the wire formats so that the suite stays black-box.

// generation is a client wire generation.
type generation struct {
	name string // "EIO4", "EIO3", "0.9"
	eio  string // the EIO query value; "" for socket.io 0.9
}

func (g generation) legacy() bool { return g.eio == "" }

// generations lists the three generations, newest first.
func generations() []generation {
	return []generation{{"EIO4", "4"}, {"EIO3", "3"}, {"0.9", ""}}
}

// inbound is one socket.io packet a client received: an event, an ack,
// a namespace connect or disconnect.
type inbound struct {
	kind  byte   // 'e' event, 'a' ack, 'c' connect, 'd' disconnect, 'x' connect error
	nsp   string // "/" for the root
	id    int64  // the ack id, -1 without
	event string // events only
	args  []json.RawMessage
	at    time.Time // when it was read off the socket
}

// peer is a raw client of one generation over a WebSocket. Unless it is
// stalled, a goroutine reads every frame, answers heartbeats (unless
// silent) and hands the socket.io packets to in.
type peer struct {
	t    *testing.T
	gen  generation
	name string
	sid  string // the Engine.IO or 0.9 session id
	conn *websocket.Conn
	// opened is when the session opened: the open packet (Engine.IO) or
	// the WebSocket (0.9) arrived.
	opened time.Time
	in     chan inbound
	// beats gets a value for every heartbeat exchanged: an EIO4 ping
	// answered, an EIO3 pong received, a 0.9 heartbeat echoed.
	beats chan struct{}
	ended chan struct{} // closed when the connection ended
	// endedAt is when the connection ended; read it after ended closed.
	endedAt time.Time
	quit    chan struct{} // closed at cleanup: the reader stops handing packets
	wmu     sync.Mutex
}

// peerOptions change how a peer behaves.
type peerOptions struct {
	// silent peers never answer or send heartbeats: no EIO4 pong, no
	// EIO3 ping, no 0.9 heartbeat echo.
	silent bool
	// noConnect: an EIO4 peer that never sends CONNECT for "/".
	noConnect bool
	// stalled peers stop reading their socket once the handshake is
	// done: their TCP receive window fills up.
	stalled bool
	// via dials this address (a proxy) instead of the app's.
	via string
}

// dialPeer connects a client of generation g named name to the app's
// root namespace (unless opts.noConnect) and, unless stalled, waits for
// the connect answer.
func (a *faultApp) dialPeer(g generation, name string, opts peerOptions) *peer {
	t := a.t
	t.Helper()
	host := strings.TrimPrefix(a.url, "http://")
	dialer := &websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	if opts.via != "" || opts.stalled {
		dialer.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if opts.via != "" {
				addr = opts.via
			}
			if opts.stalled {
				return dialSmallWindow(ctx, addr)
			}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
	}
	p := &peer{t: t, gen: g, name: name, in: make(chan inbound, 8192), beats: make(chan struct{}, 64), ended: make(chan struct{}), quit: make(chan struct{})}
	var u string
	if g.legacy() {
		status, body := get(t, a.url+"/socket.io/1/?t=1&name="+name)
		if status != http.StatusOK {
			t.Fatalf("%s: 0.9 handshake: %d %s", name, status, body)
		}
		p.sid, _, _ = strings.Cut(body, ":")
		u = "ws://" + host + "/socket.io/1/websocket/" + p.sid
	} else {
		u = "ws://" + host + "/socket.io/?EIO=" + g.eio + "&transport=websocket&name=" + name
	}
	conn, _, err := dialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	p.conn, p.opened = conn, time.Now()
	t.Cleanup(func() {
		close(p.quit)
		conn.Close()
		if !opts.stalled {
			<-p.ended
		}
	})

	var pingEvery time.Duration
	if !g.legacy() {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, open, err := conn.ReadMessage()
		if err != nil || len(open) == 0 || open[0] != '0' {
			t.Fatalf("%s: open packet %q, %v", name, open, err)
		}
		p.opened = time.Now()
		conn.SetReadDeadline(time.Time{})
		var o struct {
			SID          string `json:"sid"`
			PingInterval int    `json:"pingInterval"`
		}
		if err := json.Unmarshal(open[1:], &o); err != nil {
			t.Fatalf("%s: open packet %q: %v", name, open, err)
		}
		p.sid, pingEvery = o.SID, time.Duration(o.PingInterval)*time.Millisecond
		if g.eio == "4" && !opts.noConnect {
			p.write("40")
		}
	}
	if opts.stalled {
		close(p.ended)
		return p
	}
	go p.read(opts.silent)
	if g.eio == "3" && !opts.silent {
		go p.ping(pingEvery)
	}
	if !opts.noConnect {
		if got := p.next(5 * time.Second); got.kind != 'c' || got.nsp != "/" {
			t.Fatalf("%s: connect answer %+v", name, got)
		}
	}
	return p
}

// dialSmallWindow dials with a 4 kB receive buffer, so that a client
// that does not read fills its TCP window soon.
func dialSmallWindow(ctx context.Context, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c.(*net.TCPConn).SetReadBuffer(4096)
	return c, nil
}

func (p *peer) write(msg string) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	p.conn.WriteMessage(websocket.TextMessage, []byte(msg))
}

// ping sends an EIO3 ping every interval until the connection ends.
func (p *peer) ping(every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			p.write("2")
		case <-p.ended:
			return
		}
	}
}

// read is the peer's reader goroutine.
func (p *peer) read(silent bool) {
	for {
		_, data, err := p.conn.ReadMessage()
		if err != nil {
			p.endedAt = time.Now()
			close(p.ended)
			return
		}
		at := time.Now()
		msg := string(data)
		var in inbound
		var ok bool
		if p.gen.legacy() {
			if msg == "2::" {
				if !silent {
					p.write("2::")
					p.beat()
				}
				continue
			}
			in, ok = parseLegacy(msg)
		} else {
			switch {
			case msg == "2" && p.gen.eio == "4":
				if !silent {
					p.write("3")
					p.beat()
				}
				continue
			case msg == "3" && p.gen.eio == "3":
				p.beat()
				continue
			}
			in, ok = parseSocketIO(msg)
		}
		if !ok {
			continue // engine packets: pongs, noops
		}
		in.at = at
		select {
		case p.in <- in:
		case <-p.quit:
			return
		}
	}
}

func (p *peer) beat() {
	select {
	case p.beats <- struct{}{}:
	default:
	}
}

// awaitBeats waits for n heartbeat exchanges.
func (p *peer) awaitBeats(n int, within time.Duration) {
	p.t.Helper()
	deadline := time.After(within)
	for range n {
		select {
		case <-p.beats:
		case <-deadline:
			p.t.Fatalf("%s: fewer than %d heartbeats within %v", p.name, n, within)
		}
	}
}

// parseSocketIO reads an Engine.IO message frame carrying a Socket.IO
// packet: "4" + type + ["/nsp,"] + [id] + [JSON].
func parseSocketIO(msg string) (inbound, bool) {
	if len(msg) < 2 || msg[0] != '4' {
		return inbound{}, false
	}
	in := inbound{nsp: "/", id: -1}
	switch msg[1] {
	case '0':
		in.kind = 'c'
	case '1':
		in.kind = 'd'
	case '2':
		in.kind = 'e'
	case '3':
		in.kind = 'a'
	case '4':
		in.kind = 'x'
	default:
		return inbound{}, false
	}
	rest := msg[2:]
	if strings.HasPrefix(rest, "/") {
		nsp, after, _ := strings.Cut(rest, ",")
		in.nsp, rest = nsp, after
	}
	digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
	if digits > 0 {
		in.id, _ = strconv.ParseInt(rest[:digits], 10, 64)
		rest = rest[digits:]
	}
	if in.kind == 'e' || in.kind == 'a' {
		json.Unmarshal([]byte(rest), &in.args)
	}
	if in.kind == 'e' && len(in.args) > 0 {
		json.Unmarshal(in.args[0], &in.event)
		in.args = in.args[1:]
	}
	return in, true
}

// parseLegacy reads a socket.io 0.9 packet, "type:id[+]:endpoint[:data]".
func parseLegacy(msg string) (inbound, bool) {
	parts := strings.SplitN(msg, ":", 4)
	if len(parts) < 3 {
		return inbound{}, false
	}
	in := inbound{nsp: parts[2], id: -1}
	if in.nsp == "" {
		in.nsp = "/"
	}
	data := ""
	if len(parts) == 4 {
		data = parts[3]
	}
	if id := strings.TrimSuffix(parts[1], "+"); id != "" {
		in.id, _ = strconv.ParseInt(id, 10, 64)
	}
	switch parts[0] {
	case "0":
		in.kind = 'd'
	case "1":
		in.kind = 'c'
	case "5":
		in.kind = 'e'
		var ev struct {
			Name string            `json:"name"`
			Args []json.RawMessage `json:"args"`
		}
		json.Unmarshal([]byte(data), &ev)
		in.event, in.args = ev.Name, ev.Args
	case "6":
		in.kind = 'a'
		id, args, _ := strings.Cut(data, "+")
		in.id, _ = strconv.ParseInt(id, 10, 64)
		json.Unmarshal([]byte(args), &in.args)
	default:
		return inbound{}, false
	}
	return in, true
}

// emit sends an event to namespace nsp, asking for an ack when id >= 0.
func (p *peer) emit(nsp string, id int64, event string, args ...any) {
	p.t.Helper()
	if p.gen.legacy() {
		ev := struct {
			Name string `json:"name"`
			Args []any  `json:"args,omitempty"`
		}{event, args}
		ids := ""
		if id >= 0 {
			ids = strconv.FormatInt(id, 10) + "+"
		}
		p.write("5:" + ids + ":" + endpointOf(nsp) + ":" + mustJSON(p.t, ev))
		return
	}
	p.write("42" + nspPrefix(nsp) + idString(id) + mustJSON(p.t, append([]any{event}, args...)))
}

// ack answers the server's event id.
func (p *peer) ack(nsp string, id int64, args ...any) {
	p.t.Helper()
	if args == nil {
		args = []any{}
	}
	if p.gen.legacy() {
		p.write("6::" + endpointOf(nsp) + ":" + strconv.FormatInt(id, 10) + "+" + mustJSON(p.t, args))
		return
	}
	p.write("43" + nspPrefix(nsp) + strconv.FormatInt(id, 10) + mustJSON(p.t, args))
}

// join connects the peer to another namespace and waits for the answer.
func (p *peer) join(nsp string) {
	p.t.Helper()
	if p.gen.legacy() {
		p.write("1::" + nsp)
	} else {
		p.write("40" + nspPrefix(nsp))
	}
	if got := p.next(5 * time.Second); got.kind != 'c' || got.nsp != nsp {
		p.t.Fatalf("%s: connect answer for %s: %+v", p.name, nsp, got)
	}
}

func nspPrefix(nsp string) string {
	if nsp == "/" {
		return ""
	}
	return nsp + ","
}

func endpointOf(nsp string) string {
	if nsp == "/" {
		return ""
	}
	return nsp
}

func idString(id int64) string {
	if id < 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// next returns the next packet, failing the test when none comes within d.
func (p *peer) next(d time.Duration) inbound {
	p.t.Helper()
	in, err := p.nextErr(d)
	if err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	return in
}

func (p *peer) nextErr(d time.Duration) (inbound, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case in := <-p.in:
		return in, nil
	case <-p.ended:
		select {
		case in := <-p.in:
			return in, nil
		default:
		}
		return inbound{}, errors.New("connection ended")
	case <-timer.C:
		return inbound{}, fmt.Errorf("nothing within %v", d)
	}
}

// expectAck waits for the ack id in nsp and returns its arguments as
// JSON text.
func (p *peer) expectAck(nsp string, id int64, d time.Duration) string {
	p.t.Helper()
	args, err := p.awaitAck(nsp, id, d)
	if err != nil {
		p.t.Fatal(err)
	}
	return args
}

// awaitAck is expectAck for any goroutine: it returns an error instead
// of failing the test.
func (p *peer) awaitAck(nsp string, id int64, d time.Duration) (string, error) {
	in, err := p.nextErr(d)
	if err != nil {
		return "", fmt.Errorf("%s: waiting for the ack %d in %s: %w", p.name, id, nsp, err)
	}
	if in.kind != 'a' || in.nsp != nsp || in.id != id {
		return "", fmt.Errorf("%s: got %+v, want the ack %d in %s", p.name, in, id, nsp)
	}
	args, err := json.Marshal(in.args)
	return string(args), err
}

// expectTick waits for the event "tick" whose first argument is i.
func (p *peer) expectTick(i int, d time.Duration) inbound {
	p.t.Helper()
	in := p.next(d)
	var n int
	if in.kind != 'e' || in.event != "tick" || len(in.args) == 0 || json.Unmarshal(in.args[0], &n) != nil || n != i {
		p.t.Fatalf("%s: got %+v, want tick %d", p.name, in, i)
	}
	return in
}

// awaitEnd waits for the server to end the connection.
func (p *peer) awaitEnd(d time.Duration) bool {
	select {
	case <-p.ended:
		return true
	case <-time.After(d):
		return false
	}
}

// pollingClient is a raw Engine.IO or 0.9 long-polling client.
type pollingClient struct {
	t    *testing.T
	gen  generation
	base string // the session's polling URL, without the cache buster
	sid  string
	// opened is when the handshake (Engine.IO) or the first poll (0.9)
	// was answered.
	opened time.Time
}

// dialPolling opens a polling session named name: the Engine.IO
// handshake and, on EIO4 when connect is set, a CONNECT for "/"; on 0.9
// the handshake and the first poll, which opens the session.
func (a *faultApp) dialPolling(g generation, name string, connect bool) *pollingClient {
	t := a.t
	t.Helper()
	c := &pollingClient{t: t, gen: g}
	if g.legacy() {
		status, body := get(t, a.url+"/socket.io/1/?t=1&name="+name)
		if status != http.StatusOK {
			t.Fatalf("%s: 0.9 handshake: %d %s", name, status, body)
		}
		c.sid, _, _ = strings.Cut(body, ":")
		c.base = a.url + "/socket.io/1/xhr-polling/" + c.sid
		if got, err := c.poll(); err != nil || got != "1::" {
			t.Fatalf("%s: first 0.9 poll %q, %v", name, got, err)
		}
		c.opened = time.Now()
		return c
	}
	status, body := get(t, a.url+"/socket.io/?EIO="+g.eio+"&transport=polling&name="+name)
	if status != http.StatusOK {
		t.Fatalf("%s: handshake: %d %s", name, status, body)
	}
	c.opened = time.Now()
	// The open packet, "0{…}", may come with a length prefix (EIO3) and
	// other packets after it: decode the one object.
	_, open, _ := strings.Cut(body, "0{")
	var o struct {
		SID string `json:"sid"`
	}
	if err := json.NewDecoder(strings.NewReader("{" + open)).Decode(&o); err != nil {
		t.Fatalf("%s: open packet %q: %v", name, body, err)
	}
	c.sid = o.SID
	c.base = a.url + "/socket.io/?EIO=" + g.eio + "&transport=polling&sid=" + c.sid
	if g.eio == "4" && connect {
		if status, body := post(t, c.base, "40"); status != http.StatusOK {
			t.Fatalf("%s: CONNECT: %d %s", name, status, body)
		}
	}
	return c
}

// stallPoll sends a poll request over a raw TCP connection with a small
// receive buffer and stops reading the response after its first bytes,
// once the server has begun writing it.
func (c *pollingClient) stallPoll() {
	c.t.Helper()
	u, err := url.Parse(c.base)
	if err != nil {
		c.t.Fatal(err)
	}
	conn, err := dialSmallWindow(context.Background(), u.Host)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", u.RequestURI(), u.Host)
	status := make([]byte, len("HTTP/1.1 200"))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(conn, status); err != nil || string(status) != "HTTP/1.1 200" {
		c.t.Fatalf("poll answered %q, %v", status, err)
	}
}

// poll makes one long-polling GET and returns its body.
func (c *pollingClient) poll() (string, error) {
	res, err := http.Get(c.base)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), err
}
