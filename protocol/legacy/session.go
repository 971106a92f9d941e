package legacy

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Close reasons, as socket.io 0.9 names them where it has a name.
const (
	// ReasonBooted: the client sent "0::" or a ?disconnect request, or
	// the server called Session.Close.
	ReasonBooted = "booted"
	// ReasonCloseTimeout: no transport connected within CloseTimeout.
	ReasonCloseTimeout = "close timeout"
	// ReasonHeartbeatTimeout: a heartbeat went unanswered for
	// HeartbeatTimeout.
	ReasonHeartbeatTimeout = "heartbeat timeout"
	// ReasonSocketEnd: the client closed its WebSocket.
	ReasonSocketEnd = "socket end"
	// ReasonSocketClose: the WebSocket or htmlfile connection went away.
	ReasonSocketClose = "socket close"
	// ReasonSocketError: a write to the client failed or timed out.
	ReasonSocketError = "socket error"
	// ReasonParseError: the client sent something that does not decode.
	ReasonParseError = "parse error"
	// ReasonPayloadTooLarge: a POST or WebSocket message over MaxPayload.
	ReasonPayloadTooLarge = "payload too large"
	// ReasonQueueOverflow: the write queue overflowed.
	ReasonQueueOverflow = "write queue overflow"
	// ReasonTransportOverlap: a second GET of the same transport while
	// one was still connected.
	ReasonTransportOverlap = "transport overlap"
	// ReasonServerShutdown: Server.Shutdown.
	ReasonServerShutdown = "server shutting down"
)

// Handshake describes the request that opened a session, socket.io 0.9's
// handshake data. It never changes after the handshake.
type Handshake struct {
	Header  http.Header // a copy of the handshake request's headers, Cookie included
	Query   url.Values  // the handshake URL's query without "t", the cache buster
	Address string      // the client's address, "host:port"
	Host    string      // the Host the request was sent to
	URL     string      // the request URI
	Secure  bool        // TLS
	XDomain bool        // an Origin header was present
	Time    time.Time   // when the handshake arrived
	Issued  int64       // Time in Unix milliseconds, Node's "issued"
}

// A Handler serves the sessions of a Server.
//
// Open is called once per session, when its first transport connects (the
// server has then queued "1::", the connect echo), before any of its
// packets, on the goroutine of that request. It may Send. The Receiver it
// returns gets the session's packets in order and, last, its close.
type Handler interface {
	Open(s *Session) Receiver
}

// A Receiver gets one session's packets: every packet except heartbeats,
// noops and a disconnect of the whole session ("0::"), which the server
// handles itself. Endpoint business is the Receiver's: it answers a
// namespace connect ("1::/chat") with the same packet to accept it (0.9
// sends nothing for an unknown namespace), and gets "0::/chat" when the
// client leaves one. A packet with an ack id and no '+' has already been
// acknowledged ("6:::<id>") when it arrives; one with '+' waits for the
// Receiver's Ack packet (see AckData). OnPacket calls never overlap
// for one session; OnClose is called once, after the last OnPacket
// returned, on a goroutine of its own. A Receiver that blocks delays only
// its own session. p.Data is not used by the server afterwards.
type Receiver interface {
	OnPacket(p Packet)
	OnClose(reason string)
}

type sessionState uint8

const (
	stateHandshaken sessionState = iota // handshake issued, no transport yet
	stateOpen
	stateClosed
)

// attachment is one transport connection of a session: a pending poll, an
// htmlfile stream or a WebSocket.
type attachment struct {
	transport string
	wake      chan struct{}   // polls and htmlfile: there is something to do
	ws        *websocket.Conn // websocket only
	draining  bool            // websocket: a writer goroutine runs
}

func (a *attachment) heartbeats() bool {
	return a.transport == TransportWebSocket || a.transport == TransportHTMLFile
}

// Packets the server writes itself.
const (
	connectPacket    = "1::"
	disconnectPacket = "0::"
	heartbeatPacket  = "2::"
	noopPacket       = "8::"
	// notHandshaken is "7:::1+0": client not handshaken, reconnect.
	notHandshaken = "7:::1+0"
)

