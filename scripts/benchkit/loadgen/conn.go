package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

var (
	errEngineClose = errors.New("loadgen: server closed the engine session")

	framePing    = []byte("2")
	framePong    = []byte("3")
	frameConnect = []byte("40")
)

// defaultPingInterval is used when the open packet has none.
const defaultPingInterval = 25 * time.Second

// conn is one Engine.IO session over WebSocket, joined to the root
// namespace. gorilla/websocket opens it; the epoll engine may then take
// its socket over (raw). One goroutine reads; write and close may be
// called from any goroutine.
type conn struct {
	ws           *websocket.Conn
	id           int
	eio          int
	pingInterval time.Duration

	rec  *recConn // the handshake's bytes, until takeover
	msgs int      // data messages read through gorilla
	rbuf []byte

	wmu  sync.Mutex
	raw  bool // the epoll engine owns the socket: fd, wbuf
	fd   int  // -1 once closed
	wbuf []byte

	nextPing time.Time // pinger only
}

// write sends one text frame.
func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	var err error
	if c.raw {
		err = c.rawWriteLocked(opText, b)
	} else {
		err = c.ws.WriteMessage(websocket.TextMessage, b)
	}
	c.wmu.Unlock()
	return err
}

// close sends a close frame, briefly, and closes the connection.
func (c *conn) close() {
	c.wmu.Lock()
	raw := c.raw
	if raw {
		c.rawCloseLocked()
	}
	c.wmu.Unlock()
	if !raw {
		c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(100*time.Millisecond))
		c.ws.Close()
	}
}

// recConn records what a connection reads while on is set: the epoll
// engine needs what gorilla/websocket buffered but did not hand over.
type recConn struct {
	net.Conn
	on  bool
	rec []byte
}

func (r *recConn) Read(b []byte) (int, error) {
	n, err := r.Conn.Read(b)
	if r.on {
		r.rec = append(r.rec, b[:n]...)
	}
	return n, err
}

// readMessage returns the next text message, in a buffer reused by the
// next call.
func (c *conn) readMessage() ([]byte, error) {
	for {
		mt, r, err := c.ws.NextReader()
		if err != nil {
			return nil, err
		}
		b := c.rbuf[:0]
		for {
			if len(b) == cap(b) {
				b = slices.Grow(b, 512)
			}
			n, err := r.Read(b[len(b):cap(b)])
			b = b[:len(b)+n]
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
		}
		c.rbuf = b
		c.msgs++
		if mt == websocket.TextMessage {
			return b, nil
		}
	}
}

// next returns the next Socket.IO packet (the Engine.IO message without
// its type), valid until the next call. It answers the server's pings and
// skips pongs and noops.
func (c *conn) next() ([]byte, error) {
	for {
		b, err := c.readMessage()
		if err != nil {
			return nil, err
		}
		p, ok, err := c.onMessage(b)
		if err != nil || ok {
			return p, err
		}
	}
}

// onMessage handles one Engine.IO message: it returns the Socket.IO packet
// of a message packet (ok), answers pings and skips the rest.
func (c *conn) onMessage(b []byte) (p []byte, ok bool, err error) {
	if len(b) == 0 {
		return nil, false, nil
	}
	switch b[0] {
	case '4':
		return b[1:], true, nil
	case '2':
		pong := framePong
		if len(b) > 1 {
			pong = append([]byte{'3'}, b[1:]...)
		}
		return nil, false, c.write(pong)
	case '3', '6', '0':
		return nil, false, nil
	case '1':
		return nil, false, errEngineClose
	}
	return nil, false, fmt.Errorf("loadgen: unexpected engine packet %q", truncate(b))
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}

// eioMode says which protocol revision each connection speaks.
type eioMode string

const (
	eio4     eioMode = "4"
	eio3     eioMode = "3"
	eioMixed eioMode = "mixed"
)

