package expressio

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sync"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	gsessions "github.com/gorilla/sessions"
)

// Session errors.
var (
	// ErrSessionNotPersistent is returned by Save on a socket whose
	// handshake carried no valid session cookie: the store could keep the
	// session, but no cookie can reach the client over a socket, so it
	// could never find it again.
	ErrSessionNotPersistent = errors.New("expressio: session not persistent: the handshake had no valid session cookie, and a socket cannot set one")
	// ErrSessionReadOnly is returned by Save and Destroy on a socket whose
	// session lives in a cookie store: the cookie is the store, and a
	// socket cannot write cookies.
	ErrSessionReadOnly = errors.New("expressio: session read-only: a cookie store cannot be written from a socket")
	// ErrNoSessions is returned when sessions are used but the App has
	// none configured.
	ErrNoSessions = errors.New("expressio: sessions not configured")
)

// Session is a user's session, one for the HTTP side and the socket
// side: express.io's req.session. It is gin-contrib/sessions' Session
// plus Reload, Destroy and Values. All methods are safe for concurrent
// use on a socket.
type Session interface {
	sessions.Session
	// Reload reads the session from the store again, picking up what HTTP
	// requests wrote since. Unlike express.io, the fresh copy stays for
	// the socket's later events.
	Reload() error
	// Destroy deletes the session from the store and empties it.
	Destroy() error
	// Values returns a copy of the values whose keys are strings, ready
	// to be sent as JSON.
	Values() map[string]any
}

// SessionOptions configure the sessions shared by HTTP and sockets.
type SessionOptions struct {
	// Name is the session cookie's name (express.io: connect.sid).
	Name string
	// Store keeps the sessions: gin-contrib/sessions' memstore (in
	// memory, one process), redis (shared), or cookie (read-only from
	// sockets).
	Store sessions.Store
	// CookieQuery accepts the session cookie from the handshake's
	// ?cookie= query parameter when the Cookie header has none, as
	// express.io did for clients that cannot send cookies. Off by
	// default: it puts session ids in URLs and so in logs.
	CookieQuery bool
	// Require refuses handshakes without a valid session cookie.
	Require bool
	// ReloadEachEvent reloads the session before every event, so changes
	// made over HTTP show at once.
	ReloadEachEvent bool
}

// Sessions installs gin-contrib/sessions for HTTP requests with the given
// cookie name and store, and makes sockets load the same session at
// handshake: express.io's express.session(). Call it before the app
// serves.
func (a *App) Sessions(name string, store sessions.Store) {
	a.SessionsWith(SessionOptions{Name: name, Store: store})
}

// SessionsWith is Sessions with every option.
func (a *App) SessionsWith(opts SessionOptions) {
	if opts.Name == "" || opts.Store == nil {
		panic("expressio: Sessions needs a cookie name and a store")
	}
	a.Engine.Use(sessions.Sessions(opts.Name, opts.Store))
	a.IO.settingsMu.Lock()
	defer a.IO.settingsMu.Unlock()
	a.IO.sessions = &opts
}

// loadSession loads the session of a new connection from its handshake's
// cookie, through the store, on a request made for the purpose (gorilla's
// stores change the request they are given). It returns nil when the app
// has no sessions, and an error only when Require refuses the handshake.
func (s *Server) loadSession(header http.Header, query url.Values) (*socketSession, error) {
	s.settingsMu.Lock()
	opts := s.sessions
	s.settingsMu.Unlock()
	if opts == nil {
		return nil, nil
	}
	cookie := header.Get("Cookie")
	if cookie == "" && opts.CookieQuery {
		cookie = query.Get("cookie")
	}
	ss := &socketSession{name: opts.Name, store: opts.Store, cookie: cookie}
	sess, err := opts.Store.New(ss.request(), opts.Name)
	switch {
	case err != nil || sess == nil:
		// A forged, unsigned or expired cookie: never somebody else's
		// session, a fresh empty one.
		if opts.Require {
			return nil, &ConnectError{Message: "session required"}
		}
		s.log.Info("expressio: session cookie not accepted, using an empty session", "err", err)
		sess = gsessions.NewSession(opts.Store, opts.Name)
		ss.persist = ErrSessionNotPersistent
	case sess.IsNew:
		if opts.Require {
			return nil, &ConnectError{Message: "session required"}
		}
		ss.persist = ErrSessionNotPersistent
	}
	if isCookieStore(opts.Store) {
		ss.persist = ErrSessionReadOnly
	}
	ss.sess = sess
	return ss, nil
}