// Session is one socket.io 0.9 client, across the transport connections
// it makes. All its methods are safe for concurrent use.
type Session struct {
	srv      *Server
	id       string
	hs       *Handshake
	authData any
	ctx      context.Context
	cancel   context.CancelFunc

	openOnce sync.Once
	recvMu   sync.Mutex // serializes delivery to recv
	recv     Receiver

	mu        sync.Mutex
	state     sessionState
	reason    string
	closeCode int
	queue     [][]byte // encoded packets not yet written
	cur       *attachment
	transport string
	timer     *time.Timer // handshake expiry, or close timeout while no transport is connected
	timerGen  uint64
	hb        *time.Timer
	hbGen     uint64
	awaitHB   bool // a heartbeat was sent and not answered yet
	// detachedAt is when the last transport connection ended: for a
	// polling client, when its last poll was answered.
	detachedAt time.Time
	// lingering: closed by Shutdown while its polling client was between
	// two polls; registered still, for that client's next poll to collect
	// the queue and the end of the session (see closeWith).
	lingering bool
}

// How Shutdown treats a polling client between two polls: when its last
// poll ended less than shutdownRecentPoll ago, it is taken for alive (a
// live client polls again at once) and its session is kept for at most
// shutdownPollGrace for that next poll.
const (
	shutdownRecentPoll = 5 * time.Second
	shutdownPollGrace  = 2 * time.Second
)

// ID returns the session id. It is a bearer secret: never show it to
// other clients.
func (s *Session) ID() string { return s.id }

// Handshake returns the request that opened the session.
func (s *Session) Handshake() *Handshake { return s.hs }

// AuthData returns what Options.Authorize returned for the session's
// handshake, or nil.
func (s *Session) AuthData() any { return s.authData }

// Context returns a context cancelled when the session closes.
func (s *Session) Context() context.Context { return s.ctx }

// Transport returns the transport the session uses or last used.
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// Send queues packets for the client, in order and all or none. It never
// waits on the client. A packet that cannot be encoded fails with an error
// wrapping ErrInvalidPacket and nothing is sent. When the queue would
// overflow, the session closes and ErrQueueFull is returned; on a closed
// session ErrSessionClosed.
func (s *Session) Send(pkts ...Packet) error {
	frames := make([][]byte, len(pkts))
	for i, p := range pkts {
		b, err := p.Encode()
		if err != nil {
			return err
		}
		frames[i] = b
	}
	return s.enqueue(frames...)
}

func (s *Session) enqueue(frames ...[]byte) error {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	if len(s.queue)+len(frames) > s.srv.opts.WriteQueueSize {
		transport := s.transport
		var ws *websocket.Conn
		if s.cur != nil {
			ws = s.cur.ws
		}
		s.mu.Unlock()
		s.srv.opts.Logger.Warn("legacy: write queue full, closing session",
			"sid", s.id, "transport", transport, "queue", s.srv.opts.WriteQueueSize, "reason", ReasonQueueOverflow)
		s.closeWith(ReasonQueueOverflow, nil, websocket.ClosePolicyViolation)
		if ws != nil {
			// The client does not read what it was sent: a write to it
			// may be stuck until WriteTimeout, and nothing queued will
			// reach it now. End the connection at once.
			ws.Close()
		}
		return ErrQueueFull
	}
	s.queue = append(s.queue, frames...)
	s.kickLocked()
	s.mu.Unlock()
	return nil
}

// Close disconnects the client, like Node's socket.disconnect(): "0::" is
// queued after what is already queued, and the session closes with reason
// "booted". The 0.9 client does not reconnect after it.
func (s *Session) Close() error {
	s.closeWith(ReasonBooted, []byte(disconnectPacket), websocket.CloseNormalClosure)
	return nil
}

// open calls the Handler's Open once; every path that delivers packets or
// the close goes through it first.
func (s *Session) open() {
	s.openOnce.Do(func() {
		r := s.srv.handler.Open(s)
		if r == nil {
			r = discard{}
		}
		s.recv = r
	})
}

