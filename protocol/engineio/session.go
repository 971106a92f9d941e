package engineio

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
	"github.com/expressio-go/expressio/protocol/engineio/wsconn"
)

// Transport names, as they appear in the transport query parameter.
const (
	transportPolling   = "polling"
	transportWebSocket = "websocket"
)

// Close reasons, as Node's engine.io names them.
const (
	ReasonTransportClose   = "transport close"
	ReasonTransportError   = "transport error"
	ReasonPingTimeout      = "ping timeout"
	ReasonParseError       = "parse error"
	ReasonForcedClose      = "forced close"
	ReasonServerShutdown   = "server shutting down"
	ReasonQueueOverflow    = "write queue overflow"
	ReasonPayloadTooLarge  = "payload too large"
	ReasonPollingOverlap   = "polling overlap"
	reasonUpgradeCancelled = "upgrade cancelled"
)

// Handshake describes the request that opened a session. It never changes
// after the session opens.
type Handshake struct {
	Header     http.Header // a copy of the handshake request's headers
	Query      url.Values  // the handshake URL's query, Engine.IO's own keys included
	URL        string      // the request URI
	Host       string
	RemoteAddr string
	Secure     bool      // TLS
	XDomain    bool      // an Origin header was present
	Time       time.Time // when the handshake arrived
	Revision   int       // 3 or 4
	Transport  string    // the first transport, "polling" or "websocket"
}

// Message is one Engine.IO message: text, or binary when Binary is set.
type Message struct {
	Data   []byte
	Binary bool

	wire *wireFrames // set by Prepare
}

// Prepare returns m ready to go to many sessions, as a broadcast does:
// its WebSocket frame is built once, on first use, and the same bytes are
// written to every WebSocket it is sent to. Data must not change
// afterwards.
func Prepare(m Message) Message {
	m.wire = new(wireFrames)
	return m
}

// A Handler serves the sessions of a Server.
//
// Open is called once per session, before any of its messages, on the
// goroutine of the handshake request; it may Send. The Receiver it returns
// gets the session's messages in order and, last, its close.
type Handler interface {
	Open(s *Session) Receiver
}

// A Receiver gets one session's messages. OnMessage calls never overlap for
// one session; OnClose is called once, after the last OnMessage returned,
// on a goroutine of its own. A Receiver that blocks delays only its own
// session.
type Receiver interface {
	OnMessage(m Message)
	OnClose(reason string)
}

type sessionState int

const (
	stateOpen sessionState = iota
	stateClosed
)

// Session is one Engine.IO connection, on whichever transport it currently
// uses. All its methods are safe for concurrent use.
type Session struct {
	srv       *Server
	id        string
	handshake *Handshake
	ctx       context.Context    // made by Context; guarded by mu
	cancel    context.CancelFunc // guarded by mu

	recvMu sync.Mutex // serializes delivery to recv
	recv   Receiver

	mu          sync.Mutex
	state       sessionState
	reason      string
	closeCode   int
	queue       []outPacket
	transport   string
	b64         bool   // revision 3 polling client that cannot take binary
	jsonp       string // JSONP callback index, revision 3 only
	pollWaiting bool
	posting     bool
	wake        chan struct{} // ends a pending poll; made by the first poll
	ws          *wsconn.Conn  // the session's WebSocket once on it
	wsPending   []byte        // the rest of a frame the socket took part of
	draining    bool          // a drainer goroutine is the WebSocket's writer
	probing     *wsconn.Conn  // a WebSocket in the middle of an upgrade
	upgrading   bool          // probe answered: polls end at once
	hb          *time.Timer
	awaitPong   bool
	lastPoll    time.Time   // when the last poll was answered
	polls       int         // polls answered, the handshake's included
	lingering   bool        // closed by Shutdown between two polls: kept for the next one
	lingerTimer *time.Timer // forgets a lingering session whose client does not poll
}

// A polling client between two polls when the server shuts down would find
// its session gone at its next poll, and lose what was queued, the close
// packet included. A session whose client polled lately (within
// shutdownPollRecent) and either has messages waiting or has polled again
// after its handshake, so is sure to poll once more, is kept for that next
// poll, for shutdownPollGrace at most. (Node waits for the next poll too,
// up to 30 s.)
const (
	shutdownPollRecent = 5 * time.Second
	shutdownPollGrace  = 2 * time.Second
)

// ID returns the session id. It is a bearer secret: never show it to
// other clients.
func (s *Session) ID() string { return s.id }

// Handshake returns the request that opened the session.
func (s *Session) Handshake() *Handshake { return s.handshake }

// Revision returns the Engine.IO protocol revision, 3 or 4.
func (s *Session) Revision() int { return s.handshake.Revision }

// Context returns a context cancelled when the session closes.
func (s *Session) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Made on first use: most sessions never ask, and an idle
	// connection's every byte counts.
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		if s.state != stateOpen {
			s.cancel()
		}
	}
	return s.ctx
}

// Transport returns the current transport, "polling" or "websocket".
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// Send queues messages for the client, in order and all or none. It never
// waits on the client. When the queue would overflow, the session closes
// and ErrQueueFull is returned; on a closed session ErrSessionClosed.
func (s *Session) Send(msgs ...Message) error {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	if len(s.queue)+len(msgs) > s.srv.opts.WriteQueueSize {
		transport, ws := s.transport, s.ws
		s.mu.Unlock()
		s.srv.opts.Logger.Warn("engineio: write queue full, closing session",
			"sid", s.id, "transport", transport, "queue", s.srv.opts.WriteQueueSize, "reason", ReasonQueueOverflow)
		s.closeWith(ReasonQueueOverflow, wsconn.ClosePolicyViolation)
		if ws != nil {
			// The client does not read: a close frame would wait for it
			// as long as WriteTimeout, and so would the writer that is
			// stuck in the queue's last batch. Both end now.
			ws.Close()
		}
		return ErrQueueFull
	}
	for _, m := range msgs {
		s.queue = append(s.queue, outPacket{
			Packet: packet.Packet{Type: packet.Message, Data: m.Data, Binary: m.Binary},
			wire:   m.wire,
		})
	}
	s.flushLocked()
	s.mu.Unlock()
	return nil
}

