package expressio

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Handshake describes how a socket connected: express.io's
// req.handshake, socket.io's socket.handshake. Middleware may attach
// values with Set; routes read them with Get.
type Handshake struct {
	// Headers of the request that opened the connection.
	Headers http.Header
	// Query of the connection URL, plus (protocol v4 clients) the query
	// of the namespace CONNECT packet.
	Query url.Values
	// Auth is the CONNECT packet's auth payload as raw JSON: the auth
	// object of protocol v5 clients, the namespace query (as an object of
	// strings) of v4 clients, as Node's socket.io 4 has it; {} when the
	// client sent none.
	Auth json.RawMessage
	// Address is the client's remote address, host:port.
	Address string
	// Time is when the connection was opened.
	Time time.Time
	// Issued is Time in milliseconds since the Unix epoch.
	Issued int64
	// URL is the request URI of the handshake.
	URL string
	// Secure reports whether the connection is over TLS.
	Secure bool
	// XDomain reports whether the handshake was cross-origin (it had an
	// Origin header).
	XDomain bool
	// Namespace is the namespace the socket connects to.
	Namespace string
	// Session is the user's session, loaded from the handshake's cookie
	// when the app has sessions (see App.Sessions); nil otherwise.
	Session Session

	mu     sync.RWMutex
	values map[string]any
}

// Set stores a value for the routes of this socket to read, as
// express.io middleware does by annotating the handshake data.
func (h *Handshake) Set(key string, value any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.values == nil {
		h.values = make(map[string]any)
	}
	h.values[key] = value
}

// Get returns a value stored with Set.
func (h *Handshake) Get(key string) (any, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	v, ok := h.values[key]
	return v, ok
}
