package expressio

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/expressio-go/expressio/protocol/engineio"
)

// Limits bound what one client address may open, on every protocol
// generation the server speaks (Engine.IO 3 and 4 over polling and
// WebSocket, socket.io 0.9). The zero value sets no limit.
//
// Only handshakes count: the requests of an established session (polls,
// POSTs, a WebSocket upgrade) are never refused. An address is the host
// of the connection's RemoteAddr, or with TrustProxy the one gin reads
// from the proxy's headers. An IPv6 address counts by its /64 prefix, the
// block one host usually holds, so that a client cannot dodge the limits
// by walking its own addresses.
type Limits struct {
	// MaxConnectionsPerAddress caps the connections one address may have
	// at once, all generations together: each holds its place from its
	// handshake until its session closes (a 0.9 handshake no transport
	// takes up holds it until the handshake expires). A handshake over
	// the cap is answered 503 Service Unavailable. 0 means no limit;
	// setting "maxConnectionsPerAddress".
	MaxConnectionsPerAddress int
	// MaxHandshakesPerSecond caps the new handshakes one address may make
	// per second: a burst of that many, then that many per second. A
	// handshake over it is answered 429 Too Many Requests with
	// Retry-After. 0 means no limit; setting "maxHandshakesPerSecond".
	MaxHandshakesPerSecond int
	// TrustProxy takes the address from gin's Context.ClientIP instead of
	// the connection: the first address of X-Forwarded-For or X-Real-IP
	// (gin.Engine.RemoteIPHeaders) that is not one of the proxies
	// gin.Engine.SetTrustedProxies names, or gin's TrustedPlatform header.
	// gin trusts every address as a proxy until SetTrustedProxies is
	// called, which would let any client name its own address: call it
	// with your proxies before turning TrustProxy on. It applies to a
	// Server mounted by an App; a Server used as a plain http.Handler
	// always goes by RemoteAddr. Default false; setting "trustProxy".
	TrustProxy bool
}

// limitOption makes a setting of a count in Options.Limits: a whole
// number, 0 for no limit.
func limitOption(field func(*Limits) *int) setting {
	return setting{
		set: func(s *Server, name string, v any) error {
			n, err := asInt(name, v)
			if err != nil {
				return err
			}
			if n < 0 || n > math.MaxInt32 {
				return errSettingValue(name, "%d: want 0 (no limit) or a positive count", n)
			}
			*field(&s.opts.Limits) = int(n)
			return nil
		},
		get: func(s *Server) any { return *field(&s.opts.Limits) },
	}
}

// Bodies of the refusals, and the bound on tracked addresses.
const (
	msgTooManyConnections = "Too many connections from this address"
	msgTooManyHandshakes  = "Too many handshakes from this address"
	// maxRateAddresses bounds the addresses the handshake rate keeps per
	// second. A new address beyond it goes unlimited for the rest of that
	// second: only a flood of distinct addresses gets there, and those
	// are new to any per-address limit anyway.
	maxRateAddresses = 1 << 15
	// maxAddressLen bounds an address that is not an IP (a unix socket's,
	// or a TrustedPlatform header's) used as a key.
	maxAddressLen = 64
)

// limiter enforces a Server's Limits. A nil limiter limits nothing; its
// methods are safe for concurrent use.
type limiter struct {
	conns      *connLimiter // nil: no connection cap
	rate       *rateLimiter // nil: no handshake rate
	trustProxy bool
	resource   string                           // the 0.9 resource, the path without its trailing slash
	expiry     time.Duration                    // how long a 0.9 handshake waits for a transport
	cors       func(http.Header, *http.Request) // the engine's CORS answer
	log        *slog.Logger
}

// newLimiter returns the limiter of the options, nil when they set no
// limit. legacyExpiry is the 0.9 server's handshake expiry.
func newLimiter(o *Options, legacyExpiry time.Duration, cors func(http.Header, *http.Request)) *limiter {
	lo := o.Limits
	if lo.MaxConnectionsPerAddress <= 0 && lo.MaxHandshakesPerSecond <= 0 {
		return nil
	}
	l := &limiter{
		trustProxy: lo.TrustProxy,
		resource:   strings.TrimSuffix(o.Path, "/"),
		// A second more than the 0.9 server's own expiry, so that the
		// place is still held if a transport arrives at the last moment.
		expiry: legacyExpiry + time.Second,
		cors:   cors,
		log:    o.Logger,
	}
	if lo.MaxConnectionsPerAddress > 0 {
		l.conns = &connLimiter{max: lo.MaxConnectionsPerAddress, held: make(map[string]int), pending: make(map[string][]*slot)}
	}
	if lo.MaxHandshakesPerSecond > 0 {
		l.rate = newRateLimiter(lo.MaxHandshakesPerSecond, time.Now)
	}
	return l
}