// Close closes the session from the server side with reason "forced close".
// Queued messages are still written first.
func (s *Session) Close() error {
	s.closeWith(ReasonForcedClose, wsconn.CloseNormal)
	return nil
}

// push queues an engine-level packet; s.mu is held.
func (s *Session) pushLocked(p packet.Packet) {
	s.queue = append(s.queue, outPacket{Packet: p})
	s.flushLocked()
}

// flushLocked makes the current transport pick the queue up; s.mu is held.
func (s *Session) flushLocked() {
	switch {
	case s.ws != nil:
		if s.draining || (s.state == stateOpen && s.writeNowLocked()) {
			return
		}
		s.draining = true
		ws := s.ws
		s.srv.wg.Go(func() { s.drain(ws) })
	default:
		s.wakePollLocked()
	}
}

// wakePollLocked ends the wait of a pending poll, if any; s.mu is held.
func (s *Session) wakePollLocked() {
	if s.pollWaiting {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// closeWith ends the session once: it stops the heartbeat, lets the
// transport write what is queued (then a close packet on polling, a close
// frame on WebSocket), forgets the session and tells the Receiver.
func (s *Session) closeWith(reason string, wsCode int) {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	s.state = stateClosed
	s.reason = reason
	s.closeCode = wsCode
	cancel := s.cancel
	if s.hb != nil {
		s.hb.Stop()
	}
	if s.probing != nil {
		s.probing.Close()
	}
	linger := reason == ReasonServerShutdown && s.ws == nil && s.transport == transportPolling &&
		!s.pollWaiting && (len(s.queue) > 0 || s.polls > 1) && time.Since(s.lastPoll) < shutdownPollRecent
	if linger {
		s.lingering = true
		s.lingerTimer = time.AfterFunc(shutdownPollGrace, s.endLinger)
	}
	s.flushLocked() // the transport writes the rest, then closes
	s.mu.Unlock()

	if !linger {
		s.srv.forget(s)
	}
	if cancel != nil {
		cancel()
	}
	s.srv.opts.Logger.Debug("engineio: session closed", "sid", s.id, "reason", reason)
	s.srv.wg.Go(func() {
		s.recvMu.Lock()
		defer s.recvMu.Unlock()
		s.recv.OnClose(reason)
	})
}

// endLinger forgets a session kept for a poll that did not come.
func (s *Session) endLinger() {
	s.mu.Lock()
	expired := s.lingering
	s.lingering = false
	s.queue = nil
	s.mu.Unlock()
	if expired {
		s.srv.forget(s)
	}
}

// closed reports whether the session has closed.
func (s *Session) closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state != stateOpen
}

// startHeartbeat arms the session's one heartbeat timer. Revision 4: the
// server pings every PingInterval and waits PingTimeout for the pong.
// Revision 3: the client pings, and silence for PingInterval+PingTimeout
// closes the session.
func (s *Session) startHeartbeat() {
	o := &s.srv.opts
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handshake.Revision == 3 {
		s.hb = time.AfterFunc(o.PingInterval+o.PingTimeout, s.heartbeatExpired)
		return
	}
	s.hb = time.AfterFunc(o.PingInterval, s.heartbeatExpired)
}

func (s *Session) heartbeatExpired() {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	if s.handshake.Revision == 3 || s.awaitPong {
		s.mu.Unlock()
		s.closeWith(ReasonPingTimeout, wsconn.CloseNormal)
		return
	}
	s.awaitPong = true
	s.hb.Reset(s.srv.opts.PingTimeout)
	s.pushLocked(packet.Packet{Type: packet.Ping})
	s.mu.Unlock()
}

// receive handles packets from the client, from whichever transport.
func (s *Session) receive(pkts []packet.Packet) {
	for _, p := range pkts {
		switch p.Type {
		case packet.Message:
			s.deliver(Message{Data: p.Data, Binary: p.Binary})
		case packet.Ping, packet.Pong:
			// Revision 3: the client pings. Revision 4: the server does.
			if (p.Type == packet.Ping) != (s.handshake.Revision == 3) {
				s.srv.opts.Logger.Info("engineio: invalid heartbeat direction", "sid", s.id, "eio", s.handshake.Revision)
				s.closeWith(ReasonParseError, wsconn.CloseProtocolError)
				return
			}
			s.mu.Lock()
			if s.state == stateOpen && p.Type == packet.Ping {
				s.hb.Reset(s.srv.opts.PingInterval + s.srv.opts.PingTimeout)
				s.pushLocked(packet.Packet{Type: packet.Pong, Data: p.Data})
			} else if s.state == stateOpen && s.awaitPong {
				s.awaitPong = false
				s.hb.Reset(s.srv.opts.PingInterval)
			}
			s.mu.Unlock()
		case packet.Close:
			s.closeWith(ReasonTransportClose, wsconn.CloseNormal)
			return
		case packet.Noop:
		default: // open, or upgrade outside an upgrade
			s.srv.opts.Logger.Debug("engineio: unexpected packet", "sid", s.id, "type", p.Type.String())
			s.closeWith(ReasonParseError, wsconn.CloseProtocolError)
			return
		}
	}
}

func (s *Session) deliver(m Message) {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	if s.closed() {
		return
	}
	s.recv.OnMessage(m)
}
