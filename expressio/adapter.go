package expressio

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/expressio-go/expressio/protocol/socketio"
)

// An Adapter keeps the rooms of one namespace and carries its broadcasts,
// on this server and, for a cluster adapter, on every server of the
// cluster: socket.io-adapter's Adapter. The default is the in-memory
// MemoryAdapter; expressio/redisadapter spreads a namespace over Redis.
//
// A cluster adapter embeds a *MemoryAdapter for the sockets of this
// server and adds the other servers: Broadcast delivers locally and
// publishes; what other servers publish it hands to the embedded
// adapter. Operations whose options have Flags.Local stay on this server.
//
// Sockets call AddAll, Del and DelAll; the Namespace calls the rest.
// Implementations must be safe for concurrent use, and Broadcast must
// never wait on a client.
type Adapter interface {
	// AddAll puts a socket of this server in rooms.
	AddAll(s *Socket, rooms ...string)
	// Del takes a socket of this server out of a room.
	Del(s *Socket, room string)
	// DelAll takes a socket of this server out of every room, when it
	// disconnects.
	DelAll(s *Socket)
	// Apply calls fn for each socket of this server that opts selects.
	Apply(opts BroadcastOptions, fn func(*Socket))
	// LocalRooms returns the rooms of this server's sockets, the rooms
	// named after socket ids included.
	LocalRooms() []string

	// Broadcast sends a packet to the sockets opts selects.
	Broadcast(p socketio.Packet, opts BroadcastOptions) error
	// BroadcastWithAck sends a packet that asks each receiver for an
	// acknowledgement. Every server reached calls clientCount once with
	// the number of its sockets that got the packet; ack is called with
	// each client's answer, the first argument of its acknowledgement.
	BroadcastWithAck(p socketio.Packet, opts BroadcastOptions, clientCount func(int), ack func(Payload)) error
	// Sockets returns the ids of the sockets in any of rooms (every
	// socket when rooms is empty).
	Sockets(ctx context.Context, rooms []string) ([]string, error)
	// AllRooms returns the names of every room, those named after socket
	// ids included.
	AllRooms(ctx context.Context) ([]string, error)
	// FetchSockets describes the sockets opts selects.
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error)
	// AddSockets makes the sockets opts selects join rooms.
	AddSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error
	// DelSockets makes the sockets opts selects leave rooms.
	DelSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error
	// DisconnectSockets disconnects the sockets opts selects; with
	// closeConn their whole connections close too.
	DisconnectSockets(ctx context.Context, opts BroadcastOptions, closeConn bool) error
	// ServerSideEmit sends data, an event name and its arguments, to the
	// other servers of the cluster, whose Namespace.HandleServerEvent
	// gets it.
	ServerSideEmit(ctx context.Context, data []json.RawMessage) error
	// ServerSideEmitWithAck is ServerSideEmit asking each other server for
	// an answer; it returns them when all came, or what came and an error
	// when ctx ends first.
	ServerSideEmitWithAck(ctx context.Context, data []json.RawMessage) ([]json.RawMessage, error)
	// ServerCount returns the number of servers in the cluster.
	ServerCount(ctx context.Context) (int, error)
	// Close releases what the adapter holds; the server calls it when it
	// shuts down.
	Close() error
}

// AdapterFactory makes the adapter of one namespace: socket.io's
// io.adapter(). See Server.SetAdapter.
type AdapterFactory func(n *Namespace) Adapter

// BroadcastOptions select the sockets a broadcast or another adapter
// operation applies to: those in any of Rooms (every socket of the
// namespace when Rooms is empty) but those in any of Except. A socket id
// names a room holding that one socket.
type BroadcastOptions struct {
	Rooms  []string
	Except []string
	Flags  BroadcastFlags
}

// BroadcastFlags modify a broadcast.
type BroadcastFlags struct {
	// Local keeps the operation on this server (socket.io's io.local).
	Local bool
	// Timeout is how long a broadcast with acknowledgements waits for
	// them (socket.io's timeout flag); zero otherwise.
	Timeout int64 // milliseconds, as on the wire
}

// SocketInfo describes a socket of any server of the cluster, as
// FetchSockets returns it; the JSON form is socket.io's.
type SocketInfo struct {
	ID        string          `json:"id"`
	Handshake HandshakeInfo   `json:"handshake"`
	Rooms     []string        `json:"rooms"`
	Data      json.RawMessage `json:"data"`
}

// HandshakeInfo is a Handshake as it travels between servers
// (socket.io's handshake object).
type HandshakeInfo struct {
	Headers map[string]any    `json:"headers"`
	Time    string            `json:"time"`
	Address string            `json:"address"`
	XDomain bool              `json:"xdomain"`
	Secure  bool              `json:"secure"`
	Issued  int64             `json:"issued"`
	URL     string            `json:"url"`
	Query   map[string]string `json:"query"`
	Auth    json.RawMessage   `json:"auth,omitempty"`
}

