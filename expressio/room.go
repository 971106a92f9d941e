package expressio

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/expressio-go/expressio/protocol/socketio"
)

// DefaultBroadcastAckTimeout bounds BroadcastWithAck when its context has
// no deadline: the servers of a cluster must know how long to keep
// waiting for acknowledgements.
const DefaultBroadcastAckTimeout = 5 * time.Second

// Room selects sockets of a namespace, on every server of the cluster:
// the members of one or more rooms, minus those of others, every socket
// when no room is named. It is socket.io's BroadcastOperator (io.to(r),
// io.except(r), io.local) and express.io's app.io.room(r). Methods that
// narrow the selection return a new Room.
type Room struct {
	ns     *Namespace
	rooms  []string
	except []string
	local  bool
}

// To adds rooms to the selection: a socket in any of them is selected.
func (r *Room) To(rooms ...string) *Room {
	c := r.clone()
	c.rooms = append(c.rooms, rooms...)
	return c
}

// Except removes the sockets in any of rooms from the selection.
func (r *Room) Except(rooms ...string) *Room {
	c := r.clone()
	c.except = append(c.except, rooms...)
	return c
}

// Local keeps the selection to this server's sockets.
func (r *Room) Local() *Room {
	c := r.clone()
	c.local = true
	return c
}

func (r *Room) clone() *Room {
	return &Room{
		ns:     r.ns,
		rooms:  append([]string(nil), r.rooms...),
		except: append([]string(nil), r.except...),
		local:  r.local,
	}
}

func (r *Room) options() BroadcastOptions {
	return BroadcastOptions{Rooms: r.rooms, Except: r.except, Flags: BroadcastFlags{Local: r.local}}
}

// Broadcast sends an event to every selected socket; every argument is
// sent, []byte ones as binary.
func (r *Room) Broadcast(event string, args ...any) error {
	p, err := eventPacket(r.ns.name, socketio.NoID, event, args)
	if err != nil {
		return err
	}
	if err := r.ns.Adapter().Broadcast(p, r.options()); err != nil {
		return fmt.Errorf("expressio: broadcast %q: %w", event, err)
	}
	return nil
}

// Emit is Broadcast, by socket.io's name.
func (r *Room) Emit(event string, args ...any) error { return r.Broadcast(event, args...) }

// BroadcastWithAck sends an event asking every selected socket for an
// acknowledgement, and returns their answers (the first argument of
// each acknowledgement) once every socket of every server has answered:
// socket.io's io.timeout(t).emitWithAck(). When ctx ends first it
// returns the answers that came and an error wrapping ErrAckTimeout. A
// ctx without deadline gets DefaultBroadcastAckTimeout.
func (r *Room) BroadcastWithAck(ctx context.Context, event string, args ...any) ([]Payload, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultBroadcastAckTimeout)
		defer cancel()
	}
	p, err := eventPacket(r.ns.name, socketio.NoID, event, args)
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	opts := r.options()
	opts.Flags.Timeout = max(1, time.Until(deadline).Milliseconds())

	c := &ackCollector{done: make(chan struct{}), servers: -1}
	adapter := r.ns.Adapter()
	if err := adapter.BroadcastWithAck(p, opts, c.clientCount, c.answer); err != nil {
		return nil, fmt.Errorf("expressio: broadcast %q: %w", event, err)
	}
	servers := 1
	if !r.local {
		if servers, err = adapter.ServerCount(ctx); err != nil {
			return c.result(), fmt.Errorf("expressio: broadcast %q: %w", event, err)
		}
	}
	c.serverCount(servers)
	select {
	case <-c.done:
		return c.result(), nil
	case <-ctx.Done():
		return c.result(), fmt.Errorf("%w: broadcast %q: %w", ErrAckTimeout, event, ctx.Err())
	}
}

// ackCollector counts the answers to a broadcast with acknowledgements:
// it is complete when every server reported how many clients it reached
// and that many answers came.
type ackCollector struct {
	mu        sync.Mutex
	servers   int // expected servers; -1 until known
	reported  int // servers that reported their client count
	clients   int // clients reached, summed over the reports
	answers   []Payload
	done      chan struct{}
	completed bool
}

func (c *ackCollector) clientCount(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reported++
	c.clients += n
	c.checkLocked()
}

func (c *ackCollector) answer(p Payload) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.completed {
		c.answers = append(c.answers, p)
	}
	c.checkLocked()
}

func (c *ackCollector) serverCount(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.servers = n
	c.checkLocked()
}

func (c *ackCollector) checkLocked() {
	if !c.completed && c.servers >= 0 && c.reported >= c.servers && len(c.answers) >= c.clients {
		c.completed = true
		close(c.done)
	}
}

func (c *ackCollector) result() []Payload {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Payload(nil), c.answers...)
}

// Sockets returns the selected sockets of this server.
func (r *Room) Sockets() []*Socket {
	var out []*Socket
	r.ns.Adapter().Apply(r.options(), func(s *Socket) { out = append(out, s) })
	return out
}

// Len returns the number of selected sockets of this server.
func (r *Room) Len() int {
	n := 0
	r.ns.Adapter().Apply(r.options(), func(*Socket) { n++ })
	return n
}

// Clear makes every selected socket, on every server, leave the
// selection's rooms.
func (r *Room) Clear() {
	if err := r.SocketsLeave(context.Background(), r.rooms...); err != nil {
		r.ns.srv.log.Warn("expressio: clear rooms", "rooms", r.rooms, "err", err)
	}
}