func (m eioMode) of(i int) int {
	switch m {
	case eio3:
		return 3
	case eioMixed:
		if i%2 == 1 {
			return 3
		}
	}
	return 4
}

// engine dials connections.
type engine struct {
	urls           [5]string // by revision: 3 and 4
	dialers        []*websocket.Dialer
	mode           eioMode
	connectTimeout time.Duration
}

// bufPool is a websocket.BufferPool: idle connections hold no write
// buffer.
type bufPool struct{ p sync.Pool }

func (b *bufPool) Get() any  { return b.p.Get() }
func (b *bufPool) Put(x any) { b.p.Put(x) }

// newEngine prepares the dialers. Connection i dials from source address
// i mod len(sourceIPs). small trades speed for memory per connection.
func newEngine(rawURL, path string, mode eioMode, sourceIPs []net.IP, connectTimeout time.Duration, small bool) (*engine, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("-url: %w", err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("-url: scheme %q, want http or ws", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("-url %q: no host", rawURL)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = path
	}
	e := &engine{mode: mode, connectTimeout: connectTimeout}
	for _, rev := range []int{3, 4} {
		q := u.Query()
		q.Set("EIO", strconv.Itoa(rev))
		q.Set("transport", "websocket")
		v := *u
		v.RawQuery = q.Encode()
		e.urls[rev] = v.String()
	}

	readBuf, writeBuf := 4096, 4096
	var pool websocket.BufferPool
	if small {
		readBuf, writeBuf = 512, 1024
		pool = &bufPool{}
	}
	mk := func(local net.Addr) *websocket.Dialer {
		nd := &net.Dialer{Timeout: connectTimeout, LocalAddr: local}
		if local != nil {
			nd.Control = bindNoPort
		}
		return &websocket.Dialer{
			NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := nd.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &recConn{Conn: c, on: true}, nil
			},
			HandshakeTimeout: connectTimeout,
			ReadBufferSize:   readBuf,
			WriteBufferSize:  writeBuf,
			WriteBufferPool:  pool,
		}
	}
	if len(sourceIPs) == 0 {
		e.dialers = []*websocket.Dialer{mk(nil)}
	}
	for _, ip := range sourceIPs {
		e.dialers = append(e.dialers, mk(&net.TCPAddr{IP: ip}))
	}
	return e, nil
}

// dial opens connection i and joins the root namespace. keep keeps the
// handshake's bytes for a takeover by the epoll engine.
func (e *engine) dial(ctx context.Context, i int, keep bool) (_ *conn, err error) {
	rev := e.mode.of(i)
	defer func() {
		if err != nil {
			err = fmt.Errorf("eio%d: %w", rev, err)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, e.connectTimeout)
	defer cancel()
	ws, resp, err := e.dialers[i%len(e.dialers)].DialContext(ctx, e.urls[rev], nil)
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { ws.NetConn().Close() })
	c := &conn{ws: ws, id: i, eio: rev, pingInterval: defaultPingInterval, fd: -1}
	c.rec, _ = ws.NetConn().(*recConn)
	err = c.handshake()
	if !stop() && err != nil {
		err = fmt.Errorf("%w: %w", err, ctx.Err())
	}
	if err != nil {
		ws.Close()
		return nil, err
	}
	if !keep && c.rec != nil {
		c.rec.on, c.rec.rec, c.rec = false, nil, nil
	}
	return c, nil
}

// handshake reads the open packet, sends the namespace connect in
// revision 4, and waits for the server's connect.
func (c *conn) handshake() error {
	b, err := c.readMessage()
	if err != nil {
		return fmt.Errorf("read open packet: %w", err)
	}
	if len(b) == 0 || b[0] != '0' {
		return fmt.Errorf("want an open packet, got %q", truncate(b))
	}
	if v, ok := jsonInt(b[1:], keyPingInterval); ok && v > 0 {
		c.pingInterval = time.Duration(v) * time.Millisecond
	}
	if c.eio == 4 {
		if err := c.write(frameConnect); err != nil {
			return fmt.Errorf("send connect: %w", err)
		}
	}
	for {
		p, err := c.next()
		if err != nil {
			return fmt.Errorf("wait for connect: %w", err)
		}
		switch {
		case len(p) > 0 && p[0] == '0':
			return nil
		case len(p) > 0 && p[0] == '4':
			return fmt.Errorf("connect error: %s", truncate(p[1:]))
		}
	}
}

