package expressio

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
)

// A HandlerFunc serves one event of one socket: an express.io io route.
// Handlers of one socket run one at a time, in the order the events
// arrived; a panic is recovered and ends only that request.
type HandlerFunc func(req *SocketRequest)

// Routes is a nested route map: Route("customers", Routes{"create": h})
// answers the event "customers:create" (express.io's
// app.io.route(name, {key: fn})). One level only; nothing is registered
// under the bare name.
type Routes map[string]HandlerFunc

// Middleware runs at handshake, before a socket joins its namespace:
// express.io's app.io.use, socket.io's io.use. It may store values with
// h.Set for the routes to read. A non-nil error rejects the socket: a
// *ConnectError is sent as it is; any other error's text becomes the
// message.
type Middleware func(h *Handshake) error

// Names a route may not take: the events socket.io and express.io keep
// for themselves. "disconnect" is a server-side hook instead.
var reservedEvents = map[string]bool{
	"connect": true, "connecting": true, "connect_failed": true, "connect_error": true,
	"error": true, "disconnecting": true, "newListener": true, "removeListener": true,
	"reconnect": true, "reconnecting": true, "reconnect_failed": true,
	"reconnect_attempt": true, "reconnect_error": true,
}

const routeDisconnect = "disconnect"

// Namespace is one socket.io namespace, with its own routes, middleware
// and rooms: socket.io's Namespace (express.io routes only the root).
//
// All methods are safe for concurrent use.
type Namespace struct {
	srv     *Server
	name    string
	adapter atomic.Pointer[adapterRef]
	ackIDs  atomic.Int64 // ack ids, shared by every socket (as Node's nsp._ids)

	mu           sync.RWMutex
	routes       map[string]HandlerFunc
	middleware   []Middleware
	onConnect    []func(*Socket)
	serverEvents map[string]func(*ServerEvent)

	socketsMu sync.RWMutex
	sockets   map[string]*Socket // this server's sockets, by id
}

// adapterRef holds a namespace's adapter, which SetAdapter may replace.
type adapterRef struct{ Adapter }

func newNamespace(srv *Server, name string, factory AdapterFactory) *Namespace {
	n := &Namespace{srv: srv, name: name, routes: make(map[string]HandlerFunc), sockets: make(map[string]*Socket)}
	if factory == nil {
		n.setAdapter(NewMemoryAdapter(n))
	} else {
		n.setAdapter(factory(n))
	}
	return n
}

// Adapter returns the namespace's adapter.
func (n *Namespace) Adapter() Adapter { return n.adapter.Load().Adapter }

func (n *Namespace) setAdapter(a Adapter) Adapter {
	old := n.adapter.Swap(&adapterRef{a})
	if old == nil {
		return nil
	}
	return old.Adapter
}

// nextAckID returns a fresh ack id.
func (n *Namespace) nextAckID() int64 { return n.ackIDs.Add(1) - 1 }

// addSocket registers a socket that joined the namespace.
func (n *Namespace) addSocket(s *Socket) {
	n.socketsMu.Lock()
	n.sockets[s.id] = s
	n.socketsMu.Unlock()
	n.Adapter().AddAll(s, s.id)
}

// removeSocket forgets a socket that left the namespace.
func (n *Namespace) removeSocket(s *Socket) {
	n.Adapter().DelAll(s)
	n.socketsMu.Lock()
	if n.sockets[s.id] == s {
		delete(n.sockets, s.id)
	}
	n.socketsMu.Unlock()
}

// Socket returns a socket of this server connected to the namespace, by
// id, or nil.
func (n *Namespace) Socket(id string) *Socket {
	n.socketsMu.RLock()
	defer n.socketsMu.RUnlock()
	return n.sockets[id]
}

// Sockets returns the sockets of this server connected to the namespace.
func (n *Namespace) Sockets() []*Socket {
	n.socketsMu.RLock()
	defer n.socketsMu.RUnlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}

// Broadcast sends an event to every socket of the namespace, on every
// server of the cluster, with all its arguments: express.io's
// app.io.broadcast.
func (n *Namespace) Broadcast(event string, args ...any) error {
	return n.To().Broadcast(event, args...)
}

// BroadcastWithAck sends an event to every socket of the namespace and
// collects their acknowledgements; see Room.BroadcastWithAck.
func (n *Namespace) BroadcastWithAck(ctx context.Context, event string, args ...any) ([]Payload, error) {
	return n.To().BroadcastWithAck(ctx, event, args...)
}

// Room selects the members of a room: express.io's app.io.room(r).
func (n *Namespace) Room(room string) *Room { return n.To(room) }

