package expressio

import (
	"fmt"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/expressio-go/expressio/protocol/socketio"
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
	adapter *memoryAdapter

	mu         sync.RWMutex
	routes     map[string]HandlerFunc
	middleware []Middleware
	onConnect  []func(*Socket)
}

func newNamespace(srv *Server, name string) *Namespace {
	return &Namespace{srv: srv, name: name, adapter: newMemoryAdapter(), routes: make(map[string]HandlerFunc)}
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

// Broadcast sends an event to every socket of the namespace, with all
// its arguments: express.io's app.io.broadcast.
func (n *Namespace) Broadcast(event string, args ...any) error {
	f, err := eventFrame(n.name, socketio.NoID, event, args)
	if err != nil {
		return err
	}
	n.adapter.broadcast(f, nil, nil)
	return nil
}

// Room selects the members of a room: express.io's app.io.room(r).
func (n *Namespace) Room(room string) *Room { return &Room{ns: n, room: room} }

// Socket returns a connected socket of the namespace by id, or nil.
func (n *Namespace) Socket(id string) *Socket { return n.adapter.socket(id) }

// Sockets returns the sockets connected to the namespace.
func (n *Namespace) Sockets() []*Socket { return n.adapter.all() }

// Room is a room of a namespace, seen from the server or from one
// socket's request.
type Room struct {
	ns     *Namespace
	room   string
	except *Socket
}

// Broadcast sends an event to every member of the room (but the sender,
// when the room was selected from a request). Every argument is sent.
func (r *Room) Broadcast(event string, args ...any) error {
	f, err := eventFrame(r.ns.name, socketio.NoID, event, args)
	if err != nil {
		return err
	}
	r.ns.adapter.broadcast(f, []string{r.room}, r.except)
	return nil
}

// Sockets returns the members of the room (every socket of the namespace
// that joined it, or whose id it is).
func (r *Room) Sockets() []*Socket { return r.ns.adapter.members(r.room) }

// Len returns the number of members of the room.
func (r *Room) Len() int { return len(r.ns.adapter.members(r.room)) }

// Clear makes every member leave the room.
func (r *Room) Clear() {
	for _, s := range r.ns.adapter.members(r.room) {
		s.Leave(r.room)
	}
}

// Rooms returns the names of the rooms of the namespace that sockets
// joined (not the rooms named after socket ids).
func (n *Namespace) Rooms() []string { return n.adapter.roomNames() }
