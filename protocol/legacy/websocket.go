package legacy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// serveWebSocket upgrades to RFC 6455 and carries the session on it, one
// packet per text message, until either side closes it.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request, sess *Session) {
	if !websocket.IsWebSocketUpgrade(r) {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	if sess != nil {
		sess.mu.Lock()
		overlap := sess.cur != nil && sess.cur.transport == TransportWebSocket && sess.state != stateClosed
		sess.mu.Unlock()
		if overlap {
			s.opts.Logger.Info("legacy: second websocket, closing session", "sid", sess.id)
			sess.closeWith(ReasonTransportOverlap, nil, websocket.ClosePolicyViolation)
		}
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	conn.SetReadLimit(s.opts.MaxPayload)
	a := &attachment{transport: TransportWebSocket, ws: conn}
	attached := false
	if sess != nil {
		sess.mu.Lock()
		if sess.state != stateClosed && (sess.cur == nil || sess.cur.transport != TransportWebSocket) {
			sess.attachLocked(a)
			attached = true
		}
		sess.mu.Unlock()
	}
	if !attached {
		// Node's answer to an unknown or closed session: the error packet,
		// then the end of the connection.
		deadline := time.Now().Add(s.opts.WriteTimeout)
		conn.SetWriteDeadline(deadline)
		conn.WriteMessage(websocket.TextMessage, []byte(notHandshaken))
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline)
		conn.Close()
		return
	}
	sess.open()
	sess.readLoop(a)
}

// readLoop reads a's WebSocket until it fails; it runs on the request's
// goroutine. Each text message is one packet.
func (s *Session) readLoop(a *attachment) {
	conn := a.ws
	defer conn.Close()
	for {
		kind, data, err := conn.ReadMessage()
		if err != nil {
			reason := ReasonSocketClose
			var ce *websocket.CloseError
			switch {
			case errors.Is(err, websocket.ErrReadLimit):
				reason = ReasonPayloadTooLarge
				s.srv.opts.Logger.Info("legacy: websocket message over MaxPayload", "sid", s.id, "limit", s.srv.opts.MaxPayload)
			case errors.As(err, &ce):
				reason = ReasonSocketEnd
			}
			s.transportEnded(a, reason, closeCodeFor(reason))
			return
		}
		if kind != websocket.TextMessage {
			s.srv.opts.Logger.Info("legacy: binary websocket message", "sid", s.id)
			s.closeWith(ReasonParseError, nil, websocket.CloseUnsupportedData)
			continue // the writer closes the connection
		}
		p, err := Decode(data)
		if err != nil {
			s.srv.opts.Logger.Info("legacy: bad websocket packet", "sid", s.id, "err", err)
			s.closeWith(ReasonParseError, nil, websocket.CloseProtocolError)
			continue
		}
		s.receive([]Packet{p})
	}
}

// drain writes the queue to a's WebSocket until it is empty; it runs only
// while there is work, so an idle session parks no writer goroutine. It
// is the connection's one writer. Once the session has closed and the
// queue is empty, it sends the close frame.
func (s *Session) drain(a *attachment) {
	conn := a.ws
	timeout := s.srv.opts.WriteTimeout
	for {
		s.mu.Lock()
		if s.cur != a {
			a.draining = false
			s.mu.Unlock()
			return // replaced: the connection was closed
		}
		out := s.queue
		s.queue = nil
		if len(out) == 0 {
			a.draining = false
			closed, code := s.state == stateClosed, s.closeCode
			s.mu.Unlock()
			if closed {
				conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(timeout))
				conn.Close()
			}
			return
		}
		s.mu.Unlock()
		conn.SetWriteDeadline(time.Now().Add(timeout))
		for _, p := range out {
			if err := conn.WriteMessage(websocket.TextMessage, p); err != nil {
				level := slog.LevelInfo
				if errors.Is(err, websocket.ErrCloseSent) || s.closed() {
					level = slog.LevelDebug // the client closed first, or the server did
				}
				s.srv.opts.Logger.Log(context.Background(), level, "legacy: websocket write failed", "sid", s.id, "err", err)
				s.mu.Lock()
				a.draining = false
				s.mu.Unlock()
				s.transportEnded(a, ReasonSocketError, websocket.CloseAbnormalClosure)
				conn.Close()
				return
			}
		}
	}
}

func closeCodeFor(reason string) int {
	if reason == ReasonPayloadTooLarge {
		return websocket.CloseMessageTooBig
	}
	return websocket.CloseNormalClosure
}