// pinger sends revision 3 connections their pings, every pingInterval, from
// one goroutine. Methods are safe for concurrent use.
type pinger struct {
	mu    sync.Mutex
	conns []*conn
	tick  time.Duration // an eighth of the shortest pingInterval, 10ms to 1s
}

func (p *pinger) add(c *conn) {
	if c.eio != 3 {
		return
	}
	p.mu.Lock()
	// A little early, so that the tick's granularity never makes it late.
	c.nextPing = time.Now().Add(c.pingInterval * 3 / 4)
	p.conns = append(p.conns, c)
	tick := min(max(c.pingInterval/8, 10*time.Millisecond), time.Second)
	if p.tick == 0 || tick < p.tick {
		p.tick = tick
	}
	p.mu.Unlock()
}

// run pings until ctx ends.
func (p *pinger) run(ctx context.Context) {
	t := time.NewTimer(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		conns, tick := p.conns, p.tick
		p.mu.Unlock()
		if tick == 0 {
			tick = 10 * time.Millisecond
		}
		t.Reset(tick)
		now := time.Now()
		for _, c := range conns {
			if ctx.Err() != nil {
				return
			}
			if now.Before(c.nextPing) {
				continue
			}
			c.nextPing = now.Add(c.pingInterval * 3 / 4)
			c.write(framePing) // a dead connection's reader reports it
		}
	}
}

// closeAll closes every non-nil connection, from a few goroutines.
func closeAll(conns []*conn) {
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(conns); i += workers {
				if conns[i] != nil {
					conns[i].close()
				}
			}
		})
	}
	wg.Wait()
}

// A packetFunc handles one Socket.IO packet of a connection, valid during
// the call. It returns false to stop reading the connection. A nil
// packetFunc ignores packets (an idle connection still answers pings).
type packetFunc func(p []byte) bool

// readEngine reads connections and hands their packets to their
// packetFunc, and read errors to the onErr it was made with.
type readEngine interface {
	// add starts reading c, from start on; it may be called concurrently,
	// before and after start.
	add(c *conn, h packetFunc) error
	start()
	// stop stops reading; call it before closing the connections.
	stop()
	// wait waits for the readers to end; call it after closing them.
	wait()
	// keep reports whether connections must keep their handshake bytes.
	keep() bool
}

// newReadEngine returns the engine of that name: goroutine (one reader
// goroutine per connection, through gorilla/websocket) or epoll (one
// goroutine for all, on the raw sockets; Linux only, else goroutine).
func newReadEngine(name string, onErr func(*conn, error), log *slog.Logger) readEngine {
	if name == "epoll" {
		e, err := newEpollEngine(onErr)
		if err == nil {
			return e
		}
		log.Warn("falling back to the goroutine engine", "err", err)
	}
	return &goEngine{onErr: onErr}
}

// goEngine reads each connection from its own goroutine.
type goEngine struct {
	wg    sync.WaitGroup
	onErr func(*conn, error)
}

func (g *goEngine) add(c *conn, h packetFunc) error {
	g.wg.Go(func() {
		for {
			p, err := c.next()
			if err != nil {
				g.onErr(c, err)
				return
			}
			if h != nil && !h(p) {
				return
			}
		}
	})
	return nil
}

func (g *goEngine) start()     {}
func (g *goEngine) stop()      {}
func (g *goEngine) wait()      { g.wg.Wait() }
func (g *goEngine) keep() bool { return false }
