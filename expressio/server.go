package expressio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expressio-go/expressio/internal/track"
	"github.com/expressio-go/expressio/protocol/engineio"
	"github.com/expressio-go/expressio/protocol/legacy"
)

// Defaults, from Node's socket.io 4 unless said otherwise.
const (
	DefaultPath           = "/socket.io/"
	DefaultConnectTimeout = 45 * time.Second
	// DefaultEventQueueSize bounds the events of one socket waiting for
	// their handlers (not a Node option: Node has no bound).
	DefaultEventQueueSize = 256
	// DefaultRouteTimeout bounds how long an HTTP request forwarded to an
	// io route waits for Respond (express.io: forever).
	DefaultRouteTimeout = 30 * time.Second
)

// Options configure a Server. The zero value is valid: zero fields take
// the defaults. Options are copied by NewServer.
type Options struct {
	// Path is where the server is mounted (Node's path; "" = "/socket.io/").
	Path string
	// Engine configures the Engine.IO layer: heartbeat, payload limit,
	// transports, origins, write queue.
	Engine engineio.Options
	// ConnectTimeout is Node's connectTimeout (0 = 45s): an Engine.IO
	// connection that joins no namespace within it is closed.
	ConnectTimeout time.Duration
	// EventQueueSize bounds the events one socket may have waiting for
	// their handlers (0 = 256). A socket that overflows it is disconnected.
	EventQueueSize int
	// RouteTimeout bounds how long an HTTP request forwarded to an io
	// route waits for Respond before it is answered 504 (0 = 30s).
	RouteTimeout time.Duration
	// Logger receives the server's logs (nil = slog.Default()).
	Logger *slog.Logger
	// Blacklist lists the client events dropped before routing: socket.io
	// 0.9's "blacklist" setting (nil = ["disconnect"]). "disconnect" is
	// always dropped, since it names the server-side disconnect route.
	Blacklist []string
	// CleanupEmptyChildNamespaces is Node's cleanupEmptyChildNamespaces
	// (default false). It is stored only: it concerns the child namespaces
	// of dynamic namespaces, which this server does not have yet.
	CleanupEmptyChildNamespaces bool
	// Legacy configures the socket.io 0.9 server (protocol 1, below
	// Path+"1/"): socket.io 0.9's transport settings. The zero value means
	// socket.io 0.9's defaults.
	Legacy LegacyOptions
	// BrowserClient configures serving the client script below Path:
	// socket.io 0.9's "browser client" settings and Node's serveClient.
	// The zero value means the defaults.
	BrowserClient BrowserClientOptions
	// Limits bound the connections and handshakes of each client
	// address, on every protocol. The zero value sets no limit.
	Limits Limits
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.EventQueueSize <= 0 {
		c.EventQueueSize = DefaultEventQueueSize
	}
	if c.RouteTimeout <= 0 {
		c.RouteTimeout = DefaultRouteTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Engine.Logger == nil {
		c.Engine.Logger = c.Logger
	}
	return c
}

// Server is the realtime side of an app: express.io's app.io, socket.io's
// Server. It serves socket.io clients of protocol v4 (socket.io-client
// 1.x/2.x) and v5 (3.x/4.x) on one path, with one room space. Its methods
// act on the root namespace "/"; Of returns the others.
//
// All methods are safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger
	root *Namespace

	// The engine is made on first use, so that Set and friends can still
	// change its options until then.
	engineOnce sync.Once
	engine     *engineio.Server
	legacy     *legacy.Server // socket.io 0.9, when Options.Legacy.Enabled
	limits     *limiter       // nil when Options.Limits sets none
	started    atomic.Bool
	// stopping is set when Shutdown begins: packets for the sockets it
	// disconnects are dropped, not taken for protocol errors.
	stopping atomic.Bool

	mu      sync.RWMutex
	nsps    map[string]*Namespace
	adapter AdapterFactory // nil: MemoryAdapter

	workers track.Group // handler goroutines

	// settingsMu serializes Set and Get (settings.go).
	settingsMu sync.Mutex
	// sessions, when set, makes sockets load the HTTP session at
	// handshake (session.go). Guarded by settingsMu.
	sessions *SessionOptions
	// logLevel is the level of the logger the "log level" setting
	// installed; nil until then.
	logLevel *slog.LevelVar
	// logOff is the logger to restore when the "log" setting is enabled
	// again; nil while logging is on.
	logOff *slog.Logger
}

