package legacy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/internal/registry"
	"github.com/expressio-go/expressio/internal/track"
)

// Server is a socket.io 0.9 server. It is an http.Handler that must see
// whole paths: mount it so that Resource+"/1/…" reaches it (Owns tells
// which requests are its). Its methods are safe for concurrent use.
type Server struct {
	opts     Options
	handler  Handler
	upgrader websocket.Upgrader

	sessions registry.Registry[*Session] // handshaken and open

	wg track.Group // WebSocket writers and OnClose calls
}

// NewServer returns a Server that hands its sessions to h. opts may be nil
// for socket.io 0.9's defaults; it is copied. It panics on a nil Handler
// or an unsupported transport.
func NewServer(h Handler, opts *Options) *Server {
	if h == nil {
		panic("legacy: NewServer with a nil Handler")
	}
	s := &Server{
		opts:    opts.withDefaults(),
		handler: h,
	}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  1024,
		WriteBufferSize: 1024,
		// The origin was checked before the upgrade, by the same rule as
		// every other request.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return s
}

// Options returns a copy of the server's options, defaults filled in.
func (s *Server) Options() Options {
	o := s.opts
	o.Transports = append([]string(nil), s.opts.Transports...)
	return o
}

// Len returns the number of sessions, handshaken or open.
func (s *Server) Len() int {
	return s.sessions.Len()
}

// Owns reports whether r is for this server rather than for an Engine.IO
// server sharing the resource: Resource itself or Resource+"/" without an
// EIO query parameter, and Resource+"/<digit>…" (the protocol version,
// "1" or one to refuse). Other paths under Resource, such as the client
// script, are left to the caller.
func (s *Server) Owns(r *http.Request) bool {
	p := r.URL.Path
	rest, ok := strings.CutPrefix(p, s.opts.Resource)
	if !ok {
		return false
	}
	switch {
	case rest == "" || rest == "/":
		return !r.URL.Query().Has("EIO")
	case len(rest) > 1 && rest[0] == '/' && rest[1] >= '0' && rest[1] <= '9':
		return true
	}
	return false
}

// route is a request path under the resource, read the way Node's
// /^\/([^\/]+)\/?([^\/]+)?\/?([^\/]+)?\/?$/ reads it.
type route struct {
	protocol  string
	transport string
	sid       string
}

func parseRoute(rest string) (route, bool) {
	var rt route
	if !strings.HasPrefix(rest, "/") {
		return rt, false
	}
	rest = rest[1:]
	seg := func() string {
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			i = len(rest)
		}
		v := rest[:i]
		rest = rest[i:]
		return v
	}
	slash := func() {
		if strings.HasPrefix(rest, "/") {
			rest = rest[1:]
		}
	}
	if rt.protocol = seg(); rt.protocol == "" {
		return rt, false
	}
	slash()
	rt.transport = seg()
	slash()
	rt.sid = seg()
	slash()
	return rt, rest == ""
}

// protocolNumber is JavaScript's Number() of a path segment, enough for
// the version check: digits give their value, anything else NaN (-1).
func protocolNumber(v string) int {
	if v == "" || len(v) > 9 {
		return -1
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return -1
		}
		n = n*10 + int(v[i]-'0')
	}
	return n
}

