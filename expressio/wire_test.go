package expressio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/expressio"
)

// This file holds the raw wire clients of the fault suite (faults_test.go):
// one client type speaking the three generations the server serves,
// Engine.IO 3 and 4 (Socket.IO v4 and v5) and socket.io 0.9, written
// from the wire formats so that the suite stays black-box, and a real App
// on a TCP listener whose logs and disconnects the tests read.

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

// faultApp is an expressio App served over TCP on loopback, with the
// 0.9 protocol on. Every root socket joins room "r" and a room named
// after the client on connect, and the
// disconnects of the root namespace are recorded by client name: the
// "name" query parameter of the handshake.
type faultApp struct {
	t    *testing.T
	app  *expressio.App
	io   *expressio.Server
	url  string // http://127.0.0.1:port
	logs *logRecorder
	gone *departures
	// joined receives the name of every client whose root socket
	// connected and joined "r".
	joined chan string

	// pauses measures the machine's own stalls, to tell them from
	// delays the server causes.
	pauses *pauseMeter

	served      chan error // what Serve returned
	shutdown1   sync.Once
	shutdownErr error
}

// serverSendBuffer is the send buffer of the app's connections (Linux
// doubles it for its bookkeeping).
const serverSendBuffer = 64 << 10

// smallSendBuffers gives the connections it accepts a small fixed send
// buffer, instead of the megabytes Linux autotunes to: a test then fills
// the buffer of a client that does not read with little data.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(serverSendBuffer)
	}
	return c, err
}

