package expressio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expressio-go/expressio/expressio"
)

// This file holds the fault suite's (faults_test.go) harness: a real App
// on a TCP listener whose logs and disconnects the tests read, a meter of
// the process's own pauses, and a proxy that stalls a connection.

// faultApp is an expressio App served over TCP on loopback, with the
// 0.9 protocol on. Every root socket joins room "r" and a room named
// after its client on connect, and the root namespace's disconnects are
// recorded by client name: the "name" query parameter of the handshake.
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