func noop() {}

// admit lets a request through the limits, or answers it 429 or 503. A
// handshake that gets through holds a place under the connection cap
// until done is called, unless its session takes the place over; the
// request it returns is the one to serve. legacy tells whether r is the
// 0.9 server's.
func (l *limiter) admit(w http.ResponseWriter, r *http.Request, legacy bool) (_ *http.Request, done func(), ok bool) {
	if l == nil || !l.isHandshake(r, legacy) {
		return r, noop, true
	}
	addr := l.addressOf(r)
	if l.rate != nil && !l.rate.allow(addr) {
		l.refuse(w, r, legacy, http.StatusTooManyRequests, msgTooManyHandshakes, addr)
		return r, noop, false
	}
	if l.conns == nil {
		return r, noop, true
	}
	sl := l.conns.acquire(addr, r.RemoteAddr, r.RequestURI, !legacy)
	if sl == nil {
		l.refuse(w, r, legacy, http.StatusServiceUnavailable, msgTooManyConnections, addr)
		return r, noop, false
	}
	if legacy {
		// The 0.9 server hands r to authorizeLegacy, which takes the
		// place over for the session.
		r = r.WithContext(context.WithValue(r.Context(), slotKey{}, sl))
	}
	return r, sl.done, true
}

// isHandshake reports whether r would open a session: an Engine.IO
// request without a sid (the engine refuses it if it is not a proper
// handshake, but it counts as an attempt), or a 0.9 handshake.
func (l *limiter) isHandshake(r *http.Request, legacy bool) bool {
	if legacy {
		rest, ok := strings.CutPrefix(r.URL.Path, l.resource)
		return ok && legacyHandshake(rest)
	}
	return r.Method != http.MethodOptions && r.URL.Query().Get("sid") == ""
}

// legacyHandshake reports whether the path under the 0.9 resource is a
// handshake: protocol 1 without a session id. It reads the path as
// socket.io 0.9 does, /^\/([^\/]+)\/?([^\/]+)?\/?([^\/]+)?\/?$/, which
// gives the protocol, the transport and the session id.
func legacyHandshake(rest string) bool {
	rest, ok := strings.CutPrefix(rest, "/")
	if !ok {
		return false
	}
	proto, rest, _ := strings.Cut(rest, "/")
	_, rest, _ = strings.Cut(rest, "/") // the transport
	sid, rest, _ := strings.Cut(rest, "/")
	return rest == "" && sid == "" && isProtocol1(proto)
}

// isProtocol1 reports whether a path segment is protocol 1 as the 0.9
// server reads it: at most nine digits whose value is 1 ("1", "01"…).
func isProtocol1(v string) bool {
	return len(v) <= 9 && strings.TrimLeft(v, "0") == "1"
}

// addressOf returns the address r's limits are counted under.
func (l *limiter) addressOf(r *http.Request) string {
	if l.trustProxy {
		if ip, _ := r.Context().Value(clientIPKey{}).(string); ip != "" {
			return addressKey(ip)
		}
	}
	return addressKey(hostOf(r.RemoteAddr))
}

// hostOf returns the host of a host:port, or the whole of anything else.
func hostOf(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}