// To selects the sockets in any of rooms, every socket of the namespace
// when there are none: socket.io's io.to(rooms). A socket id names the
// room of that one socket.
func (n *Namespace) To(rooms ...string) *Room {
	return &Room{ns: n, rooms: append([]string(nil), rooms...)}
}

// Except selects every socket of the namespace but those in any of rooms:
// socket.io's io.except(rooms).
func (n *Namespace) Except(rooms ...string) *Room { return n.To().Except(rooms...) }

// Local selects the sockets of this server only: socket.io's io.local.
func (n *Namespace) Local() *Room { return n.To().Local() }

// FetchSockets describes every socket of the namespace, on every server
// of the cluster: socket.io's io.fetchSockets().
func (n *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return n.To().FetchSockets(ctx)
}

// ServerCount returns the number of servers in the cluster (1 with the
// in-memory adapter).
func (n *Namespace) ServerCount(ctx context.Context) (int, error) {
	c, err := n.Adapter().ServerCount(ctx)
	if err != nil {
		return 0, fmt.Errorf("expressio: server count of %s: %w", n.name, err)
	}
	return c, nil
}

// Rooms returns the names of the rooms of the namespace that this
// server's sockets joined (not the rooms named after socket ids).
func (n *Namespace) Rooms() []string {
	all := n.Adapter().LocalRooms()
	out := all[:0]
	for _, r := range all {
		if n.Socket(r) == nil {
			out = append(out, r)
		}
	}
	return out
}

// AllRooms returns the names of the rooms of the namespace on every
// server of the cluster, the rooms named after socket ids included.
func (n *Namespace) AllRooms(ctx context.Context) ([]string, error) {
	rooms, err := n.Adapter().AllRooms(ctx)
	if err != nil {
		return nil, fmt.Errorf("expressio: rooms of %s: %w", n.name, err)
	}
	return rooms, nil
}

// Name returns the namespace's name, such as "/" or "/chat".
func (n *Namespace) Name() string { return n.name }

// Route registers the handler of an event: express.io's
// app.io.route(name, handler). h is a func(*SocketRequest), a HandlerFunc
// or a Routes map. Routes apply to sockets already connected too. The
// route "disconnect" runs when a socket disconnects, with the reason as
// Data; "message" answers the client's socket.send. Route panics on a
// reserved event name (connect, error, reconnect, ...) or a handler of
// another type: these are programming errors.
func (n *Namespace) Route(name string, h any) {
	switch h := h.(type) {
	case func(*SocketRequest):
		n.addRoute(name, h)
	case HandlerFunc:
		n.addRoute(name, h)
	case Routes:
		for key, fn := range h {
			n.addRoute(name+":"+key, fn)
		}
	default:
		panic(fmt.Sprintf("expressio: Route(%q): handler of type %T; want func(*SocketRequest), HandlerFunc or Routes", name, h))
	}
}

func (n *Namespace) addRoute(name string, h HandlerFunc) {
	if name == "" || reservedEvents[name] || strings.HasPrefix(name, "reconnect") {
		panic(fmt.Sprintf("expressio: Route(%q): reserved event name", name))
	}
	if h == nil {
		panic(fmt.Sprintf("expressio: Route(%q): nil handler", name))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.routes[name] = h
}

func (n *Namespace) route(name string) HandlerFunc {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.routes[name]
}

// Use adds handshake middleware; the chain runs in order and stops at
// the first error.
func (n *Namespace) Use(mw Middleware) {
	if mw == nil {
		panic("expressio: Use(nil)")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.middleware = append(n.middleware, mw)
}

func (n *Namespace) runMiddleware(h *Handshake) error {
	n.mu.RLock()
	chain := n.middleware
	n.mu.RUnlock()
	for _, mw := range chain {
		if err := runMiddleware(n.srv, mw, h); err != nil {
			return err
		}
	}
	return nil
}

// runMiddleware runs one middleware; a panic refuses the socket.
func runMiddleware(srv *Server, mw Middleware, h *Handshake) (err error) {
	defer func() {
		if v := recover(); v != nil {
			srv.log.Error("expressio: middleware panicked", "nsp", h.Namespace, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = &ConnectError{Message: "internal server error"}
		}
	}()
	return mw(h)
}

// OnConnect adds a hook run for every socket that joins the namespace,
// before its first event (socket.io's "connection" event; express.io
// users asked for it in its issues #71 and #82).
func (n *Namespace) OnConnect(fn func(*Socket)) {
	if fn == nil {
		panic("expressio: OnConnect(nil)")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.onConnect = append(n.onConnect, fn)
}

func (n *Namespace) connectHooks() []func(*Socket) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.onConnect
}