// NewServer returns a Server with the given options (nil for defaults).
func NewServer(opts *Options) *Server {
	s := &Server{opts: opts.withDefaults(), nsps: make(map[string]*Namespace)}
	s.log = s.opts.Logger
	s.root = s.Of("/")
	return s
}

// eio returns the Engine.IO server, making it on first use; from then on
// the options are fixed.
func (s *Server) eio() *engineio.Server {
	s.engineOnce.Do(func() {
		s.settingsMu.Lock()
		defer s.settingsMu.Unlock()
		s.started.Store(true)
		s.engine = engineio.NewServer(engineHandler{s}, &s.opts.Engine)
		var expiry time.Duration
		if s.opts.Legacy.Enabled {
			s.legacy = legacy.NewServer(legacyHandler{s}, s.legacyOptions())
			expiry = s.legacy.Options().HandshakeExpiry
		}
		s.limits = newLimiter(&s.opts, expiry, s.engine.SetCORS)
	})
	return s.engine
}

// Path returns the path the server expects to be mounted at.
func (s *Server) Path() string {
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	return s.opts.Path
}

// ServeHTTP serves the socket.io endpoint. Mount it at Path for GET, POST
// and OPTIONS. Handshakes over Options.Limits are answered 429 or 503.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	engine := s.eio()
	if s.serveClientScript(w, r) {
		return
	}
	legacy := s.legacy != nil && s.legacy.Owns(r)
	r, done, ok := s.limits.admit(w, r, legacy)
	if !ok {
		return
	}
	defer done()
	if legacy {
		s.legacy.ServeHTTP(w, r)
		return
	}
	engine.ServeHTTP(w, r)
}

