package expressio

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/expressio-go/expressio/protocol/socketio"
)

// Socket is one client in one namespace, whatever its protocol
// generation: express.io's req.socket, socket.io's Socket. Writes go
// through its connection's single bounded queue and never wait on the
// client.
//
// All methods are safe for concurrent use.
type Socket struct {
	id     string
	ns     *Namespace
	conn   conn
	hs     *Handshake
	ctx    context.Context    // made by Context; guarded by mu
	cancel context.CancelFunc // guarded by mu

	mu           sync.Mutex
	rooms        map[string]struct{} // joined rooms, not its own; nil until the first Join
	disconnected bool
	acks         map[int64]func(p Payload, ok bool) // ok is false when the socket disconnected
	work         []func()                           // events and hooks waiting for the worker
	working      bool
	wake         chan struct{} // wakes a lingering worker; nil when none lingers
	values       map[string]any
}

// Set stores a value on the socket for later events to read (socket.io's
// socket.data; go-socket.io's SetContext).
func (s *Socket) Set(key string, value any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = make(map[string]any)
	}
	s.values[key] = value
}

// Get returns a value stored with Set.
func (s *Socket) Get(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	return v, ok
}

func newSocket(ns *Namespace, c conn, hs *Handshake) (*Socket, error) {
	id, err := c.socketID(ns.name)
	if err != nil {
		return nil, err
	}
	return &Socket{id: id, ns: ns, conn: c, hs: hs}, nil
}

// ID returns the socket id (socket.io's socket.id).
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Handshake returns how the socket connected.
func (s *Socket) Handshake() *Handshake { return s.hs }

// Context returns a context cancelled when the socket disconnects.
func (s *Socket) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Made on first use, so that an idle socket has none. Not derived
	// from the connection's context: closing the connection disconnects
	// every socket, which cancels this.
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		if s.disconnected {
			s.cancel()
		}
	}
	return s.ctx
}

// Transport returns the connection's current transport.
func (s *Socket) Transport() string { return s.conn.transport() }

// Emit sends an event to this socket. []byte arguments, anywhere in the
// arguments, travel as binary attachments. When the last argument is an
// AckCallback (see OnAck), the client is asked for an acknowledgement and
// the callback gets it, or an error after its timeout.
func (s *Socket) Emit(event string, args ...any) error {
	if n := len(args); n > 0 {
		if cb, ok := args[n-1].(AckCallback); ok {
			wait, err := s.emitAck(event, args[:n-1])
			if err != nil {
				return err
			}
			s.ns.srv.workers.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), cb.timeout)
				defer cancel()
				p, err := wait(ctx)
				runRecovered(s.ns.srv.log, "ack callback of "+event, func() { cb.fn(p, err) })
			})
			return nil
		}
	}
	f, err := eventFrame(s.ns.name, socketio.NoID, event, args)
	if err != nil {
		return err
	}
	return s.conn.send(f)
}

// AckCallback asks for an acknowledgement of an Emit; make one with OnAck.
type AckCallback struct {
	timeout time.Duration
	fn      func(Payload, error)
}

// OnAck makes the last argument of an Emit that asks the client for an
// acknowledgement: fn gets the client's ack arguments, or ErrAckTimeout
// when none came within timeout, or ErrDisconnected. It runs on a
// goroutine of its own. express.io HEAD's req.io.emit(ev, msg, cb).
func OnAck(timeout time.Duration, fn func(ack Payload, err error)) AckCallback {
	return AckCallback{timeout: timeout, fn: fn}
}

// EmitWithAck sends an event and waits for the client's acknowledgement,
// until ctx ends (ErrAckTimeout wraps ctx's error then) or the socket
// disconnects (ErrDisconnected). A route handler calling it holds up its
// socket's next events until the ack comes; OnAck does not.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Payload, error) {
	wait, err := s.emitAck(event, args)
	if err != nil {
		return Payload{}, err
	}
	return wait(ctx)
}