// isIndex reports whether v is a JSONP callback index: digits only, as
// Node's /^\d+$/, at most 16.
func isIndex(v string) bool {
	if v == "" || len(v) > 16 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// ServeHTTP serves one request under the resource: the welcome text, a
// version error, a handshake, or a transport request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, s.opts.Resource)
	if !ok {
		http.NotFound(w, r)
		return
	}
	rt, ok := parseRoute(rest)
	proto := protocolNumber(rt.protocol)
	if !ok || (rt.transport == "" && proto <= 0) {
		writeBare(w, http.StatusOK, "Welcome to socket.io.")
		return
	}
	if proto != 1 {
		writeBare(w, http.StatusInternalServerError, "Protocol version not supported.")
		return
	}
	if up := r.Header.Get("Upgrade"); up != "" && (rt.sid == "" || rt.transport != TransportWebSocket || !strings.EqualFold(up, "websocket")) {
		// h2c and other upgrades, or a WebSocket anywhere but on the
		// websocket transport of a session.
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	if rt.sid == "" {
		s.serveHandshake(w, r)
		return
	}
	origin, allowed := s.checkOrigin(r)
	if !allowed {
		s.opts.Logger.Info("legacy: origin refused", "origin", origin, "remote", r.RemoteAddr)
		writeText(w, http.StatusForbidden, "text/plain", "bad origin")
		return
	}
	sess, _ := s.sessions.Get(rt.sid)

	q := r.URL.Query()
	if q.Has("disconnect") {
		if sess != nil {
			s.opts.Logger.Debug("legacy: forced disconnect", "sid", sess.id)
			sess.closeWith(ReasonBooted, []byte(disconnectPacket), websocket.CloseNormalClosure)
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	if !s.opts.allows(rt.transport) {
		s.opts.Logger.Info("legacy: transport refused", "transport", rt.transport, "remote", r.RemoteAddr)
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		if rt.transport == TransportWebSocket {
			http.Error(w, "Bad Request", http.StatusBadRequest)
			return
		}
		s.servePost(w, r, sess, origin, rt.transport)
		return
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	switch rt.transport {
	case TransportWebSocket:
		s.serveWebSocket(w, r, sess)
	case TransportHTMLFile:
		s.serveHTMLFile(w, r, sess)
	default:
		s.servePoll(w, r, sess, rt.transport, origin)
	}
}

// writeBare answers like Node's res.writeHead(status); res.end(body):
// no Content-Type.
func writeBare(w http.ResponseWriter, status int, body string) {
	w.Header()["Content-Type"] = nil
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func writeText(w http.ResponseWriter, status int, contentType, body string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// serveHandshake issues a session id: "sid:heartbeat:close:transports".
func (s *Server) serveHandshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	jsonp := q.Get("jsonp")
	if !isIndex(jsonp) {
		jsonp = ""
	}
	origin, allowed := s.checkOrigin(r)
	fail := func(status int, message string) {
		if jsonp != "" {
			writeText(w, http.StatusOK, "application/javascript", "io.j["+jsonp+`](new Error("`+message+`"));`)
			return
		}
		writeText(w, status, "text/plain", message)
	}
	if !allowed {
		s.opts.Logger.Info("legacy: handshake bad origin", "origin", origin, "remote", r.RemoteAddr)
		fail(http.StatusForbidden, "handshake bad origin")
		return
	}
	if jsonp == "" {
		setCORS(w.Header(), origin)
	}
	var authData any
	if s.opts.Authorize != nil {
		var err error
		if authData, err = s.opts.Authorize(r); err != nil {
			if errors.Is(err, ErrUnauthorized) {
				s.opts.Logger.Info("legacy: handshake unauthorized", "err", err, "remote", r.RemoteAddr)
				fail(http.StatusForbidden, "handshake unauthorized")
			} else {
				s.opts.Logger.Warn("legacy: handshake error", "err", err, "remote", r.RemoteAddr)
				fail(http.StatusInternalServerError, "handshake error")
			}
			return
		}
	}

	now := time.Now()
	query := make(url.Values, len(q))
	for k, v := range q {
		if k != "t" {
			query[k] = v
		}
	}
	hs := &Handshake{
		Header:  r.Header.Clone(),
		Query:   query,
		Address: r.RemoteAddr,
		Host:    r.Host,
		URL:     r.RequestURI,
		Secure:  r.TLS != nil,
		XDomain: r.Header.Get("Origin") != "",
		Time:    now,
		Issued:  now.UnixMilli(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	sess := &Session{srv: s, hs: hs, authData: authData, ctx: ctx, cancel: cancel}

	for {
		sess.id = registry.NewID()
		err := s.sessions.Add(sess.id, sess)
		if err == nil {
			break
		}
		if errors.Is(err, registry.ErrClosing) {
			cancel()
			fail(http.StatusServiceUnavailable, "handshake error")
			return
		}
	}
	sess.startHandshakeTimer()

	body := sess.id + ":" + s.handshakeFields()
	s.opts.Logger.Debug("legacy: handshake", "sid", sess.id, "remote", r.RemoteAddr)
	if jsonp != "" {
		js := appendJSString([]byte("io.j["+jsonp+"]("), body, scriptEscapes)
		writeText(w, http.StatusOK, "application/javascript", string(js)+");")
		return
	}
	writeText(w, http.StatusOK, "text/plain", body)
}

// handshakeFields is the handshake body after the sid.
func (s *Server) handshakeFields() string {
	hb := ""
	if !s.opts.DisableHeartbeats {
		hb = seconds(s.opts.HeartbeatTimeout)
	}
	return hb + ":" + seconds(s.opts.CloseTimeout) + ":" + strings.Join(s.opts.Transports, ",")
}

// seconds writes d as the handshake does, in seconds ("60", "0.5").
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// forget removes a closed session from the registry.
func (s *Server) forget(sess *Session) { s.sessions.Remove(sess.id, sess) }

// Shutdown refuses new handshakes, closes every session with reason
// "server shutting down" and waits until all are gone or ctx ends, whose
// error it then returns. Queued packets are written first: WebSockets
// get them, then close with 1001; pending polls are answered with them
// and "7:::1+0" (session gone: reconnect). A polling client between two
// polls gets the same on its next poll, which Shutdown waits for, 2 s at
// most, if the client's last poll ended less than 5 s before. No "0::" is
// sent, so clients try to reconnect.
func (s *Server) Shutdown(ctx context.Context) error {
	all, idle, ok := s.sessions.Close()
	if !ok {
		return ErrServerClosed
	}
	for _, sess := range all {
		sess.closeWith(ReasonServerShutdown, nil, websocket.CloseGoingAway)
	}
	select {
	case <-idle:
	case <-ctx.Done():
		return fmt.Errorf("legacy: shutdown: %w", ctx.Err())
	}
	if err := s.wg.Wait(ctx); err != nil {
		return fmt.Errorf("legacy: shutdown: %w", err)
	}
	return nil
}
