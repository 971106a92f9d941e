package engineio

import (
	"errors"
	"net"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
)

// drain writes the queue to the session's WebSocket until it is empty; it
// runs only while there is work, so an idle session parks no writer
// goroutine. It is the connection's one writer. Once the session has
// closed and the queue is empty, it sends the close frame.
func (s *Session) drain(conn *websocket.Conn) {
	rev := s.handshake.Revision
	timeout := s.srv.opts.WriteTimeout
	for {
		s.mu.Lock()
		pkts := s.queue
		s.queue = nil
		if len(pkts) == 0 {
			s.draining = false
			closed, code := s.state != stateOpen, s.closeCode
			s.mu.Unlock()
			if closed {
				deadline := time.Now().Add(timeout)
				conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), deadline)
				conn.Close()
			}
			return
		}
		s.mu.Unlock()
		conn.SetWriteDeadline(time.Now().Add(timeout))
		for _, p := range pkts {
			data, binary := packet.EncodeFrame(rev, p)
			kind := websocket.TextMessage
			if binary {
				kind = websocket.BinaryMessage
			}
			if err := conn.WriteMessage(kind, data); err != nil {
				s.srv.opts.Logger.Info("engineio: websocket write failed", "sid", s.id, "err", err)
				s.mu.Lock()
				s.queue = nil
				s.draining = false
				s.mu.Unlock()
				s.closeWith(ReasonTransportError, websocket.CloseAbnormalClosure)
				conn.Close()
				return
			}
		}
	}
}

// readLoop reads the session's WebSocket until it fails or the session
// closes. It runs on the request's goroutine.
func (s *Session) readLoop(conn *websocket.Conn) {
	rev := s.handshake.Revision
	for {
		kind, data, err := conn.ReadMessage()
		if err != nil {
			s.closeWith(readErrorReason(err), websocket.CloseNormalClosure)
			conn.Close()
			return
		}
		p, err := packet.DecodeFrame(rev, data, kind == websocket.BinaryMessage)
		if err != nil {
			s.srv.opts.Logger.Info("engineio: bad websocket frame", "sid", s.id, "err", err)
			s.closeWith(ReasonParseError, websocket.CloseProtocolError)
			return
		}
		s.receive([]packet.Packet{p})
		if s.closed() {
			return
		}
	}
}

func readErrorReason(err error) string {
	if errors.Is(err, websocket.ErrReadLimit) {
		return ReasonPayloadTooLarge
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) || errors.Is(err, net.ErrClosed) {
		return ReasonTransportClose
	}
	return ReasonTransportError
}

// upgradeTo moves a polling session onto conn: probe ("2probe" answered
// "3probe"), then "5" within UpgradeTimeout. Polls are answered at once
// while it runs, and POSTs keep being read, so nothing the client sends in
// the meantime is lost.
func (s *Session) upgradeTo(conn *websocket.Conn) {
	rev := s.handshake.Revision
	fail := func(why string) {
		s.srv.opts.Logger.Debug("engineio: upgrade failed", "sid", s.id, "why", why)
		s.mu.Lock()
		if s.probing == conn {
			s.probing = nil
			s.upgrading = false
		}
		s.mu.Unlock()
		conn.Close()
	}
	conn.SetReadDeadline(time.Now().Add(s.srv.opts.UpgradeTimeout))
	kind, data, err := conn.ReadMessage()
	if err != nil {
		fail(err.Error())
		return
	}
	p, err := packet.DecodeFrame(rev, data, kind == websocket.BinaryMessage)
	if err != nil || p.Type != packet.Ping || string(p.Data) != "probe" {
		fail("no probe")
		return
	}
	pong, _ := packet.EncodeFrame(rev, packet.Packet{Type: packet.Pong, Data: []byte("probe")})
	conn.SetWriteDeadline(time.Now().Add(s.srv.opts.WriteTimeout))
	if err := conn.WriteMessage(websocket.TextMessage, pong); err != nil {
		fail(err.Error())
		return
	}
	s.mu.Lock()
	s.upgrading = true
	s.flushLocked() // end a pending poll with a noop
	s.mu.Unlock()

	kind, data, err = conn.ReadMessage()
	if err != nil {
		fail(err.Error())
		return
	}
	p, err = packet.DecodeFrame(rev, data, kind == websocket.BinaryMessage)
	if err != nil || p.Type != packet.Upgrade {
		fail("no upgrade packet")
		return
	}
	conn.SetReadDeadline(time.Time{})

	s.mu.Lock()
	if s.state != stateOpen || s.probing != conn {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.wakePollLocked()
	s.probing = nil
	s.upgrading = false
	s.transport = transportWebSocket
	s.ws = conn
	if len(s.queue) > 0 {
		s.flushLocked()
	}
	s.mu.Unlock()
	s.readLoop(conn)
}