// kickLocked makes the connected transport pick the queue up; s.mu is
// held. Without a transport the queue waits for the next one.
func (s *Session) kickLocked() {
	a := s.cur
	switch {
	case a == nil:
	case a.ws != nil:
		if !a.draining {
			a.draining = true
			s.srv.wg.Go(func() { s.drain(a) })
		}
	default:
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
}

// connectLocked moves a handshaken session to open, with "1::" first in
// its queue, as the first transport request arrives; s.mu is held.
func (s *Session) connectLocked(transport string) {
	if s.transport == "" {
		s.transport = transport
	}
	if s.state != stateHandshaken {
		return
	}
	s.state = stateOpen
	s.queue = append(s.queue, []byte(connectPacket))
	s.stopTimerLocked()
	if s.cur == nil {
		s.startCloseTimerLocked()
	}
}

// attachLocked makes a the session's transport connection; s.mu is held
// and the session is not closed. A connection of another transport is
// replaced, as Node does when a client switches transports.
func (s *Session) attachLocked(a *attachment) {
	if old := s.cur; old != nil {
		s.detachLocked(old)
		if old.ws != nil {
			old.ws.Close()
		}
	}
	s.stopTimerLocked()
	s.cur = a
	s.transport = a.transport
	s.connectLocked(a.transport)
	if a.heartbeats() && !s.srv.opts.DisableHeartbeats {
		s.awaitHB = false
		s.armHeartbeatLocked(s.srv.opts.HeartbeatInterval)
	}
	s.kickLocked()
}

// detachLocked ends a's hold on the session; s.mu is held. An open
// session then has CloseTimeout to see another transport.
func (s *Session) detachLocked(a *attachment) {
	if s.cur != a {
		return
	}
	s.cur = nil
	s.detachedAt = time.Now()
	if a.wake != nil {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
	if a.heartbeats() {
		s.stopHeartbeatLocked()
	}
	if s.state == stateOpen {
		s.startCloseTimerLocked()
	}
}

// transportEnded closes the session when a, a WebSocket or htmlfile
// stream, went away while still its transport, as Node does.
func (s *Session) transportEnded(a *attachment, reason string, wsCode int) {
	s.mu.Lock()
	current := s.cur == a && s.state != stateClosed
	s.mu.Unlock()
	if current {
		s.closeWith(reason, nil, wsCode)
	}
}

func (s *Session) startHandshakeTimer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timerGen++
	gen := s.timerGen
	s.timer = time.AfterFunc(s.srv.opts.HandshakeExpiry, func() {
		s.mu.Lock()
		expired := s.timerGen == gen && s.state == stateHandshaken
		if expired {
			s.state = stateClosed
			s.reason = "handshake expired"
		}
		s.mu.Unlock()
		if expired {
			s.srv.forget(s)
			s.cancel()
		}
	})
}

func (s *Session) startCloseTimerLocked() {
	s.stopTimerLocked()
	gen := s.timerGen
	s.timer = time.AfterFunc(s.srv.opts.CloseTimeout, func() {
		s.mu.Lock()
		fire := s.timerGen == gen && s.cur == nil && s.state == stateOpen
		s.mu.Unlock()
		if fire {
			s.closeWith(ReasonCloseTimeout, nil, websocket.CloseNormalClosure)
		}
	})
}

func (s *Session) stopTimerLocked() {
	s.timerGen++
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

func (s *Session) armHeartbeatLocked(d time.Duration) {
	s.stopHeartbeatLocked()
	gen := s.hbGen
	s.hb = time.AfterFunc(d, func() { s.heartbeatFired(gen) })
}

func (s *Session) stopHeartbeatLocked() {
	s.hbGen++
	if s.hb != nil {
		s.hb.Stop()
		s.hb = nil
	}
}

// heartbeatFired sends a heartbeat, or closes the session when the last
// one went unanswered.
func (s *Session) heartbeatFired(gen uint64) {
	s.mu.Lock()
	if gen != s.hbGen || s.state != stateOpen || s.cur == nil || !s.cur.heartbeats() {
		s.mu.Unlock()
		return
	}
	if s.awaitHB {
		s.mu.Unlock()
		s.closeWith(ReasonHeartbeatTimeout, nil, websocket.CloseNormalClosure)
		return
	}
	s.awaitHB = true
	s.queue = append(s.queue, []byte(heartbeatPacket))
	s.armHeartbeatLocked(s.srv.opts.HeartbeatTimeout)
	s.kickLocked()
	s.mu.Unlock()
}

// onHeartbeat takes the client's "2::": the next heartbeat is due
// HeartbeatInterval later.
func (s *Session) onHeartbeat() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateOpen && s.awaitHB && s.cur != nil && s.cur.heartbeats() {
		s.awaitHB = false
		s.armHeartbeatLocked(s.srv.opts.HeartbeatInterval)
	}
}

// closeWith ends the session once: it stops its timers, queues farewell
// (if the session was open) after what is queued, lets the connected
// transport write it all and end, forgets the session and tells the
// Receiver.
//
// A session that Shutdown closes while its polling client, which polled
// recently, is between two polls lingers instead of being forgotten: that
// client's next poll, if it comes within shutdownPollGrace, collects the
// queue and the end of the session (see servePoll), and only then is the
// session forgotten, which Shutdown waits for.
func (s *Session) closeWith(reason string, farewell []byte, wsCode int) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	wasOpen := s.state == stateOpen
	s.state = stateClosed
	s.reason = reason
	s.closeCode = wsCode
	s.stopTimerLocked()
	s.stopHeartbeatLocked()
	if wasOpen && farewell != nil {
		s.queue = append(s.queue, farewell)
	}
	linger := wasOpen && reason == ReasonServerShutdown && s.cur == nil && isPolling(s.transport) &&
		time.Since(s.detachedAt) < shutdownRecentPoll
	if linger {
		s.lingering = true
		gen := s.timerGen
		s.timer = time.AfterFunc(shutdownPollGrace, func() { s.endLinger(gen) })
	}
	s.kickLocked()
	s.mu.Unlock()

	if !linger {
		s.srv.forget(s)
	}
	s.cancel()
	s.srv.opts.Logger.Debug("legacy: session closed", "sid", s.id, "reason", reason)
	if wasOpen {
		s.srv.wg.Go(func() {
			s.open()
			s.recvMu.Lock()
			defer s.recvMu.Unlock()
			s.recv.OnClose(reason)
		})
	}
}