// addressKey returns the key an address is counted under: an IPv4
// address, an IPv6 address's /64 prefix, or (not an IP) at most
// maxAddressLen bytes of the string.
func addressKey(host string) string {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if len(host) > maxAddressLen {
			host = host[:maxAddressLen]
		}
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// refuse answers a handshake over a limit: as the engine answers errors,
// with a JSON {code, message} body, for Engine.IO, and in plain text, as
// the 0.9 server does, for 0.9. An allowed cross-origin request gets the
// CORS headers, so that the page can read why.
func (l *limiter) refuse(w http.ResponseWriter, r *http.Request, legacy bool, status int, msg, addr string) {
	h := w.Header()
	l.cors(h, r)
	if status == http.StatusTooManyRequests {
		h.Set("Retry-After", "1")
	}
	h.Set("Cache-Control", "no-store")
	var body []byte
	if legacy {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		body = []byte(msg)
	} else {
		h.Set("Content-Type", "application/json")
		// Code 4, Forbidden, as Node's allowRequest refusals have it.
		body, _ = json.Marshal(struct {
			Code    engineio.Code `json:"code"`
			Message string        `json:"message"`
		}{engineio.CodeForbidden, msg})
	}
	w.WriteHeader(status)
	w.Write(body)
	l.log.Debug("expressio: handshake refused", "status", status, "address", addr, "legacy", legacy)
}

// engineOpened hands the place of an Engine.IO handshake over to the
// session that came of it, until the session closes. Open runs on the
// handshake's goroutine, inside admit's request, and that request is
// found by the connection's RemoteAddr and the request URI.
func (l *limiter) engineOpened(sess *engineio.Session) {
	if l == nil || l.conns == nil {
		return
	}
	h := sess.Handshake()
	sl := l.conns.claim(h.RemoteAddr, h.URL)
	if sl == nil {
		// Not opened inside admit: count it all the same.
		sl = l.conns.take(addressKey(hostOf(h.RemoteAddr)))
	}
	context.AfterFunc(sess.Context(), sl.release)
}

// legacyAuthorized takes the place of a 0.9 handshake r over for the
// session the 0.9 server is about to make. The session gets it with
// hold when a transport opens it; until then it is released when the
// handshake expires. It returns nil when there is no connection cap.
func (l *limiter) legacyAuthorized(r *http.Request) *slot {
	if l == nil {
		return nil
	}
	sl, _ := r.Context().Value(slotKey{}).(*slot)
	if sl != nil {
		sl.claimUntil(l.expiry)
	}
	return sl
}

// slotKey is the request context key of a 0.9 handshake's slot.
type slotKey struct{}

// clientIPKey is the request context key of the address gin read for an
// App's request, with Limits.TrustProxy.
type clientIPKey struct{}

// serveIO serves a request of the realtime side; with Limits.TrustProxy it
// first notes the address gin reads from the proxy's headers.
func (a *App) serveIO(c *gin.Context) {
	r := c.Request
	if lim := a.IO.limiter(); lim != nil && lim.trustProxy {
		r = r.WithContext(context.WithValue(r.Context(), clientIPKey{}, c.ClientIP()))
	}
	a.IO.ServeHTTP(c.Writer, r)
}

// limiter returns the server's limiter, fixing the options.
func (s *Server) limiter() *limiter {
	s.eio()
	return s.limits
}

// connLimiter counts the connections of each address.
type connLimiter struct {
	max int

	mu      sync.Mutex
	held    map[string]int     // by address; no entry for none
	pending map[string][]*slot // Engine.IO handshakes in progress, by RemoteAddr
}

type slotState uint8

const (
	slotPending  slotState = iota // held by the handshake request
	slotClaimed                   // held by a session, or by a 0.9 handshake until it expires
	slotReleased                  // given back
)

// slot is one place under the connection cap.
type slot struct {
	l          *connLimiter
	addr       string
	remoteAddr string // with uri, how an Engine.IO session finds its handshake's slot
	uri        string
	listed     bool // in l.pending while pending

	// Guarded by l.mu.
	state slotState
	timer *time.Timer // a 0.9 handshake's expiry
}

// acquire takes a place for a handshake from addr, or returns nil when
// addr has none left. listed makes it claimable by an Engine.IO session.
func (l *connLimiter) acquire(addr, remoteAddr, uri string, listed bool) *slot {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[addr] >= l.max {
		return nil
	}
	l.held[addr]++
	sl := &slot{l: l, addr: addr, remoteAddr: remoteAddr, uri: uri, listed: listed}
	if listed {
		l.pending[remoteAddr] = append(l.pending[remoteAddr], sl)
	}
	return sl
}

// take takes a place for addr whatever the cap: for a session that is
// already open.
func (l *connLimiter) take(addr string) *slot {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held[addr]++
	return &slot{l: l, addr: addr, state: slotClaimed}
}

// claim gives a session the slot of the pending handshake it came from:
// on an HTTP/1 connection there is only one; on an HTTP/2 one, the one
// with the same request URI, else the oldest.
func (l *connLimiter) claim(remoteAddr, uri string) *slot {
	l.mu.Lock()
	defer l.mu.Unlock()
	list := l.pending[remoteAddr]
	if len(list) == 0 {
		return nil
	}
	sl := list[0]
	for _, p := range list {
		if p.uri == uri {
			sl = p
			break
		}
	}
	l.unlistLocked(sl)
	sl.state = slotClaimed
	return sl
}

// unlistLocked removes a pending slot from l.pending.
func (l *connLimiter) unlistLocked(sl *slot) {
	list := l.pending[sl.remoteAddr]
	for i, p := range list {
		if p == sl {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(l.pending, sl.remoteAddr)
	} else {
		l.pending[sl.remoteAddr] = list
	}
}

// len returns the number of addresses holding places and of connections
// with handshakes in progress: what the limiter keeps in memory.
func (l *connLimiter) len() (addrs, conns int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.held), len(l.pending)
}

// done ends the handshake request: a slot no session took is released.
func (sl *slot) done() {
	sl.l.mu.Lock()
	defer sl.l.mu.Unlock()
	if sl.state == slotPending {
		sl.releaseLocked()
	}
}

// release gives the place back; only the first call counts.
func (sl *slot) release() {
	sl.l.mu.Lock()
	defer sl.l.mu.Unlock()
	if sl.state != slotReleased {
		sl.releaseLocked()
	}
}

func (sl *slot) releaseLocked() {
	l := sl.l
	if sl.listed && sl.state == slotPending {
		l.unlistLocked(sl)
	}
	sl.state = slotReleased
	if sl.timer != nil {
		sl.timer.Stop()
		sl.timer = nil
	}
	if n := l.held[sl.addr] - 1; n > 0 {
		l.held[sl.addr] = n
	} else {
		delete(l.held, sl.addr)
	}
}

// claimUntil keeps a 0.9 handshake's slot past its request, for at most
// d unless hold takes it over.
func (sl *slot) claimUntil(d time.Duration) {
	sl.l.mu.Lock()
	defer sl.l.mu.Unlock()
	if sl.state == slotPending {
		sl.state = slotClaimed
		sl.timer = time.AfterFunc(d, sl.release)
	}
}

// hold makes the slot the session's, until ctx, the session's context,
// ends. A nil slot holds nothing.
func (sl *slot) hold(ctx context.Context) {
	if sl == nil {
		return
	}
	sl.l.mu.Lock()
	if sl.timer != nil {
		sl.timer.Stop()
		sl.timer = nil
	}
	sl.l.mu.Unlock()
	context.AfterFunc(ctx, sl.release)
}

// rateLimiter is a token bucket per address: a burst of limit
// handshakes, refilled at limit per second, so a bucket is full again one
// second after its last use and may then be forgotten. Buckets live in two
// generations of one second each: a bucket is looked up in the current
// one, then the previous (and moved), and the previous generation is
// dropped whole when a new one starts. Memory is thus bounded by the
// addresses seen in two seconds, and by maxRateAddresses per generation.
type rateLimiter struct {
	limit float64
	now   func() time.Time

	mu        sync.Mutex
	start     time.Time // of the current generation
	cur, prev map[string]bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// rateWindow is the time an empty bucket takes to fill up, and so the
// length of a generation.
const rateWindow = time.Second

func newRateLimiter(perSecond int, now func() time.Time) *rateLimiter {
	return &rateLimiter{limit: float64(perSecond), now: now, start: now(), cur: make(map[string]bucket)}
}

// allow takes a token from addr's bucket, and reports whether there was
// one.
func (l *rateLimiter) allow(addr string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if age := now.Sub(l.start); age >= rateWindow || age < 0 {
		// The buckets of the generation before the previous one were
		// last used over a second ago: they are full, as good as absent.
		l.prev = l.cur
		if age >= 2*rateWindow || age < 0 {
			l.prev = nil
		}
		l.cur = make(map[string]bucket)
		l.start = now
	}
	b, ok := l.cur[addr]
	if !ok {
		if len(l.cur) >= maxRateAddresses {
			return true
		}
		if b, ok = l.prev[addr]; ok {
			delete(l.prev, addr)
		} else {
			b = bucket{tokens: l.limit, last: now}
		}
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(l.limit, b.tokens+elapsed.Seconds()*l.limit)
	}
	b.last = now
	if b.tokens < 1 {
		l.cur[addr] = b
		return false
	}
	b.tokens--
	l.cur[addr] = b
	return true
}

// len returns the number of buckets kept.
func (l *rateLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.cur) + len(l.prev)
}
