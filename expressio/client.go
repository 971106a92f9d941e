package expressio

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"sync"
	"time"

	"github.com/expressio-go/expressio/internal/registry"
	"github.com/expressio-go/expressio/protocol/engineio"
	"github.com/expressio-go/expressio/protocol/socketio"
)

// Disconnect reasons, as Node's socket.io names them.
const (
	ReasonClientDisconnect = "client namespace disconnect"
	ReasonServerDisconnect = "server namespace disconnect"
	ReasonServerShutdown   = "server shutting down"
	ReasonQueueOverflow    = "event queue overflow"
	ReasonProtocolError    = "parse error"
)

// client glues one Engine.IO session to the socket.io packet codec and the
// namespaces (Node's socket.io client.ts). It speaks protocol v4 to
// Engine.IO 3 sessions and v5 to Engine.IO 4 sessions.
type client struct {
	srv  *Server
	sess *engineio.Session
	rev  socketio.Revision
	dec  socketio.Decoder // used by OnMessage only, which never overlaps

	mu      sync.Mutex
	sockets map[string]*Socket // by namespace
	session *socketSession     // loaded at the first CONNECT; shared by the namespaces
	loaded  bool
	timer   *time.Timer // connectTimeout
	closed  bool
}

var _ engineio.Receiver = (*client)(nil)

func newClient(srv *Server, sess *engineio.Session) *client {
	c := &client{srv: srv, sess: sess, sockets: make(map[string]*Socket)}
	c.rev = socketio.V5
	if sess.Revision() == 3 {
		c.rev = socketio.V4
	}
	c.dec = socketio.Decoder{Revision: c.rev}
	srv.limits.engineOpened(sess)
	c.timer = time.AfterFunc(srv.opts.ConnectTimeout, c.connectTimeout)
	if c.rev == socketio.V4 {
		// Protocol v4 clients join "/" without asking.
		c.connect("/", json.RawMessage(emptyAuth), sess.Handshake().Query)
	}
	return c
}

func (c *client) connectTimeout() {
	c.mu.Lock()
	idle := len(c.sockets) == 0 && !c.closed
	c.mu.Unlock()
	if idle {
		c.srv.log.Debug("expressio: no namespace joined in time, closing", "sid", c.sess.ID())
		c.sess.Close()
	}
}

// send queues a prepared packet on the connection.
func (c *client) send(f *frame) error {
	msgs := f.messages()
	if c.rev == socketio.V4 {
		msgs = f.asciiMessages()
	}
	err := c.sess.Send(msgs...)
	if errors.Is(err, engineio.ErrSessionClosed) {
		return ErrDisconnected
	}
	return err
}

func (c *client) sendPacket(p socketio.Packet) error {
	return c.send(newFrame(p))
}

// OnMessage implements engineio.Receiver.
func (c *client) OnMessage(m engineio.Message) {
	p, err := c.dec.Decode(m.Data, m.Binary)
	if err != nil {
		c.violation("undecodable packet", err)
		return
	}
	if p == nil {
		return // a binary packet waiting for attachments
	}
	switch p.Type {
	case socketio.Connect:
		name, query, auth := p.Namespace, url.Values(nil), p.Data
		if c.rev == socketio.V4 {
			// A v4 client's namespace query is its auth, as Node's
			// socket.io 4 takes it.
			query, _ = url.ParseQuery(p.Query)
			auth = queryAuth(query)
		}
		c.mu.Lock()
		_, dup := c.sockets[name]
		c.mu.Unlock()
		if dup {
			c.violation("second CONNECT for a namespace", nil)
			return
		}
		c.connect(name, auth, mergeQuery(c.sess.Handshake().Query, query))
	case socketio.Event, socketio.BinaryEvent:
		sock := c.socket(p.Namespace)
		if sock == nil && c.srv.stopping.Load() {
			// Sent before the client learnt of the shutdown, which has
			// disconnected the socket and is closing the connection.
			return
		}
		if sock == nil {
			c.violation("event before CONNECT", nil)
			return
		}
		sock.onEvent(p)
	case socketio.Ack, socketio.BinaryAck:
		if sock := c.socket(p.Namespace); sock != nil {
			sock.onAck(p)
		}
	case socketio.Disconnect:
		if sock := c.socket(p.Namespace); sock != nil {
			sock.disconnect(ReasonClientDisconnect, false)
		}
	default: // CONNECT_ERROR is for servers to send
		c.violation("packet type a client may not send", nil)
	}
}

// violation closes the whole connection on a protocol error, as Node does.
func (c *client) violation(what string, err error) {
	c.srv.log.Info("expressio: protocol violation, closing connection",
		"sid", c.sess.ID(), "what", what, "err", err, "eio", c.sess.Revision())
	c.sess.Close()
}

func (c *client) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sockets[nsp]
}