// endLinger forgets a lingering session whose client did not poll again
// in time.
func (s *Session) endLinger(gen uint64) {
	s.mu.Lock()
	expired := s.timerGen == gen && s.lingering
	if expired {
		s.lingering = false
		s.queue = nil
	}
	s.mu.Unlock()
	if expired {
		s.srv.forget(s)
	}
}

// takeLingeringLocked returns the queue of a lingering session for its
// client's last poll, and ends the lingering; s.mu is held. ok is false
// when the session does not linger.
func (s *Session) takeLingeringLocked() (out [][]byte, ok bool) {
	if !s.lingering {
		return nil, false
	}
	out = s.queue
	s.queue = nil
	s.lingering = false
	s.stopTimerLocked()
	return out, true
}

func isPolling(transport string) bool {
	return transport == TransportXHRPolling || transport == TransportJSONPPolling
}

func (s *Session) closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateClosed
}

// receive handles packets from the client, from any transport, in order.
func (s *Session) receive(pkts []Packet) {
	s.open()
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	for _, p := range pkts {
		if s.closed() {
			return
		}
		switch {
		case p.Type == Heartbeat:
			s.onHeartbeat()
			continue
		case p.Type == Disconnect && p.Endpoint == "":
			s.closeWith(ReasonBooted, []byte(disconnectPacket), websocket.CloseNormalClosure)
			return
		}
		if p.ID != "" && !p.Ack {
			// Node acknowledges on receipt, before anything else.
			ack := mustEncode(Packet{Type: Ack, Endpoint: p.Endpoint, Data: []byte(p.ID)})
			if err := s.enqueue(ack); err != nil {
				return
			}
		}
		if p.Type != Noop {
			s.recv.OnPacket(p)
		}
	}
}

type discard struct{}

func (discard) OnPacket(Packet) {}
func (discard) OnClose(string)  {}