// MemoryAdapter is the in-memory Adapter, the default: it reaches the
// sockets of this server only. Every socket is also in the room named
// after its id, so a socket id can be used as a room.
type MemoryAdapter struct {
	ns *Namespace

	mu      sync.RWMutex
	sockets map[*Socket]socketRooms // socket -> its rooms
	rooms   map[string]members      // room -> its sockets
}

// Most rooms are a socket's own, holding that socket alone, and most
// sockets are in no other room. Both cases are kept without a map of
// their own: at ten thousand idle sockets, maps made up a fifth of the
// server's memory.

// members is the sockets of one room.
type members struct {
	one  *Socket              // the only socket, when there is one
	many map[*Socket]struct{} // two or more sockets
}

func (m *members) add(s *Socket) {
	switch {
	case m.many != nil:
		m.many[s] = struct{}{}
	case m.one == nil || m.one == s:
		m.one = s
	default:
		m.many = map[*Socket]struct{}{m.one: {}, s: {}}
		m.one = nil
	}
}

func (m *members) del(s *Socket) {
	if m.many == nil {
		if m.one == s {
			m.one = nil
		}
		return
	}
	delete(m.many, s)
	if len(m.many) == 1 {
		for last := range m.many {
			m.one = last
		}
		m.many = nil
	}
}

func (m members) empty() bool { return m.one == nil && len(m.many) == 0 }

// socketRooms is the rooms of one socket: its own room, and the others.
type socketRooms struct {
	own    bool
	others map[string]struct{}
}

// NewMemoryAdapter returns the in-memory adapter of a namespace.
func NewMemoryAdapter(n *Namespace) *MemoryAdapter {
	return &MemoryAdapter{
		ns:      n,
		sockets: make(map[*Socket]socketRooms),
		rooms:   make(map[string]members),
	}
}

// AddAll puts a socket in rooms.
func (a *MemoryAdapter) AddAll(s *Socket, rooms ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	sr := a.sockets[s]
	for _, room := range rooms {
		if room == s.id {
			sr.own = true
		} else {
			if sr.others == nil {
				sr.others = make(map[string]struct{}, len(rooms))
			}
			sr.others[room] = struct{}{}
		}
		m := a.rooms[room]
		m.add(s)
		a.rooms[room] = m
	}
	a.sockets[s] = sr
}

// Del takes a socket out of a room.
func (a *MemoryAdapter) Del(s *Socket, room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	sr, ok := a.sockets[s]
	if !ok {
		return
	}
	if room == s.id {
		sr.own = false
	} else {
		delete(sr.others, room)
	}
	a.sockets[s] = sr
	a.delLocked(s, room)
}

func (a *MemoryAdapter) delLocked(s *Socket, room string) {
	m, ok := a.rooms[room]
	if !ok {
		return
	}
	m.del(s)
	if m.empty() {
		delete(a.rooms, room)
	} else {
		a.rooms[room] = m
	}
}

// DelAll takes a socket out of every room.
func (a *MemoryAdapter) DelAll(s *Socket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	sr := a.sockets[s]
	if sr.own {
		a.delLocked(s, s.id)
	}
	for room := range sr.others {
		a.delLocked(s, room)
	}
	delete(a.sockets, s)
}

// Apply calls fn for each socket opts selects, once per socket. fn must
// not call back into the adapter's membership methods: it runs under
// the adapter's read lock.
func (a *MemoryAdapter) Apply(opts BroadcastOptions, fn func(*Socket)) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	a.applyLocked(opts, fn)
}

func (a *MemoryAdapter) applyLocked(opts BroadcastOptions, fn func(*Socket)) {
	except := a.exceptLocked(opts.Except)
	switch len(opts.Rooms) {
	case 0:
		for s := range a.sockets {
			if !except.has(s) {
				fn(s)
			}
		}
	case 1:
		m := a.rooms[opts.Rooms[0]]
		if m.one != nil && !except.has(m.one) {
			fn(m.one)
		}
		for s := range m.many {
			if !except.has(s) {
				fn(s)
			}
		}
	default:
		seen := make(map[*Socket]struct{})
		visit := func(s *Socket) {
			if _, dup := seen[s]; dup || except.has(s) {
				return
			}
			seen[s] = struct{}{}
			fn(s)
		}
		for _, r := range opts.Rooms {
			m := a.rooms[r]
			if m.one != nil {
				visit(m.one)
			}
			for s := range m.many {
				visit(s)
			}
		}
	}
}

// socketSet is the sockets a broadcast skips. The common case, a
// socket's own broadcast, is one socket and needs no map.
type socketSet struct {
	one  *Socket
	many map[*Socket]struct{}
}

func (e socketSet) has(s *Socket) bool {
	if e.many != nil {
		_, ok := e.many[s]
		return ok
	}
	return e.one != nil && e.one == s
}

