package expressio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/expressio-go/expressio/protocol/socketio"
)

type rawJSON = json.RawMessage

func jsonString(s string) (rawJSON, error) { return json.Marshal(s) }

// Payload is the arguments of an event or an acknowledgement as the
// client sent them: raw JSON values, and the binary attachments their
// placeholders point to.
type Payload struct {
	// Args holds every argument as raw JSON. Binary values appear as
	// {"_placeholder":true,"num":N}; Values resolves them.
	Args []json.RawMessage
	// Attachments are the binary attachments, in placeholder order.
	Attachments [][]byte
}

// Values decodes every argument into plain Go values (numbers as
// float64, objects as map[string]any, arrays as []any) with binary
// placeholders replaced by their []byte.
func (p Payload) Values() ([]any, error) {
	vals, err := socketio.ReconstructArgs(p.Args, p.Attachments)
	if err != nil {
		return nil, fmt.Errorf("expressio: decode arguments: %w", err)
	}
	return vals, nil
}

// Bind decodes argument i as JSON into v. Binary values decode into
// []byte fields.
func (p Payload) Bind(i int, v any) error {
	if i < 0 || i >= len(p.Args) {
		return fmt.Errorf("expressio: bind argument %d of %d", i, len(p.Args))
	}
	arg := p.Args[i]
	if len(p.Attachments) > 0 {
		inlined, err := socketio.InlineAttachments(arg, p.Attachments)
		if err != nil {
			return fmt.Errorf("expressio: bind argument %d: %w", i, err)
		}
		arg = inlined
	}
	if err := json.Unmarshal(arg, v); err != nil {
		return fmt.Errorf("expressio: bind argument %d: %w", i, err)
	}
	return nil
}

// SocketRequest is one event from one socket, as its route receives it:
// express.io's socket req.
type SocketRequest struct {
	// Event is the event name.
	Event string
	// Data is the first argument as raw JSON (express.io's req.data); nil
	// when the event had none.
	Data json.RawMessage
	// Payload holds all the arguments (Args) and binary attachments.
	Payload
	// Socket is the socket the event came from.
	Socket *Socket
	// Headers are the headers of the request that opened the connection.
	Headers http.Header
	// Session is the user's session, the one HTTP requests see (see
	// App.Sessions); nil when the app has no sessions.
	Session Session
	// Handshake is how the socket connected.
	Handshake *Handshake
	// IO answers the client and reaches other sockets.
	IO *RequestIO
	// HTTP is the gin context of a request forwarded from HTTP (path
	// parameters, cookies, the raw request); nil for socket events.
	HTTP *gin.Context

	ns  *Namespace
	ctx context.Context
}

func newSocketRequest(s *Socket, event string, p socketio.Packet, payload Payload) *SocketRequest {
	req := &SocketRequest{Event: event, Payload: payload, Socket: s, Headers: s.hs.Headers, Session: s.hs.Session, Handshake: s.hs, ns: s.ns, ctx: s.Context()}
	if len(payload.Args) > 0 {
		req.Data = payload.Args[0]
	}
	req.IO = &RequestIO{req: req, ackID: p.ID}
	return req
}

// Bind decodes Data, the first argument, into v.
func (r *SocketRequest) Bind(v any) error { return r.Payload.Bind(0, v) }

// Context returns a context cancelled when the socket disconnects (or,
// from HTTP, when the HTTP request ends).
func (r *SocketRequest) Context() context.Context { return r.ctx }

// RequestIO is what a route can do in answer to an event: express.io's
// req.io. For a request forwarded from HTTP (see HTTPIO.Route), Respond
// writes the HTTP response, and the methods that need a socket (Emit,
// Join, Leave, Disconnect) return ErrNoSocket.
type RequestIO struct {
	req   *SocketRequest
	ackID int64
	http  *httpExchange // set for requests forwarded from HTTP

	mu        sync.Mutex
	responded bool
}

