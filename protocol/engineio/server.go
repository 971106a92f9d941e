package engineio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/expressio-go/expressio/internal/registry"
	"github.com/expressio-go/expressio/internal/track"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
	"github.com/expressio-go/expressio/protocol/engineio/wsconn"
)

// Server is an Engine.IO server for revisions 3 and 4. It is an
// http.Handler; mount it at the engine's path for GET, POST and OPTIONS.
// Its methods are safe for concurrent use.
type Server struct {
	opts     Options
	handler  Handler
	upgrader wsconn.Upgrader

	sessions registry.Registry[*Session]

	// writeBuffers lends *[]byte to WebSocket writes for the length of
	// one write, so no session keeps a write buffer.
	writeBuffers sync.Pool

	wg track.Group // drainers and OnClose calls
}

// NewServer returns a Server that hands its sessions to h. opts may be nil
// for Node's defaults; it is copied.
func NewServer(h Handler, opts *Options) *Server {
	if h == nil {
		panic("engineio: NewServer with a nil Handler")
	}
	s := &Server{
		opts:    opts.withDefaults(),
		handler: h,
	}
	// The origin was checked before the upgrade, by the same rule as
	// every polling request.
	s.upgrader.ReadLimit = s.opts.MaxPayload
	s.writeBuffers.New = func() any {
		b := make([]byte, 0, 4096)
		return &b
	}
	return s
}

// Options returns a copy of the server's options, defaults filled in.
func (s *Server) Options() Options { return s.opts }

// Len returns the number of open sessions.
func (s *Server) Len() int {
	return s.sessions.Len()
}

// ServeHTTP serves one Engine.IO request: a handshake, a poll, a POST of
// packets, a WebSocket, or a CORS preflight.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		s.servePreflight(w, r)
		return
	}
	q := r.URL.Query()
	rev, ok := s.revision(q.Get("EIO"))
	if !ok {
		s.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeUnsupportedVersion})
		return
	}
	transport := q.Get("transport")
	if (transport != transportPolling && transport != transportWebSocket) || !s.opts.allows(transport) {
		s.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeUnknownTransport})
		return
	}
	if _, verdict := s.checkOrigin(r); verdict == originMalformed {
		s.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeBadRequest})
		return
	} else if verdict == originForbidden {
		s.refuse(w, r, &RequestError{Status: http.StatusForbidden, Code: CodeForbidden, Message: "Origin not allowed"})
		return
	}
	upgrade := r.Header.Get("Upgrade")
	isWS := strings.EqualFold(upgrade, "websocket")
	if (upgrade != "" && !isWS) || isWS != (transport == transportWebSocket) {
		// h2c and other upgrades, a WebSocket upgrade on the polling
		// transport, or a websocket transport without an upgrade.
		s.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeBadRequest})
		return
	}

	sid := q.Get("sid")
	if sid == "" {
		s.handshake(w, r, rev, transport)
		return
	}
	sess, _ := s.sessions.Get(sid)
	if sess == nil || sess.handshake.Revision != rev {
		s.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeUnknownSID})
		return
	}
	if transport == transportWebSocket {
		s.serveUpgrade(w, r, sess)
		return
	}
	switch r.Method {
	case http.MethodGet:
		sess.servePoll(w, r)
	case http.MethodPost:
		sess.serveData(w, r)
	default:
		s.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeBadRequest})
	}
}

func (s *Server) revision(v string) (int, bool) {
	switch v {
	case "4":
		return 4, true
	case "3":
		return 3, !s.opts.DisallowEIO3
	}
	return 0, false
}

