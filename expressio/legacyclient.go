package expressio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expressio-go/expressio/protocol/legacy"
	"github.com/expressio-go/expressio/protocol/socketio"
)

// legacyClient glues one socket.io 0.9 session (express.io's own client)
// to the namespaces, as client does for Engine.IO sessions. A 0.9 client
// is connected to "/" by its handshake; other namespaces ("endpoints")
// it joins with a connect packet.
type legacyClient struct {
	srv  *Server
	sess *legacy.Session

	mu      sync.Mutex
	sockets map[string]*Socket // by namespace
	closed  bool
}

var _ conn = (*legacyClient)(nil)

// legacyAuth is what a 0.9 handshake's authorization leaves for the
// session: the handshake data the middleware filled, and the session.
type legacyAuth struct {
	hs      *Handshake
	session *socketSession
	slot    *slot // the handshake's place under Limits.MaxConnectionsPerAddress
}

// authorizeLegacy runs at every 0.9 handshake, as express.io's
// authorization handler did: it applies the engine's AllowRequest, as to
// every Engine.IO handshake (a refusal is 403 "handshake unauthorized"),
// loads the session and runs the root namespace's middleware, whose
// refusal is a refused handshake.
func (s *Server) authorizeLegacy(r *http.Request) (any, error) {
	if allow := s.opts.Engine.AllowRequest; allow != nil {
		if err := allow(r); err != nil {
			return nil, fmt.Errorf("%w: allowRequest: %w", legacy.ErrUnauthorized, err)
		}
	}
	sess, err := s.loadSession(r.Header, r.URL.Query())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", legacy.ErrUnauthorized, err)
	}
	now := time.Now()
	hs := &Handshake{
		Headers:   r.Header.Clone(),
		Query:     r.URL.Query(),
		Auth:      json.RawMessage(emptyAuth),
		Address:   r.RemoteAddr,
		Time:      now,
		Issued:    now.UnixMilli(),
		URL:       r.RequestURI,
		Secure:    r.TLS != nil,
		XDomain:   r.Header.Get("Origin") != "",
		Namespace: "/",
	}
	if sess != nil {
		hs.Session = sess
	}
	if err := s.root.runMiddleware(hs); err != nil {
		return nil, err
	}
	return &legacyAuth{hs: hs, session: sess, slot: s.limits.legacyAuthorized(r)}, nil
}

type legacyHandler struct{ s *Server }

func (h legacyHandler) Open(sess *legacy.Session) legacy.Receiver {
	c := &legacyClient{srv: h.s, sess: sess, sockets: make(map[string]*Socket)}
	auth, _ := sess.AuthData().(*legacyAuth)
	if auth == nil {
		sess.Close()
		return c
	}
	auth.slot.hold(sess.Context())
	// The protocol server has already sent "1::": the root is joined.
	c.join(h.s.root, auth.hs, false)
	return c
}

// join makes the socket of a namespace; echo answers a connect packet.
func (c *legacyClient) join(ns *Namespace, hs *Handshake, echo bool) {
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
	c.sockets[ns.name] = sock
	c.mu.Unlock()
	ns.addSocket(sock)
	if echo {
		c.sess.Send(legacy.Packet{Type: legacy.Connect, Endpoint: endpoint(ns.name)})
	}
	sock.connected()
}

// endpoint is a namespace as 0.9 writes it: "" for "/".
func endpoint(nsp string) string {
	if nsp == "/" {
		return ""
	}
	return nsp
}

func namespaceOf(ep string) string {
	if ep == "" {
		return "/"
	}
	return ep
}

// OnPacket implements legacy.Receiver.
func (c *legacyClient) OnPacket(p legacy.Packet) {
	switch p.Type {
	case legacy.Connect:
		c.onConnect(p)
	case legacy.Disconnect:
		if sock := c.socket(namespaceOf(p.Endpoint)); sock != nil {
			sock.disconnect(ReasonClientDisconnect, false)
		}
	case legacy.Event:
		name, args, err := legacy.ParseEvent(p.Data)
		if err != nil {
			c.violation("bad event", err)
			return
		}
		c.event(p, name, args)
	case legacy.Message, legacy.JSON:
		// socket.send(x) and socket.json.send(x) answer the "message" route.
		data := p.Data
		if p.Type == legacy.Message {
			data, _ = json.Marshal(string(p.Data))
		} else if !json.Valid(data) {
			c.violation("bad json message", nil)
			return
		}
		c.event(p, "message", []json.RawMessage{data})
	case legacy.Ack:
		id, args, err := legacy.ParseAck(p.Data)
		if err != nil {
			c.violation("bad ack", err)
			return
		}
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return
		}
		if sock := c.socket(namespaceOf(p.Endpoint)); sock != nil {
			data, _ := json.Marshal(args)
			if args == nil {
				data = []byte("[]")
			}
			sock.onAck(&socketio.Packet{Type: socketio.Ack, Namespace: sock.ns.name, ID: n, Data: data})
		}
	case legacy.Error:
		// A client reporting an error: nothing to do but note it.
		c.srv.log.Debug("expressio: 0.9 client error packet", "data", string(p.Data))
	}
}

