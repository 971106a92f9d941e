package expressio

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Defaults of the http.Server an App makes.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 1 << 20
)

// App is an express.io app: a gin engine for HTTP, with its realtime
// side in IO. Users keep gin's API (app.GET, app.Use, app.Group); the
// socket.io endpoint is mounted at IO's path for every method.
//
// express.io: var app = require('express.io')(); app.http().io().
type App struct {
	*gin.Engine
	// IO is the realtime side: express.io's app.io.
	IO *Server

	// ReadHeaderTimeout, IdleTimeout and MaxHeaderBytes are those of the
	// http.Server that Listen and Serve make (0 = 10s, 120s and 1 MiB; a
	// negative duration means none): a client that takes longer to send
	// a request's header is disconnected, an idle keep-alive connection
	// is closed, and a header over the size is answered 431. Set them
	// before Listen. There is no ReadTimeout or WriteTimeout, which would
	// cut long-polls and WebSockets short: the engine bounds those itself
	// (pingTimeout, Engine.WriteTimeout).
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int

	mountOnce sync.Once
	mu        sync.Mutex
	tlsConfig *tls.Config
	srv       *http.Server
}

// appKey is the gin context key under which an App finds itself.
type appKey struct{}

// New returns an App with a gin engine (gin.New plus gin.Recovery) and a
// realtime Server with default options.
//
// express.io: require('express.io')().
func New() *App {
	engine := gin.New()
	engine.Use(gin.Recovery())
	a := &App{Engine: engine, IO: NewServer(nil)}
	engine.Use(func(c *gin.Context) { c.Set(appKey{}, a) })
	return a
}

// mount registers the socket.io endpoint with gin, once, at the path
// configured by then.
func (a *App) mount() {
	a.mountOnce.Do(func() {
		// Every method, not only GET, POST and OPTIONS: the engine answers
		// the others with its own error codes, as Node does, and socket.io
		// 0.9 handshakes take any method.
		a.Engine.Any(strings.TrimSuffix(a.IO.Path(), "/")+"/*any", a.serveIO)
	})
}

// ServeHTTP serves HTTP and socket.io requests.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mount()
	a.Engine.ServeHTTP(w, r)
}

// HTTP selects plain HTTP, which is the default; it returns a for
// chaining. express.io: app.http().
func (a *App) HTTP() *App {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tlsConfig = nil
	return a
}

// HTTPS selects HTTPS with a certificate and key from PEM files.
// express.io: app.https({key, cert}).
func (a *App) HTTPS(certFile, keyFile string) (*App, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return a, fmt.Errorf("expressio: https: %w", err)
	}
	return a.HTTPSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}), nil
}

// HTTPSConfig selects HTTPS with the given TLS configuration.
func (a *App) HTTPSConfig(cfg *tls.Config) *App {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tlsConfig = cfg.Clone()
	return a
}

// Listen serves on addr until Shutdown, which makes it return
// http.ErrServerClosed. express.io: app.listen(port).
func (a *App) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("expressio: listen: %w", err)
	}
	return a.Serve(ln)
}

// Serve serves on ln until Shutdown, like Listen.
func (a *App) Serve(ln net.Listener) error {
	a.mount()
	a.mu.Lock()
	if a.srv != nil {
		a.mu.Unlock()
		ln.Close()
		return errors.New("expressio: app already serving")
	}
	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: cmp.Or(a.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		IdleTimeout:       cmp.Or(a.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    cmp.Or(a.MaxHeaderBytes, DefaultMaxHeaderBytes),
		TLSConfig:         a.tlsConfig,
	}
	a.srv = srv
	a.mu.Unlock()
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}

// Shutdown stops the app gracefully: it refuses new handshakes,
// disconnects every socket with "server shutting down", completes pending
// polls, closes websockets with 1001 and then shuts the HTTP server down,
// all within ctx.
func (a *App) Shutdown(ctx context.Context) error {
	ioErr := a.IO.Shutdown(ctx)
	a.mu.Lock()
	srv := a.srv
	a.mu.Unlock()
	var httpErr error
	if srv != nil {
		httpErr = srv.Shutdown(ctx)
	}
	return errors.Join(ioErr, httpErr)
}