// isCookieStore reports whether a store keeps sessions in the cookie
// itself (gorilla's CookieStore, which gin-contrib's cookie store wraps).
func isCookieStore(store sessions.Store) bool {
	v := reflect.ValueOf(store)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.Type() == reflect.TypeFor[*gsessions.CookieStore]() {
			return true
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return false
	}
	for i := range v.NumField() {
		if v.Type().Field(i).Type == reflect.TypeFor[*gsessions.CookieStore]() {
			return true
		}
	}
	return false
}

// socketSession is a socket's Session.
type socketSession struct {
	name    string
	store   sessions.Store
	cookie  string
	persist error // why Save cannot persist; nil when it can

	mu   sync.Mutex
	sess *gsessions.Session
}

var _ Session = (*socketSession)(nil)

// request makes a request carrying the handshake's cookie, new for every
// store call: gorilla's registry caches sessions per request.
func (s *socketSession) request() *http.Request {
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/"}, Header: make(http.Header)}
	if s.cookie != "" {
		r.Header.Set("Cookie", s.cookie)
	}
	return r
}

func (s *socketSession) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sess.ID
}

func (s *socketSession) Get(key any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sess.Values[key]
}

func (s *socketSession) Set(key, val any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sess.Values[key] = val
}

func (s *socketSession) Delete(key any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sess.Values, key)
}

func (s *socketSession) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sess.Values)
}

func (s *socketSession) AddFlash(value any, vars ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sess.AddFlash(value, vars...)
}

func (s *socketSession) Flashes(vars ...string) []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sess.Flashes(vars...)
}

func (s *socketSession) Options(o sessions.Options) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sess.Options = o.ToGorillaOptions()
}

func (s *socketSession) Values() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return stringValues(s.sess.Values)
}

// Save writes the session to the store, where HTTP requests see it. It
// returns ErrSessionNotPersistent or ErrSessionReadOnly when it cannot.
func (s *socketSession) Save() error {
	if s.persist != nil {
		return s.persist
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.store.Save(s.request(), discardWriter{}, s.sess); err != nil {
		return fmt.Errorf("expressio: save session: %w", err)
	}
	return nil
}

func (s *socketSession) Reload() error {
	if errors.Is(s.persist, ErrSessionNotPersistent) {
		// Nothing in the store is this socket's: keep what it has.
		return nil
	}
	fresh, err := s.store.New(s.request(), s.name)
	if err != nil {
		return fmt.Errorf("expressio: reload session: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if fresh.IsNew && !s.sess.IsNew {
		// Gone from the store (expired or destroyed): keep the ID, drop
		// the values.
		clear(s.sess.Values)
		return nil
	}
	s.sess = fresh
	return nil
}

func (s *socketSession) Destroy() error {
	if errors.Is(s.persist, ErrSessionReadOnly) {
		return s.persist
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sess.Values)
	if s.persist != nil {
		return nil // nothing was ever stored
	}
	opts := *s.sess.Options
	opts.MaxAge = -1
	s.sess.Options = &opts
	if err := s.store.Save(s.request(), discardWriter{}, s.sess); err != nil {
		return fmt.Errorf("expressio: destroy session: %w", err)
	}
	return nil
}

// httpSession is the Session of an HTTP request, gin-contrib's.
type httpSession struct{ sessions.Session }

func (httpSession) Reload() error { return nil } // fresh for every request already

func (h httpSession) Destroy() error {
	h.Clear()
	h.Session.Options(sessions.Options{Path: "/", MaxAge: -1})
	return h.Save()
}

func (h httpSession) Values() map[string]any {
	// gin-contrib hides the values map; ask gorilla through the request.
	if g, ok := h.Session.(interface{ Session() *gsessions.Session }); ok {
		return stringValues(g.Session().Values)
	}
	return map[string]any{}
}

// sessionOf returns the Session of a gin request, nil when the app has
// no sessions.
func sessionOf(c *gin.Context) Session {
	v, ok := c.Get(sessions.DefaultKey)
	if !ok {
		return nil
	}
	s, ok := v.(sessions.Session)
	if !ok {
		return nil
	}
	return httpSession{s}
}

func stringValues(m map[any]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if ks, ok := k.(string); ok {
			out[ks] = v
		}
	}
	return out
}

// discardWriter takes the Set-Cookie a store writes on Save: after the
// handshake no cookie can reach a socket's client.
type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}

func (s *Server) reloadEachEvent() bool {
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	return s.sessions != nil && s.sessions.ReloadEachEvent
}