// Respond acknowledges the event with args: express.io's
// req.io.respond, the client's ack callback. It does nothing when the
// client asked for no ack. A second call sends nothing and returns
// ErrAlreadyResponded.
func (io *RequestIO) Respond(args ...any) error {
	if err := checkArgs(args); err != nil {
		return err
	}
	io.mu.Lock()
	if io.responded {
		io.mu.Unlock()
		if io.http != nil {
			io.http.log.Warn("expressio: second Respond to an HTTP request ignored", "route", io.req.Event)
		}
		return ErrAlreadyResponded
	}
	io.responded = true
	io.mu.Unlock()
	if io.http != nil {
		io.http.respond(args)
		return nil
	}
	if io.ackID == socketio.NoID {
		return nil
	}
	s := io.req.Socket
	f, err := ackFrame(s.ns.name, io.ackID, args)
	if err != nil {
		return err
	}
	return s.conn.send(f)
}

// WantsAck reports whether the client asked for an acknowledgement (an
// HTTP request always does).
func (io *RequestIO) WantsAck() bool { return io.http != nil || io.ackID != socketio.NoID }

// socket returns the requesting socket, or ErrNoSocket for a request
// forwarded from HTTP.
func (io *RequestIO) socket() (*Socket, error) {
	if io.req.Socket == nil {
		return nil, ErrNoSocket
	}
	return io.req.Socket, nil
}

// Emit sends an event to the requesting socket: express.io's
// req.io.emit.
func (io *RequestIO) Emit(event string, args ...any) error {
	s, err := io.socket()
	if err != nil {
		return err
	}
	return s.Emit(event, args...)
}

// EmitWithAck sends an event to the requesting socket and waits for its
// acknowledgement; see Socket.EmitWithAck.
func (io *RequestIO) EmitWithAck(ctx context.Context, event string, args ...any) (Payload, error) {
	s, err := io.socket()
	if err != nil {
		return Payload{}, err
	}
	return s.EmitWithAck(ctx, event, args...)
}

// Broadcast sends an event to every socket of the namespace but the
// sender: express.io's req.io.broadcast. From HTTP it reaches every
// socket, as express.io's HTTP req.io.broadcast does.
func (io *RequestIO) Broadcast(event string, args ...any) error {
	if s, err := io.socket(); err == nil {
		return s.Broadcast(event, args...)
	}
	return io.req.ns.Broadcast(event, args...)
}

// Room selects a room's members but the sender, who need not be a member:
// express.io's req.io.room(r).
func (io *RequestIO) Room(room string) *Room {
	r := io.req.ns.To(room)
	if io.req.Socket != nil {
		r = r.Except(io.req.Socket.id)
	}
	return r
}

// Join adds the socket to a room.
func (io *RequestIO) Join(room string) error {
	s, err := io.socket()
	if err != nil {
		return err
	}
	s.Join(room)
	return nil
}

// Leave removes the socket from a room.
func (io *RequestIO) Leave(room string) error {
	s, err := io.socket()
	if err != nil {
		return err
	}
	s.Leave(room)
	return nil
}

// Rooms returns the rooms the socket has joined (none from HTTP).
func (io *RequestIO) Rooms() []string {
	if s, err := io.socket(); err == nil {
		return s.Rooms()
	}
	return nil
}

// Route forwards this same request, with its data and its ack, to
// another route of the namespace: express.io's req.io.route. An unknown
// name returns ErrUnknownRoute and, when the client asked for an ack,
// acks an error object.
func (io *RequestIO) Route(name string) error {
	h := io.req.ns.route(name)
	if h == nil {
		body := map[string]string{"error": "unknown route " + name}
		if io.http != nil {
			io.Respond(http.StatusNotFound, body)
		} else {
			io.Respond(body)
		}
		return fmt.Errorf("%w: %q", ErrUnknownRoute, name)
	}
	h(io.req)
	return nil
}

// Disconnect disconnects the socket from its namespace.
func (io *RequestIO) Disconnect() error {
	s, err := io.socket()
	if err != nil {
		return err
	}
	s.Disconnect(false)
	return nil
}