// SocketIDs returns the ids of the selected sockets on every server
// (socket.io's allSockets).
func (r *Room) SocketIDs(ctx context.Context) ([]string, error) {
	if len(r.except) > 0 || r.local {
		infos, err := r.fetch(ctx)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(infos))
		for i, s := range infos {
			ids[i] = s.ID
		}
		return ids, nil
	}
	ids, err := r.ns.Adapter().Sockets(ctx, r.rooms)
	if err != nil {
		return nil, fmt.Errorf("expressio: socket ids of %v: %w", r.rooms, err)
	}
	return ids, nil
}

// FetchSockets describes the selected sockets on every server:
// socket.io's fetchSockets.
func (r *Room) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	infos, err := r.fetch(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*RemoteSocket, len(infos))
	for i, info := range infos {
		out[i] = &RemoteSocket{SocketInfo: info, ns: r.ns}
	}
	return out, nil
}

func (r *Room) fetch(ctx context.Context) ([]SocketInfo, error) {
	infos, err := r.ns.Adapter().FetchSockets(ctx, r.options())
	if err != nil {
		return nil, fmt.Errorf("expressio: fetch sockets of %v: %w", r.rooms, err)
	}
	return infos, nil
}

// SocketsJoin makes the selected sockets, on every server, join rooms:
// socket.io's socketsJoin.
func (r *Room) SocketsJoin(ctx context.Context, rooms ...string) error {
	if err := r.ns.Adapter().AddSockets(ctx, r.options(), rooms); err != nil {
		return fmt.Errorf("expressio: join %v: %w", rooms, err)
	}
	return nil
}

// SocketsLeave makes the selected sockets, on every server, leave rooms:
// socket.io's socketsLeave.
func (r *Room) SocketsLeave(ctx context.Context, rooms ...string) error {
	if err := r.ns.Adapter().DelSockets(ctx, r.options(), rooms); err != nil {
		return fmt.Errorf("expressio: leave %v: %w", rooms, err)
	}
	return nil
}

// DisconnectSockets disconnects the selected sockets on every server;
// with closeConn their connections close too: socket.io's
// disconnectSockets.
func (r *Room) DisconnectSockets(ctx context.Context, closeConn bool) error {
	if err := r.ns.Adapter().DisconnectSockets(ctx, r.options(), closeConn); err != nil {
		return fmt.Errorf("expressio: disconnect sockets: %w", err)
	}
	return nil
}

// RemoteSocket is a socket of any server of the cluster, as
// FetchSockets returns it (socket.io's RemoteSocket). Its methods reach
// it wherever it is connected.
type RemoteSocket struct {
	SocketInfo
	ns *Namespace
}

func (s *RemoteSocket) self() *Room { return s.ns.To(s.ID) }

// Emit sends an event to the socket.
func (s *RemoteSocket) Emit(event string, args ...any) error {
	return s.self().Broadcast(event, args...)
}

// Join makes the socket join rooms.
func (s *RemoteSocket) Join(ctx context.Context, rooms ...string) error {
	return s.self().SocketsJoin(ctx, rooms...)
}

// Leave makes the socket leave rooms.
func (s *RemoteSocket) Leave(ctx context.Context, rooms ...string) error {
	return s.self().SocketsLeave(ctx, rooms...)
}

// Disconnect disconnects the socket; with closeConn its connection
// closes too.
func (s *RemoteSocket) Disconnect(ctx context.Context, closeConn bool) error {
	return s.self().DisconnectSockets(ctx, closeConn)
}

// info describes the socket for FetchSockets.
func (s *Socket) info() SocketInfo {
	return SocketInfo{ID: s.id, Handshake: s.hs.info(), Rooms: append(s.Rooms(), s.id), Data: s.data()}
}

// data is the socket's values (Set) as a JSON object, the form of
// socket.io's socket.data; values that do not marshal are left out.
func (s *Socket) data() json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.values) == 0 {
		return json.RawMessage(`{}`) // Node's socket.data starts as {}
	}
	obj := make(map[string]json.RawMessage, len(s.values))
	for k, v := range s.values {
		if b, err := json.Marshal(v); err == nil {
			obj[k] = b
		}
	}
	b, _ := json.Marshal(obj)
	return b
}

// info is the handshake as it travels between servers.
func (h *Handshake) info() HandshakeInfo {
	if h == nil {
		return HandshakeInfo{}
	}
	headers := make(map[string]any, len(h.Headers))
	for k, vs := range h.Headers {
		if len(vs) == 1 {
			headers[strings.ToLower(k)] = vs[0]
		} else {
			headers[strings.ToLower(k)] = vs
		}
	}
	query := make(map[string]string, len(h.Query))
	for k, vs := range h.Query {
		if len(vs) > 0 {
			query[k] = vs[0]
		}
	}
	return HandshakeInfo{
		Headers: headers,
		// The form of JavaScript's Date.prototype.toString, as Node sends.
		Time:    h.Time.Format("Mon Jan 02 2006 15:04:05 GMT-0700 (MST)"),
		Address: h.Address,
		XDomain: h.XDomain,
		Secure:  h.Secure,
		Issued:  h.Issued,
		URL:     h.URL,
		Query:   query,
		Auth:    h.Auth,
	}
}