// emitAck sends an event with an ack id and returns the wait for its ack.
func (s *Socket) emitAck(event string, args []any) (func(context.Context) (Payload, error), error) {
	id := s.ns.nextAckID()
	ch := make(chan Payload, 1)
	if !s.expectAck(id, func(p Payload, ok bool) {
		if ok {
			ch <- p
		} else {
			close(ch)
		}
	}) {
		return nil, ErrDisconnected
	}
	forget := func() {
		s.mu.Lock()
		delete(s.acks, id)
		s.mu.Unlock()
	}
	f, err := eventFrame(s.ns.name, id, event, args)
	if err == nil {
		err = s.conn.send(f)
	}
	if err != nil {
		forget()
		return nil, err
	}
	return func(ctx context.Context) (Payload, error) {
		select {
		case p, ok := <-ch:
			if !ok {
				return Payload{}, ErrDisconnected
			}
			return p, nil
		case <-ctx.Done():
			forget()
			return Payload{}, fmt.Errorf("%w: %w", ErrAckTimeout, ctx.Err())
		case <-s.Context().Done():
			forget()
			return Payload{}, ErrDisconnected
		}
	}, nil
}

// expectAck registers the callback of ack id; it reports false, having
// registered nothing, when the socket has disconnected. fn runs once:
// with the client's acknowledgement, or with ok false at disconnect.
func (s *Socket) expectAck(id int64, fn func(p Payload, ok bool)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.disconnected {
		return false
	}
	if s.acks == nil {
		s.acks = make(map[int64]func(Payload, bool))
	}
	s.acks[id] = fn
	return true
}

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) {
	s.mu.Lock()
	if s.disconnected {
		s.mu.Unlock()
		return
	}
	if s.rooms == nil && len(rooms) > 0 {
		s.rooms = make(map[string]struct{}, len(rooms))
	}
	for _, r := range rooms {
		s.rooms[r] = struct{}{}
	}
	s.mu.Unlock()
	s.ns.Adapter().AddAll(s, rooms...)
}

// Leave removes the socket from rooms.
func (s *Socket) Leave(rooms ...string) {
	s.mu.Lock()
	for _, r := range rooms {
		delete(s.rooms, r)
	}
	s.mu.Unlock()
	a := s.ns.Adapter()
	for _, r := range rooms {
		a.Del(s, r)
	}
}

// Rooms returns the rooms the socket has joined (not its own id room).
func (s *Socket) Rooms() []string { return s.roomList() }

func (s *Socket) roomList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.rooms))
	for r := range s.rooms {
		out = append(out, r)
	}
	return out
}

// Disconnect disconnects the socket from its namespace; the client sees
// "io server disconnect". With closeConn the whole connection closes too.
func (s *Socket) Disconnect(closeConn bool) {
	s.disconnect(ReasonServerDisconnect, true)
	if closeConn {
		s.conn.close()
	}
}

// Broadcast sends an event to every other socket of the namespace (the
// sender excluded): socket.io's socket.broadcast.emit.
func (s *Socket) Broadcast(event string, args ...any) error {
	return s.ns.Except(s.id).Broadcast(event, args...)
}

// connected runs the namespace's connect hooks for a new socket, before
// any of its events.
func (s *Socket) connected() {
	for _, fn := range s.ns.connectHooks() {
		s.enqueue(func() { fn(s) }, true)
	}
}

// disconnect ends the socket once: it leaves every room, fails pending
// acks, tells the client when notify is set, and runs the disconnect
// route with the reason after the events already queued.
func (s *Socket) disconnect(reason string, notify bool) {
	s.mu.Lock()
	if s.disconnected {
		s.mu.Unlock()
		return
	}
	s.disconnected = true
	acks := s.acks
	s.acks = nil
	s.wakeWorkerLocked()
	cancel := s.cancel
	s.mu.Unlock()
	for _, fn := range acks {
		fn(Payload{}, false)
	}
	s.ns.removeSocket(s)
	s.conn.removeSocket(s)
	if notify {
		s.conn.sendDisconnect(s.ns.name)
	}
	if cancel != nil {
		cancel()
	}
	if h := s.ns.route(routeDisconnect); h != nil {
		data, _ := jsonString(reason)
		req := newSocketRequest(s, routeDisconnect, socketio.Packet{ID: socketio.NoID}, Payload{Args: []rawJSON{data}})
		s.enqueue(func() { s.serve(h, req) }, true)
	}
}