// newFaultApp serves an App whose server has opts (its Logger replaced by
// a recorder) and shuts it down after the test, failing when Shutdown
// does not complete.
func newFaultApp(t *testing.T, opts expressio.Options) *faultApp {
	t.Helper()
	logs := &logRecorder{changed: make(chan struct{}, 1)}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Legacy.Enabled = true
	app := expressio.New()
	app.IO = expressio.NewServer(&opts)
	a := &faultApp{t: t, app: app, io: app.IO, logs: logs, gone: newDepartures(), joined: make(chan string, 1024),
		pauses: startPauseMeter(t)}
	a.io.OnConnect(func(s *expressio.Socket) {
		name := s.Handshake().Query.Get("name")
		s.Join("r", name)
		a.joined <- name
	})
	a.io.Route("disconnect", func(req *expressio.SocketRequest) {
		var reason string
		if err := req.Bind(&reason); err != nil {
			panic(err)
		}
		a.gone.add(req.Socket.Handshake().Query.Get("name"), reason)
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln = smallSendBuffers{ln}
	a.served = make(chan error, 1)
	go func() { a.served <- app.Serve(ln) }()
	a.url = "http://" + ln.Addr().String()
	t.Cleanup(func() {
		if ran, err := a.shutdownOnce(5 * time.Second); ran && err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return a
}

// shutdown shuts the app down within d, unless it was already.
func (a *faultApp) shutdown(d time.Duration) error {
	_, err := a.shutdownOnce(d)
	return err
}

// shutdownOnce shuts the app down within d the first time it is called,
// reporting whether this call did.
func (a *faultApp) shutdownOnce(d time.Duration) (ran bool, err error) {
	a.shutdown1.Do(func() {
		ran = true
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		a.shutdownErr = a.app.Shutdown(ctx)
		if err := <-a.served; !errors.Is(err, http.ErrServerClosed) {
			a.shutdownErr = errors.Join(a.shutdownErr, fmt.Errorf("serve: %w", err))
		}
	})
	return ran, a.shutdownErr
}

// awaitJoined waits until every named client has joined "r".
func (a *faultApp) awaitJoined(names ...string) {
	a.t.Helper()
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	deadline := time.After(10 * time.Second)
	for len(want) > 0 {
		select {
		case n := <-a.joined:
			delete(want, n)
		case <-deadline:
			a.t.Fatalf("never joined: %v", want)
		}
	}
}

// pauseMeter measures the process's pauses: how late a goroutine that
// sleeps a millisecond at a time wakes up. Such pauses (a machine whose
// CPUs are busy with other work, the garbage collector under the race
// detector) delay every client and every timer alike; a server that
// makes one client wait for another does not cause them, since a
// goroutine that waits leaves the CPUs free. Timing assertions discount
// them, so that they hold on a loaded machine without hiding such waits.
type pauseMeter struct {
	mu   sync.Mutex
	gaps [][2]time.Time // spans the meter slept well past its time
	stop chan struct{}
	done chan struct{}
}

func startPauseMeter(t *testing.T) *pauseMeter {
	m := &pauseMeter{stop: make(chan struct{}), done: make(chan struct{})}
	go m.run()
	t.Cleanup(func() {
		close(m.stop)
		<-m.done
	})
	return m
}

func (m *pauseMeter) run() {
	defer close(m.done)
	const period = time.Millisecond
	prev := time.Now()
	for {
		select {
		case <-m.stop:
			return
		case <-time.After(period):
		}
		now := time.Now()
		if now.Sub(prev) > period+2*time.Millisecond {
			m.mu.Lock()
			m.gaps = append(m.gaps, [2]time.Time{prev.Add(period), now})
			m.mu.Unlock()
		}
		prev = now
	}
}

// within returns how long the process was paused between from and to.
func (m *pauseMeter) within(from, to time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	var total time.Duration
	for _, g := range m.gaps {
		start, end := max(g[0].UnixNano(), from.UnixNano()), min(g[1].UnixNano(), to.UnixNano())
		if end > start {
			total += time.Duration(end - start)
		}
	}
	return total
}

// departures records the disconnect reason of each client by name.
type departures struct {
	mu      sync.Mutex
	reasons map[string]departure
	changed chan struct{}
}

type departure struct {
	reason string
	at     time.Time
}

func newDepartures() *departures {
	return &departures{reasons: make(map[string]departure), changed: make(chan struct{}, 1)}
}

func (d *departures) add(name, reason string) {
	d.mu.Lock()
	if _, dup := d.reasons[name]; !dup {
		d.reasons[name] = departure{reason, time.Now()}
	}
	d.mu.Unlock()
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

func (d *departures) get(name string) (departure, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.reasons[name]
	return v, ok
}

// await waits up to within for the named client's disconnect.
func (d *departures) await(t *testing.T, name string, within time.Duration) departure {
	t.Helper()
	deadline := time.After(within)
	for {
		if v, ok := d.get(name); ok {
			return v
		}
		select {
		case <-d.changed:
		case <-deadline:
			t.Fatalf("%s: no disconnect within %v", name, within)
		}
	}
}

// logRecorder collects what a text slog handler writes.
type logRecorder struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (l *logRecorder) Write(p []byte) (int, error) {
	l.mu.Lock()
	n, err := l.buf.Write(p)
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return n, err
}

// lines returns the lines holding every one of parts.
func (l *logRecorder) lines(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.buf.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all && line != "" {
			out = append(out, line)
		}
	}
	return out
}

// await waits for a line holding every one of parts and returns it.
func (l *logRecorder) await(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		if found := l.lines(parts...); len(found) > 0 {
			return found[0]
		}
		select {
		case <-l.changed:
		case <-deadline:
			t.Fatalf("no log line with %q", parts)
		}
	}
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

// stallProxy forwards one TCP connection to target until freeze, after
// which it forwards nothing in either direction and closes nothing: to
// the server, its peer has vanished without a FIN (half-open TCP).
type stallProxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	frozen      chan struct{} // closed by freeze
	drain       chan struct{} // closed by awaitServerClose
	quit        chan struct{} // closed at cleanup
	serverEnded chan struct{} // closed when the server's side reached its end
	endOnce     sync.Once
	wg          sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{t: t, ln: ln, target: target, frozen: make(chan struct{}), drain: make(chan struct{}),
		quit: make(chan struct{}), serverEnded: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		close(p.quit)
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *stallProxy) addr() string { return p.ln.Addr().String() }

// accept proxies the first connection made to the proxy.
func (p *stallProxy) accept() {
	defer p.wg.Done()
	client, err := p.ln.Accept()
	if err != nil {
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, client, server)
	p.mu.Unlock()
	p.wg.Add(2)
	go p.pipe(server, client, false)
	go p.pipe(client, server, true)
}

// pipe copies src to dst until freeze. The server's side is then held
// until awaitServerClose, which reads it to its end.
func (p *stallProxy) pipe(dst, src net.Conn, fromServer bool) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			if fromServer {
				p.endOnce.Do(func() { close(p.serverEnded) })
			}
			return
		}
		select {
		case <-p.frozen:
			if !fromServer {
				return
			}
			select {
			case <-p.drain:
			case <-p.quit:
				return
			}
			io.Copy(io.Discard, src)
			p.endOnce.Do(func() { close(p.serverEnded) })
			return
		default:
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

// freeze stops all forwarding, closing nothing.
func (p *stallProxy) freeze() { close(p.frozen) }

// awaitServerClose reads what the server sent since the freeze and
// reports whether it then closed its end of the connection within d.
func (p *stallProxy) awaitServerClose(d time.Duration) bool {
	close(p.drain)
	select {
	case <-p.serverEnded:
		return true
	case <-time.After(d):
		return false
	}
}
