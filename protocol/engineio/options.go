package engineio

import (
	"log/slog"
	"net/http"
	"time"
)

// Defaults, from Node's engine.io 6 (lib/server.ts).
const (
	DefaultPingInterval   = 25 * time.Second
	DefaultPingTimeout    = 20 * time.Second
	DefaultUpgradeTimeout = 10 * time.Second
	DefaultMaxPayload     = 1_000_000
	DefaultWriteQueueSize = 1024
	DefaultWriteTimeout   = 10 * time.Second
)

// Options configure a Server. The zero value is a valid configuration: every
// zero field means Node's default, named after Node's option. Options are
// copied by NewServer; changing them afterwards has no effect.
type Options struct {
	// PingInterval is Node's pingInterval (0 = 25s). Revision 4: the server
	// pings this often. Revision 3: the client pings this often.
	PingInterval time.Duration
	// PingTimeout is Node's pingTimeout (0 = 20s): how long a ping may go
	// unanswered before the session closes with "ping timeout".
	PingTimeout time.Duration
	// UpgradeTimeout is Node's upgradeTimeout (0 = 10s): how long a
	// transport upgrade may take before the new transport is dropped.
	UpgradeTimeout time.Duration
	// MaxPayload is Node's maxHttpBufferSize (0 = 1e6 bytes): the largest
	// polling body or WebSocket message accepted. A polling body over it is
	// answered 413, a WebSocket message over it closes with 1009; in both
	// cases the session closes.
	MaxPayload int64
	// Transports lists the allowed transports, "polling" and "websocket"
	// (nil = both).
	Transports []string
	// DisallowUpgrades turns off the upgrade from polling to websocket
	// (Node's allowUpgrades=false).
	DisallowUpgrades bool
	// DisallowEIO3 refuses revision 3 clients (socket.io-client 1.x/2.x)
	// with code 5. Unlike Node, revision 3 is allowed by default here.
	DisallowEIO3 bool
	// WriteQueueSize bounds each session's outgoing queue in packets
	// (0 = 1024). A session whose queue overflows is closed: a slow or dead
	// client never makes anybody else wait. Node's queue is unbounded.
	WriteQueueSize int
	// WriteTimeout bounds one WebSocket write and one polling response
	// (0 = 10s). A client that does not read within it is closed.
	WriteTimeout time.Duration
	// AllowedOrigins lists the origins (scheme://host[:port]) allowed to
	// make cross-origin requests, on every handshake and every polling and
	// WebSocket request. "*" allows any origin. Requests without an Origin
	// header (non-browser clients) and same-origin requests are always
	// allowed. A listed origin is answered with exactly that origin,
	// Access-Control-Allow-Credentials and Vary: Origin; an origin only "*"
	// allows gets "Access-Control-Allow-Origin: *" without credentials, so
	// no other site can read a response made with the user's cookies.
	AllowedOrigins []string
	// AllowOrigin, when set, decides instead of AllowedOrigins.
	AllowOrigin func(origin string, r *http.Request) bool
	// AllowRequest is Node's allowRequest: called on the first request of
	// a session (the handshake) only. A non-nil error refuses it with 403
	// and code 4, with the error's text as the message.
	AllowRequest func(r *http.Request) error
	// Cookie, when not empty, is the name of a cookie set on the handshake
	// with the session id, for load-balancer stickiness (Node's cookie
	// option; Node's name is "io"). Path=/, HttpOnly, SameSite=Lax.
	Cookie string
	// Logger receives the engine's logs (nil = slog.Default()).
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
		c.Transports = append([]string(nil), o.Transports...)
		c.AllowedOrigins = append([]string(nil), o.AllowedOrigins...)
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = DefaultPingTimeout
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{transportPolling, transportWebSocket}
	}
	if c.WriteQueueSize <= 0 {
		c.WriteQueueSize = DefaultWriteQueueSize
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (o *Options) allows(transport string) bool {
	for _, t := range o.Transports {
		if t == transport {
			return true
		}
	}
	return false
}