// handshake opens a session on the first request of a client.
func (s *Server) handshake(w http.ResponseWriter, r *http.Request, rev int, transport string) {
	if r.Method != http.MethodGet {
		s.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeBadHandshakeMethod})
		return
	}
	q := r.URL.Query()
	jsonp := q.Get("j")
	if jsonp != "" && (rev != 3 || !packet.ValidJSONPIndex(jsonp)) {
		s.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeBadRequest})
		return
	}
	if s.opts.AllowRequest != nil {
		if err := s.opts.AllowRequest(r); err != nil {
			s.refuse(w, r, &RequestError{Status: http.StatusForbidden, Code: CodeForbidden, Message: err.Error()})
			return
		}
	}
	sid := registry.NewID()
	var conn *wsconn.Conn
	if transport == transportWebSocket {
		var err error
		conn, err = s.upgrader.Upgrade(w, r, s.cookieHeader(sid))
		if err != nil {
			return // the upgrader has answered
		}
	}
	sess := &Session{
		srv: s,
		id:  sid,
		handshake: &Handshake{
			Header:     r.Header.Clone(), // compact: the parsed header holds its whole line buffer
			Query:      q,
			URL:        r.RequestURI,
			Host:       r.Host,
			RemoteAddr: r.RemoteAddr,
			Secure:     r.TLS != nil,
			XDomain:    r.Header.Get("Origin") != "",
			Time:       time.Now(),
			Revision:   rev,
			Transport:  transport,
		},
		transport: transport,
		b64:       rev == 3 && (q.Get("b64") != "" || jsonp != ""),
		jsonp:     jsonp,
	}
	// Nothing reaches the Receiver before Open has returned it.
	sess.recvMu.Lock()
	if err := s.sessions.Add(sid, sess); err != nil {
		sess.recvMu.Unlock()
		if conn != nil {
			conn.WriteClose(wsconn.CloseGoingAway, time.Now().Add(time.Second))
			conn.Close()
		} else {
			s.refuse(w, r, &RequestError{Status: http.StatusServiceUnavailable, Code: CodeBadRequest, Message: "Server shutting down"})
		}
		return
	}

	upgrades := []string{}
	if transport == transportPolling && !s.opts.DisallowUpgrades && s.opts.allows(transportWebSocket) {
		upgrades = []string{transportWebSocket}
	}
	open := packet.OpenData(sid, upgrades, s.opts.PingInterval, s.opts.PingTimeout, s.opts.MaxPayload)
	sess.mu.Lock()
	sess.queue = append(sess.queue, outPacket{Packet: packet.Packet{Type: packet.Open, Data: open}})
	if conn != nil {
		sess.ws = conn
	}
	sess.mu.Unlock()
	sess.startHeartbeat()
	sess.recv = s.handler.Open(sess)
	if sess.recv == nil {
		sess.recv = discard{}
	}
	sess.recvMu.Unlock()
	s.opts.Logger.Debug("engineio: session opened", "sid", sid, "eio", rev, "transport", transport)

	if conn != nil {
		sess.mu.Lock()
		sess.flushLocked()
		sess.mu.Unlock()
		// The handler returns and its goroutine, whose stack grew serving
		// HTTP, ends; a new one with a small stack waits for the
		// session's frames.
		s.wg.Go(func() { sess.awaitFrames(conn) })
		return
	}
	if s.opts.Cookie != "" {
		http.SetCookie(w, s.cookie(sid))
	}
	sess.servePoll(w, r)
}

// serveUpgrade takes a WebSocket for a session that is polling.
func (s *Server) serveUpgrade(w http.ResponseWriter, r *http.Request, sess *Session) {
	sess.mu.Lock()
	ok := sess.state == stateOpen && sess.transport == transportPolling && sess.probing == nil && !s.opts.DisallowUpgrades
	sess.mu.Unlock()
	if !ok {
		// A second WebSocket for the session, or an upgrade it cannot take.
		s.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeBadRequest})
		return
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	sess.mu.Lock()
	if sess.state != stateOpen || sess.probing != nil || sess.transport != transportPolling {
		sess.mu.Unlock()
		conn.Close()
		return
	}
	sess.probing = conn
	sess.mu.Unlock()
	s.wg.Go(func() { sess.upgradeTo(conn) })
}

func (s *Server) cookie(sid string) *http.Cookie {
	return &http.Cookie{Name: s.opts.Cookie, Value: sid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

func (s *Server) cookieHeader(sid string) http.Header {
	if s.opts.Cookie == "" || sid == "" {
		return nil
	}
	return http.Header{"Set-Cookie": {s.cookie(sid).String()}}
}

// refuse answers a request with Node's JSON error body.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, e *RequestError) {
	h := w.Header()
	if origin, verdict := s.checkOrigin(r); verdict == originAllowed {
		setCORS(h, origin)
	}
	body, _ := json.Marshal(struct {
		Code    Code   `json:"code"`
		Message string `json:"message"`
	}{e.Code, e.text()})
	h.Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	w.Write(body)
	s.opts.Logger.Debug("engineio: request refused", "status", e.Status, "code", int(e.Code), "message", e.text(), "remote", r.RemoteAddr)
}

// forget removes a closed session from the registry.
func (s *Server) forget(sess *Session) { s.sessions.Remove(sess.id, sess) }

// Shutdown refuses new handshakes, closes every session with reason
// "server shutting down" (queued messages are written first, pending polls
// are answered, WebSockets close with 1001) and waits until all are gone
// or ctx ends, whose error it then returns.
func (s *Server) Shutdown(ctx context.Context) error {
	all, idle, ok := s.sessions.Close()
	if !ok {
		return ErrServerClosed
	}
	for _, sess := range all {
		sess.closeWith(ReasonServerShutdown, wsconn.CloseGoingAway)
	}
	select {
	case <-idle:
	case <-ctx.Done():
		return fmt.Errorf("engineio: shutdown: %w", ctx.Err())
	}
	if err := s.wg.Wait(ctx); err != nil {
		return fmt.Errorf("engineio: shutdown: %w", err)
	}
	return nil
}

type discard struct{}

func (discard) OnMessage(Message) {}
func (discard) OnClose(string)    {}