// onEvent queues an incoming event for its route.
func (s *Socket) onEvent(p *socketio.Packet) {
	name, args, err := socketio.SplitEvent(p.Data)
	if err != nil {
		s.conn.violation("bad event", err)
		return
	}
	req := newSocketRequest(s, name, *p, Payload{Args: args, Attachments: p.Attachments})
	if !s.enqueue(func() { s.dispatch(req) }, false) {
		s.ns.srv.log.Warn("expressio: event queue full, disconnecting", "socket_id", s.id, "nsp", s.ns.name)
		s.disconnect(ReasonQueueOverflow, true)
		s.conn.close()
	}
}

// onAck delivers a client's acknowledgement to the emit waiting for it.
func (s *Socket) onAck(p *socketio.Packet) {
	s.mu.Lock()
	fn := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if fn == nil {
		return
	}
	var args []rawJSON
	if len(p.Data) > 0 {
		if err := json.Unmarshal(p.Data, &args); err != nil {
			args = nil
		}
	}
	fn(Payload{Args: args, Attachments: p.Attachments}, true)
}

// enqueue adds work for the socket's worker, which runs events and hooks
// one at a time in order and exists only while there is work. Internal
// work (hooks, the disconnect route) is never refused.
func (s *Socket) enqueue(fn func(), internal bool) bool {
	s.mu.Lock()
	if !internal && (s.disconnected || len(s.work) >= s.ns.srv.opts.EventQueueSize) {
		refused := !s.disconnected
		s.mu.Unlock()
		return !refused
	}
	s.work = append(s.work, fn)
	if s.working {
		s.wakeWorkerLocked()
		s.mu.Unlock()
		return true
	}
	s.working = true
	s.mu.Unlock()
	s.ns.srv.workers.Go(s.runWork)
	return true
}

// workerLinger is how long a socket's worker waits for more work before
// it ends. A socket that keeps sending events keeps its worker, whose
// stack has grown to what its routes need, instead of starting one per
// event and growing its stack again each time; an idle socket has none.
const workerLinger = 100 * time.Millisecond

// wakeWorkerLocked tells a lingering worker that there is work, or that
// the socket disconnected; s.mu is held.
func (s *Socket) wakeWorkerLocked() {
	if s.wake != nil {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *Socket) runWork() {
	var linger *time.Timer
	defer func() {
		if linger != nil {
			linger.Stop()
		}
	}()
	lingered := false
	for {
		s.mu.Lock()
		if len(s.work) == 0 {
			if lingered || s.disconnected {
				s.working = false
				s.work = nil
				s.wake = nil
				s.mu.Unlock()
				return
			}
			if s.wake == nil {
				s.wake = make(chan struct{}, 1)
			}
			wake := s.wake
			s.mu.Unlock()
			if linger == nil {
				linger = time.NewTimer(workerLinger)
			} else {
				linger.Reset(workerLinger)
			}
			select {
			case <-wake:
				linger.Stop()
			case <-linger.C:
				lingered = true
			}
			continue
		}
		lingered = false
		fn := s.work[0]
		s.work[0] = nil
		s.work = s.work[1:]
		s.mu.Unlock()
		// Routes recover their own panics to answer the ack; this catches
		// the rest (hooks), so that no user code can end the process.
		runRecovered(s.ns.srv.log, "socket work", fn)
	}
}

// dispatch runs the route of an event; unknown and blacklisted events
// are ignored.
func (s *Socket) dispatch(req *SocketRequest) {
	if s.ns.srv.blacklisted(req.Event) {
		return
	}
	h := s.ns.route(req.Event)
	if h != nil && req.Session != nil && s.ns.srv.reloadEachEvent() {
		if err := req.Session.Reload(); err != nil {
			s.ns.srv.log.Warn("expressio: session reload failed", "err", err, "socket_id", s.id)
		}
	}
	if h == nil {
		s.ns.srv.log.Debug("expressio: no route for event", "event", req.Event, "socket_id", s.id, "nsp", s.ns.name)
		return
	}
	s.serve(h, req)
}

// serve runs one handler, recovering a panic: it is logged with its
// stack and ends only that request; a client waiting for an ack gets an
// error object.
func (s *Socket) serve(h HandlerFunc, req *SocketRequest) {
	defer func() {
		if v := recover(); v != nil {
			s.ns.srv.log.Error("expressio: route panicked", "event", req.Event, "socket_id", s.id,
				"nsp", s.ns.name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			req.IO.Respond(map[string]string{"error": "internal server error"})
		}
	}()
	h(req)
}