func (a *MemoryAdapter) exceptLocked(rooms []string) socketSet {
	var set socketSet
	add := func(s *Socket) {
		switch {
		case set.many != nil:
			set.many[s] = struct{}{}
		case set.one == nil:
			set.one = s
		case set.one != s:
			set.many = map[*Socket]struct{}{set.one: {}, s: {}}
		}
	}
	for _, r := range rooms {
		m := a.rooms[r]
		if m.one != nil {
			add(m.one)
		}
		for s := range m.many {
			add(s)
		}
	}
	return set
}

// sockets returns the sockets opts selects (a snapshot, so that callers
// may act on them outside the lock).
func (a *MemoryAdapter) selected(opts BroadcastOptions) []*Socket {
	var out []*Socket
	a.Apply(opts, func(s *Socket) { out = append(out, s) })
	return out
}

// LocalRooms returns the rooms of this server's sockets.
func (a *MemoryAdapter) LocalRooms() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.rooms))
	for r := range a.rooms {
		out = append(out, r)
	}
	return out
}

// HasRoom reports whether a socket of this server is in room.
func (a *MemoryAdapter) HasRoom(room string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	_, ok := a.rooms[room]
	return ok
}

// Broadcast sends a packet to the sockets opts selects. It encodes once
// per wire format and never waits on a client: sending only queues, and
// a connection whose queue is full is closed by its engine.
func (a *MemoryAdapter) Broadcast(p socketio.Packet, opts BroadcastOptions) error {
	p.Namespace = a.ns.name
	f := newSharedFrame(p)
	a.Apply(opts, func(s *Socket) { s.conn.send(f) })
	return nil
}

// BroadcastWithAck sends a packet with one ack id, from the namespace's
// counter, to the sockets opts selects, and registers ack for each.
func (a *MemoryAdapter) BroadcastWithAck(p socketio.Packet, opts BroadcastOptions, clientCount func(int), ack func(Payload)) error {
	p.Namespace = a.ns.name
	p.ID = a.ns.nextAckID()
	f := newSharedFrame(p)
	n := 0
	a.Apply(opts, func(s *Socket) {
		if s.expectAck(p.ID, func(pl Payload, ok bool) {
			if ok {
				ack(firstArg(pl))
			}
		}) {
			n++
			s.conn.send(f)
		}
	})
	clientCount(n)
	return nil
}

// firstArg keeps the first argument of an acknowledgement, the answer a
// broadcast collects (Node's broadcast acks keep only that one).
func firstArg(p Payload) Payload {
	if len(p.Args) > 1 {
		p.Args = p.Args[:1]
	}
	return p
}

// Sockets returns the ids of this server's sockets in any of rooms.
func (a *MemoryAdapter) Sockets(_ context.Context, rooms []string) ([]string, error) {
	var ids []string
	a.Apply(BroadcastOptions{Rooms: rooms}, func(s *Socket) { ids = append(ids, s.id) })
	return ids, nil
}

// AllRooms returns LocalRooms.
func (a *MemoryAdapter) AllRooms(context.Context) ([]string, error) { return a.LocalRooms(), nil }

// FetchSockets describes this server's sockets that opts selects.
func (a *MemoryAdapter) FetchSockets(_ context.Context, opts BroadcastOptions) ([]SocketInfo, error) {
	sel := a.selected(opts)
	out := make([]SocketInfo, 0, len(sel))
	for _, s := range sel {
		out = append(out, s.info())
	}
	return out, nil
}

// AddSockets makes this server's sockets that opts selects join rooms.
func (a *MemoryAdapter) AddSockets(_ context.Context, opts BroadcastOptions, rooms []string) error {
	for _, s := range a.selected(opts) {
		s.Join(rooms...)
	}
	return nil
}

// DelSockets makes this server's sockets that opts selects leave rooms.
func (a *MemoryAdapter) DelSockets(_ context.Context, opts BroadcastOptions, rooms []string) error {
	for _, s := range a.selected(opts) {
		s.Leave(rooms...)
	}
	return nil
}

// DisconnectSockets disconnects this server's sockets that opts selects.
func (a *MemoryAdapter) DisconnectSockets(_ context.Context, opts BroadcastOptions, closeConn bool) error {
	for _, s := range a.selected(opts) {
		s.Disconnect(closeConn)
	}
	return nil
}

// ServerSideEmit does nothing: there is no other server.
func (a *MemoryAdapter) ServerSideEmit(context.Context, []json.RawMessage) error { return nil }

// ServerSideEmitWithAck returns no answers: there is no other server.
func (a *MemoryAdapter) ServerSideEmitWithAck(context.Context, []json.RawMessage) ([]json.RawMessage, error) {
	return nil, nil
}

// ServerCount returns 1.
func (a *MemoryAdapter) ServerCount(context.Context) (int, error) { return 1, nil }

// Close does nothing.
func (a *MemoryAdapter) Close() error { return nil }