func (c *legacyClient) onConnect(p legacy.Packet) {
	name, rawQuery, _ := strings.Cut(namespaceOf(p.Endpoint), "?")
	if c.socket(name) != nil {
		return // already joined: 0.9 clients reconnect namespaces freely
	}
	ns := c.srv.namespace(name)
	if ns == nil {
		return // 0.9.16 answers an unknown namespace with nothing
	}
	auth, _ := c.sess.AuthData().(*legacyAuth)
	root := auth.hs
	query, _ := url.ParseQuery(rawQuery)
	hs := &Handshake{
		Headers: root.Headers, Query: mergeQuery(root.Query, query), Auth: json.RawMessage(emptyAuth),
		Address: root.Address, Time: root.Time, Issued: root.Issued, URL: root.URL,
		Secure: root.Secure, XDomain: root.XDomain, Namespace: name, Session: root.Session,
	}
	if err := ns.runMiddleware(hs); err != nil {
		c.sess.Send(legacy.Packet{Type: legacy.Error, Endpoint: p.Endpoint,
			Data: legacy.ErrorData(legacy.ErrorReasonUnauthorized, legacy.NoAdvice)})
		return
	}
	c.join(ns, hs, true)
}

// event hands an event to its socket as the Socket.IO packet it would
// have been from a newer client.
func (c *legacyClient) event(p legacy.Packet, name string, args []json.RawMessage) {
	sock := c.socket(namespaceOf(p.Endpoint))
	if sock == nil {
		return // 0.9 drops events for namespaces not joined
	}
	if c.srv.blacklisted(name) {
		// socket.io 0.9 drops a blacklisted event ("disconnect") before
		// anything looks at it, ack or not; the event codec below would
		// take the reserved name for a protocol violation.
		c.srv.log.Debug("expressio: blacklisted 0.9 event dropped", "sid", c.sess.ID(), "event", name)
		return
	}
	id := int64(socketio.NoID)
	if p.ID != "" && p.Ack {
		n, err := strconv.ParseInt(p.ID, 10, 64)
		if err != nil {
			c.violation("bad ack id", err)
			return
		}
		id = n
	}
	all := make([]json.RawMessage, 0, 1+len(args))
	nameJSON, _ := json.Marshal(name)
	all = append(all, nameJSON)
	all = append(all, args...)
	data, _ := json.Marshal(all)
	sock.onEvent(&socketio.Packet{Type: socketio.Event, Namespace: sock.ns.name, ID: id, Data: data})
}

func (c *legacyClient) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sockets[nsp]
}

// OnClose implements legacy.Receiver.
func (c *legacyClient) OnClose(reason string) {
	c.mu.Lock()
	c.closed = true
	socks := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		socks = append(socks, s)
	}
	c.mu.Unlock()
	for _, s := range socks {
		s.disconnect(reason, false)
	}
}

func (c *legacyClient) send(f *frame) error {
	pkt, err := f.legacyPacket()
	if err != nil {
		c.srv.log.Warn("expressio: packet not sendable to a 0.9 client", "sid", c.sess.ID(), "err", err)
		return err
	}
	err = c.sess.Send(pkt)
	if errors.Is(err, legacy.ErrSessionClosed) {
		return ErrDisconnected
	}
	return err
}

func (c *legacyClient) sendDisconnect(nsp string) {
	c.sess.Send(legacy.Packet{Type: legacy.Disconnect, Endpoint: endpoint(nsp)})
}

func (c *legacyClient) close() { c.sess.Close() }

func (c *legacyClient) violation(what string, err error) {
	c.srv.log.Info("expressio: protocol violation, closing 0.9 connection", "sid", c.sess.ID(), "what", what, "err", err)
	c.sess.Close()
}

func (c *legacyClient) removeSocket(s *Socket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sockets[s.ns.name] == s {
		delete(c.sockets, s.ns.name)
	}
}

// socketID: a 0.9 socket's id is its session id, in every namespace, as
// the 0.9 client knows it.
func (c *legacyClient) socketID(string) (string, error) { return c.sess.ID(), nil }

func (c *legacyClient) transport() string { return c.sess.Transport() }

func (c *legacyClient) context() context.Context { return c.sess.Context() }