// Of returns the namespace with the given name, creating it: socket.io's
// io.of(nsp). Names start with "/"; "" means "/".
func (s *Server) Of(name string) *Namespace {
	if name == "" {
		name = "/"
	}
	if name[0] != '/' {
		name = "/" + name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.nsps[name]; ok {
		return n
	}
	n := newNamespace(s, name, s.adapter)
	s.nsps[name] = n
	return n
}

// SetAdapter makes f the adapter factory of every namespace, those that
// exist and those Of makes later: socket.io's io.adapter(f). Call it
// before the server starts serving; the adapters it replaces are closed.
func (s *Server) SetAdapter(f AdapterFactory) error {
	if f == nil {
		return fmt.Errorf("expressio: SetAdapter(nil)")
	}
	if s.started.Load() {
		return fmt.Errorf("%w: SetAdapter", ErrSettingsFixed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.adapter = f
	for _, n := range s.nsps {
		if old := n.setAdapter(f(n)); old != nil {
			if err := old.Close(); err != nil {
				return fmt.Errorf("expressio: SetAdapter: close the adapter of %s: %w", n.name, err)
			}
		}
	}
	return nil
}

// namespace returns an existing namespace or nil.
func (s *Server) namespace(name string) *Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.nsps[name]
}

// Route registers a route on the root namespace; see Namespace.Route.
func (s *Server) Route(name string, h any) { s.root.Route(name, h) }

// Use adds handshake middleware to the root namespace; see Namespace.Use.
func (s *Server) Use(mw Middleware) { s.root.Use(mw) }

// OnConnect adds a hook run for every socket connecting to the root
// namespace; see Namespace.OnConnect.
func (s *Server) OnConnect(fn func(*Socket)) { s.root.OnConnect(fn) }

// Broadcast sends an event to every socket of the root namespace:
// express.io's app.io.broadcast.
func (s *Server) Broadcast(event string, args ...any) error {
	return s.root.Broadcast(event, args...)
}

// Room selects the members of a room of the root namespace:
// express.io's app.io.room(r).
func (s *Server) Room(room string) *Room { return s.root.Room(room) }

// To selects the sockets of the root namespace in any of rooms; see
// Namespace.To.
func (s *Server) To(rooms ...string) *Room { return s.root.To(rooms...) }

// Except selects the sockets of the root namespace but those in any of
// rooms; see Namespace.Except.
func (s *Server) Except(rooms ...string) *Room { return s.root.Except(rooms...) }

// Local selects the sockets of the root namespace on this server only.
func (s *Server) Local() *Room { return s.root.Local() }

// BroadcastWithAck sends an event to every socket of the root namespace
// and collects their acknowledgements; see Room.BroadcastWithAck.
func (s *Server) BroadcastWithAck(ctx context.Context, event string, args ...any) ([]Payload, error) {
	return s.root.BroadcastWithAck(ctx, event, args...)
}

// FetchSockets describes every socket of the root namespace on every
// server of the cluster.
func (s *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return s.root.FetchSockets(ctx)
}

// ServerSideEmit sends an event to the other servers of the cluster; see
// Namespace.ServerSideEmit.
func (s *Server) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	return s.root.ServerSideEmit(ctx, event, args...)
}

// ServerSideEmitWithAck sends an event to the other servers of the
// cluster and returns their answers; see Namespace.ServerSideEmitWithAck.
func (s *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	return s.root.ServerSideEmitWithAck(ctx, event, args...)
}

// OnServerEvent registers the handler of an event other servers send to
// the root namespace; see Namespace.OnServerEvent.
func (s *Server) OnServerEvent(event string, fn func(*ServerEvent)) { s.root.OnServerEvent(event, fn) }

// ServerCount returns the number of servers in the cluster.
func (s *Server) ServerCount(ctx context.Context) (int, error) { return s.root.ServerCount(ctx) }

// Shutdown disconnects every socket with reason "server shutting down",
// refuses new connections, lets queued packets reach the clients, closes
// every connection (clients see "transport close" and reconnect, as with
// Node's io.close) and waits for the connections and running handlers to
// finish, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopping.Store(true)
	s.mu.RLock()
	nsps := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		nsps = append(nsps, n)
	}
	s.mu.RUnlock()
	for _, n := range nsps {
		for _, sock := range n.Sockets() {
			// No DISCONNECT packet: as with Node's io.close(), clients see
			// the transport close and reconnect (to this server's
			// successor or another node), where a DISCONNECT would tell
			// them to stay away.
			sock.disconnect(ReasonServerShutdown, false)
		}
	}
	// The two servers shut down side by side: each may wait for polling
	// clients to collect their last packets.
	engine := s.eio()
	legacyDone := make(chan error, 1)
	if s.legacy != nil {
		go func() { legacyDone <- s.legacy.Shutdown(ctx) }()
	} else {
		legacyDone <- nil
	}
	engineErr := engine.Shutdown(ctx)
	if err := errors.Join(engineErr, <-legacyDone); err != nil {
		return fmt.Errorf("expressio: shutdown: %w", err)
	}
	if err := s.workers.Wait(ctx); err != nil {
		return fmt.Errorf("expressio: shutdown: %w", err)
	}
	var errs []error
	for _, n := range nsps {
		if err := n.Adapter().Close(); err != nil {
			errs = append(errs, fmt.Errorf("expressio: shutdown: close the adapter of %s: %w", n.name, err))
		}
	}
	return errors.Join(errs...)
}

type engineHandler struct{ s *Server }

func (h engineHandler) Open(sess *engineio.Session) engineio.Receiver {
	return newClient(h.s, sess)
}

// legacyOptions maps the server's options onto the 0.9 server's: the same
// path, origin allow-list, payload limit and queue bound as the engine.
func (s *Server) legacyOptions() *legacy.Options {
	o := &s.opts
	lo := &legacy.Options{
		Resource:          strings.TrimSuffix(o.Path, "/"),
		HeartbeatInterval: o.Engine.PingInterval,
		CloseTimeout:      o.Legacy.CloseTimeout,
		PollingDuration:   o.Legacy.PollingDuration,
		DisableHeartbeats: o.Legacy.DisableHeartbeats,
		Transports:        o.Legacy.Transports,
		MaxPayload:        o.Engine.MaxPayload,
		WriteQueueSize:    o.Engine.WriteQueueSize,
		WriteTimeout:      o.Engine.WriteTimeout,
		AllowedOrigins:    o.Engine.AllowedOrigins,
		AllowOrigin:       o.Engine.AllowOrigin,
		Authorize:         s.authorizeLegacy,
		Logger:            s.log,
	}
	if o.Engine.PingTimeout > 0 {
		// "heartbeat timeout" writes the engine's pingTimeout.
		lo.HeartbeatTimeout = o.Engine.PingTimeout
	}
	return lo
}