// connect joins a namespace: runs its middleware, then answers CONNECT or
// CONNECT_ERROR.
func (c *client) connect(name string, auth json.RawMessage, query url.Values) {
	ns := c.srv.namespace(name)
	if ns == nil {
		c.connectError(name, &ConnectError{Message: "Invalid namespace"})
		return
	}
	if len(auth) == 0 {
		auth = json.RawMessage(emptyAuth)
	}
	eh := c.sess.Handshake()
	hs := &Handshake{
		Headers:   eh.Header,
		Query:     query,
		Auth:      auth,
		Address:   eh.RemoteAddr,
		Time:      eh.Time,
		Issued:    eh.Time.UnixMilli(),
		URL:       eh.URL,
		Secure:    eh.Secure,
		XDomain:   eh.XDomain,
		Namespace: name,
	}
	sess, refused := c.sessionFor(eh)
	if refused != nil {
		c.connectError(name, refused)
		return
	}
	if sess != nil {
		hs.Session = sess
	}
	if err := ns.runMiddleware(hs); err != nil {
		var ce *ConnectError
		if !errors.As(err, &ce) {
			ce = &ConnectError{Message: err.Error()}
		}
		c.connectError(name, ce)
		return
	}
	sock, err := newSocket(ns, c, hs)
	if err != nil {
		c.srv.log.Error("expressio: cannot create socket", "err", err)
		c.sess.Close()
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.sockets[name] = sock
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil // a connected client keeps no timer
	}
	c.mu.Unlock()
	ns.addSocket(sock)

	reply := socketio.Packet{Type: socketio.Connect, Namespace: name, ID: socketio.NoID}
	if c.rev == socketio.V5 {
		reply.Data, _ = json.Marshal(struct {
			SID string `json:"sid"`
		}{sock.id})
	}
	c.sendPacket(reply)
	sock.connected()
}

func (c *client) connectError(nsp string, ce *ConnectError) {
	var payload any
	if c.rev == socketio.V4 {
		payload = ce.Message
		if ce.Data != nil {
			payload = ce.Data
		}
	} else {
		payload = struct {
			Message string `json:"message"`
			Data    any    `json:"data,omitempty"`
		}{ce.Message, ce.Data}
	}
	data, err := json.Marshal(payload)
	if err != nil {
		data = []byte(`{"message":"connection refused"}`)
	}
	c.sendPacket(socketio.Packet{Type: socketio.ConnectError, Namespace: nsp, ID: socketio.NoID, Data: data})
}

// removeSocket forgets a socket that disconnected.
func (c *client) removeSocket(sock *Socket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sockets[sock.ns.name] == sock {
		delete(c.sockets, sock.ns.name)
	}
}

// OnClose implements engineio.Receiver.
func (c *client) OnClose(reason string) {
	c.mu.Lock()
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
	socks := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		socks = append(socks, s)
	}
	c.mu.Unlock()
	for _, s := range socks {
		s.disconnect(reason, false)
	}
}

// emptyAuth is the auth of a client that sent none; Node's default too.
const emptyAuth = `{}`

// queryAuth turns a v4 namespace query into an auth object.
func queryAuth(q url.Values) json.RawMessage {
	if len(q) == 0 {
		return json.RawMessage(emptyAuth)
	}
	m := make(map[string]string, len(q))
	for k := range q {
		m[k] = q.Get(k)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return json.RawMessage(emptyAuth)
	}
	return b
}

// mergeQuery returns the connection query with the namespace's own query
// on top, without touching either.
func mergeQuery(base, extra url.Values) url.Values {
	if len(extra) == 0 {
		return base // both are read-only: share it
	}
	out := make(url.Values, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// sessionFor loads the connection's session once, at its first CONNECT.
func (c *client) sessionFor(eh *engineio.Handshake) (*socketSession, *ConnectError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		sess, err := c.srv.loadSession(eh.Header, eh.Query)
		if err != nil {
			var ce *ConnectError
			if !errors.As(err, &ce) {
				ce = &ConnectError{Message: err.Error()}
			}
			return nil, ce
		}
		c.session, c.loaded = sess, true
	}
	return c.session, nil
}

func (c *client) sendDisconnect(nsp string) {
	c.sendPacket(socketio.Packet{Type: socketio.Disconnect, Namespace: nsp, ID: socketio.NoID})
}

func (c *client) close() { c.sess.Close() }

func (c *client) transport() string { return c.sess.Transport() }

func (c *client) context() context.Context { return c.sess.Context() }

// socketID names a socket. Protocol v4 clients compute the id themselves
// as "<nsp>#<engine id>" (just the engine id on "/"), so the server
// follows, as Node's socket.io 4 does; v5 sockets get 120 random bits,
// unrelated to the secret engine id.
func (c *client) socketID(nsp string) (string, error) {
	if c.rev == socketio.V4 {
		if nsp == "/" {
			return c.sess.ID(), nil
		}
		return nsp + "#" + c.sess.ID(), nil
	}
	return registry.NewID(), nil
}
