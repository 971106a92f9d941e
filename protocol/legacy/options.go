package legacy

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Transport names, as they appear in the handshake and in transport URLs.
const (
	TransportWebSocket    = "websocket"
	TransportHTMLFile     = "htmlfile"
	TransportXHRPolling   = "xhr-polling"
	TransportJSONPPolling = "jsonp-polling"
)

// Defaults, from socket.io 0.9's lib/manager.js.
const (
	DefaultResource          = "/socket.io"
	DefaultHeartbeatTimeout  = 60 * time.Second
	DefaultHeartbeatInterval = 25 * time.Second
	DefaultCloseTimeout      = 60 * time.Second
	DefaultPollingDuration   = 20 * time.Second
	DefaultHandshakeExpiry   = 30 * time.Second
	DefaultMaxPayload        = 1_000_000
	DefaultWriteQueueSize    = 1024
	DefaultWriteTimeout      = 10 * time.Second
)

// Options configure a Server. The zero value is a valid configuration:
// every zero field means socket.io 0.9's default, named after its setting.
// Options are copied by NewServer; changing them afterwards has no effect.
type Options struct {
	// Resource is the path prefix, 0.9's "resource" (""= "/socket.io").
	// The server answers Resource+"/1/…"; mount it so that it sees whole
	// paths.
	Resource string
	// HeartbeatTimeout is "heartbeat timeout" (0 = 60s): how long a
	// heartbeat sent on websocket or htmlfile may go unanswered before the
	// session closes. The client also closes after this long without
	// hearing from the server: it is sent in the handshake.
	HeartbeatTimeout time.Duration
	// HeartbeatInterval is "heartbeat interval" (0 = 25s): how long after
	// opening websocket or htmlfile, and after each answered heartbeat, the
	// server sends "2::". Polling transports get no heartbeats.
	HeartbeatInterval time.Duration
	// CloseTimeout is "close timeout" (0 = 60s): how long a session lives
	// with no transport connected (between polls, say). It is sent in the
	// handshake.
	CloseTimeout time.Duration
	// PollingDuration is "polling duration" (0 = 20s): how long a poll is
	// held before it is answered with a noop, "8::".
	PollingDuration time.Duration
	// DisableHeartbeats is "heartbeats" false: no heartbeats are sent and
	// the handshake's heartbeat field is empty.
	DisableHeartbeats bool
	// Transports lists the transports offered, in order of preference
	// (nil = websocket, htmlfile, xhr-polling, jsonp-polling, 0.9's
	// default). flashsocket is not supported.
	Transports []string
	// MaxPayload bounds a POST body or a WebSocket message (0 = 1e6 bytes;
	// 0.9's "destroy buffer size" was 1e8). A POST over it is answered 413,
	// a WebSocket message over it closes the socket with 1009; in both
	// cases the session closes.
	MaxPayload int64
	// WriteQueueSize bounds each session's outgoing queue in packets
	// (0 = 1024). A session whose queue overflows is closed: a slow or dead
	// client never makes anybody else wait. 0.9's buffer is unbounded.
	WriteQueueSize int
	// WriteTimeout bounds one write to a client, a WebSocket frame, a poll
	// response or an htmlfile chunk (0 = 10s). A client that does not read
	// within it is closed.
	WriteTimeout time.Duration
	// HandshakeExpiry is how long a handshake stays valid without a
	// transport connecting (0 = 30s, fixed in 0.9's garbage collector).
	HandshakeExpiry time.Duration
	// AllowedOrigins lists the origins (scheme://host[:port]) allowed on
	// handshakes, polls and WebSockets alike (0.9's "origins"); "*"
	// allows any. nil allows same-origin requests only. Requests without
	// an Origin (non-browser clients) are always allowed, and so is an
	// Origin that is exactly the Host without a scheme, which no browser
	// sends but socket.io-client 0.9 in Node (ws 0.4) does. Script and
	// iframe requests (JSONP, htmlfile) have no Origin: when the browser
	// marks one as cross-site (Sec-Fetch-Site), its Referer's origin is
	// judged, and without a Referer it is refused. An allowed cross-origin
	// response echoes exactly the request's origin with credentials, but
	// for an origin that only "*" allows: that one gets
	// Access-Control-Allow-Origin: * without credentials (0.9 reflected
	// any origin with credentials, CVE-2020-28481).
	AllowedOrigins []string
	// AllowOrigin, when set, decides instead of AllowedOrigins; the origins
	// it allows are echoed with credentials.
	AllowOrigin func(origin string, r *http.Request) bool
	// Authorize is 0.9's "authorization", called on each handshake before
	// a session id is issued (nil = accept all). A returned error refuses
	// the handshake: 403 "handshake unauthorized" if it wraps
	// ErrUnauthorized, else 500 "handshake error"; the error's text is
	// never sent. Otherwise the value it returns (the loaded HTTP session,
	// what middleware added to the handshake data…) is kept for the
	// Handler as Session.AuthData.
	Authorize func(r *http.Request) (any, error)
	// Logger receives the server's logs (nil = slog.Default()).
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
		c.Transports = append([]string(nil), o.Transports...)
		c.AllowedOrigins = append([]string(nil), o.AllowedOrigins...)
	}
	if c.Resource == "" {
		c.Resource = DefaultResource
	}
	if !strings.HasPrefix(c.Resource, "/") {
		c.Resource = "/" + c.Resource
	}
	c.Resource = strings.TrimRight(c.Resource, "/")
	if c.Resource == "" {
		panic("legacy: Resource must not be \"/\"")
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.PollingDuration <= 0 {
		c.PollingDuration = DefaultPollingDuration
	}
	if c.HandshakeExpiry <= 0 {
		c.HandshakeExpiry = DefaultHandshakeExpiry
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{TransportWebSocket, TransportHTMLFile, TransportXHRPolling, TransportJSONPPolling}
	}
	for _, t := range c.Transports {
		switch t {
		case TransportWebSocket, TransportHTMLFile, TransportXHRPolling, TransportJSONPPolling:
		default:
			panic("legacy: unsupported transport " + `"` + t + `"`)
		}
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = DefaultMaxPayload
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
