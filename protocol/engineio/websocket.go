package engineio

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
	"github.com/expressio-go/expressio/protocol/engineio/wsconn"
)

// outPacket is one queued packet. wire, when set, holds the packet's
// WebSocket frames built once for every session a broadcast reaches; raw
// is a ready frame of the WebSocket itself (a pong).
type outPacket struct {
	packet.Packet
	wire *wireFrames
	raw  []byte
}

// wireFrames caches the WebSocket frames of one prepared Message. A text
// message is the same frame on both revisions; a binary one differs
// (revision 3 puts the type byte 4 first).
type wireFrames struct {
	once  [2]sync.Once
	frame [2][]byte
}

func (w *wireFrames) get(rev int, p packet.Packet) []byte {
	i := 0
	if p.Binary && rev == packet.Revision4 {
		i = 1
	}
	w.once[i].Do(func() { w.frame[i] = appendWSFrame(nil, rev, p) })
	return w.frame[i]
}

// appendWSFrame appends p as one WebSocket frame of revision rev.
func appendWSFrame(dst []byte, rev int, p packet.Packet) []byte {
	var prefix [1]byte
	head, binary := packet.AppendFrame(prefix[:0], rev, packet.Packet{Type: p.Type, Binary: p.Binary})
	op := wsconn.OpText
	if binary {
		op = wsconn.OpBinary
	}
	return wsconn.AppendFrame(dst, op, head, p.Data)
}

// appendOut appends the frame of a queued packet.
func appendOut(dst []byte, rev int, o *outPacket) []byte {
	switch {
	case o.raw != nil:
		return append(dst, o.raw...)
	case o.wire != nil:
		return append(dst, o.wire.get(rev, o.Packet)...)
	}
	return appendWSFrame(dst, rev, o.Packet)
}

// maxPooledBuffer bounds the write buffers kept for reuse; a larger one,
// grown for a big message, is left to the garbage collector.
const maxPooledBuffer = 64 << 10

func (s *Server) getBuffer() *[]byte { return s.writeBuffers.Get().(*[]byte) }

func (s *Server) putBuffer(b *[]byte, used []byte) {
	if cap(used) > maxPooledBuffer {
		return
	}
	*b = used[:0]
	s.writeBuffers.Put(b)
}

// writeNowLocked writes the queue to the session's WebSocket if the
// socket takes all of it at once; s.mu is held and no drainer runs. A
// socket that takes part keeps the rest in wsPending for a drainer, and
// the call reports false.
//
// This is the broadcast fast path: a ready socket is written from the
// broadcasting goroutine, with no goroutine, copy or allocation per
// delivery for a prepared message, and never a wait.
func (s *Session) writeNowLocked() bool {
	rev := s.handshake.Revision
	var frame []byte
	var buf *[]byte
	if len(s.queue) == 1 && s.queue[0].wire != nil {
		frame = s.queue[0].wire.get(rev, s.queue[0].Packet)
	} else {
		buf = s.srv.getBuffer()
		frame = (*buf)[:0]
		for i := range s.queue {
			frame = appendOut(frame, rev, &s.queue[i])
		}
	}
	n, err := s.ws.TryWrite(frame)
	s.resetQueueLocked()
	done := err == nil && n == len(frame)
	if !done {
		// The drainer writes the rest, or meets the error and closes.
		if buf != nil {
			s.wsPending = append([]byte(nil), frame[n:]...)
		} else {
			s.wsPending = frame[n:] // a shared frame: never written to
		}
	}
	if buf != nil {
		s.srv.putBuffer(buf, frame)
	}
	return done
}

// resetQueueLocked empties the queue, keeping a small backing array for
// the next packets; s.mu is held.
func (s *Session) resetQueueLocked() {
	if cap(s.queue) > 16 {
		s.queue = nil
		return
	}
	clear(s.queue)
	s.queue = s.queue[:0]
}

// drain writes the queue to the session's WebSocket until it is empty,
// waiting on the socket as long as WriteTimeout. It runs only while a
// socket cannot take what is queued, so an idle or keeping-up session
// has no writer goroutine. It is then the connection's one writer. Once
// the session has closed and the queue is empty, it sends the close frame
// and closes the connection.
func (s *Session) drain(conn *wsconn.Conn) {
	rev := s.handshake.Revision
	timeout := s.srv.opts.WriteTimeout
	for {
		s.mu.Lock()
		pending := s.wsPending
		s.wsPending = nil
		if len(pending) == 0 && len(s.queue) == 0 {
			s.draining = false
			closed, code := s.state != stateOpen, s.closeCode
			s.mu.Unlock()
			if closed {
				conn.WriteClose(code, time.Now().Add(timeout))
				conn.Close()
			}
			return
		}
		buf := s.srv.getBuffer()
		out := append((*buf)[:0], pending...)
		for i := range s.queue {
			out = appendOut(out, rev, &s.queue[i])
		}
		s.resetQueueLocked()
		s.mu.Unlock()
		err := conn.Write(out, time.Now().Add(timeout))
		s.srv.putBuffer(buf, out)
		if err != nil {
			s.srv.opts.Logger.Info("engineio: websocket write failed", "sid", s.id, "err", err)
			s.mu.Lock()
			s.resetQueueLocked()
			s.draining = false
			s.mu.Unlock()
			s.closeWith(ReasonTransportError, wsconn.CloseAbnormal)
			conn.Close()
			return
		}
	}
}

// awaitFrames is the goroutine of a WebSocket that waits for its next
// frames: it parks in Wait, with a stack a fraction of what reading and
// handling a message takes, then reads until nothing is buffered.
func (s *Session) awaitFrames(conn *wsconn.Conn) {
	if err := conn.Wait(); err != nil {
		s.readFailed(conn, err)
		return
	}
	s.readLoop(conn)
}

// readFailed closes the session after a read error.
func (s *Session) readFailed(conn *wsconn.Conn, err error) {
	reason, code, keep := readErrorReason(err)
	if keep && code != wsconn.CloseNormal {
		s.srv.opts.Logger.Info("engineio: bad websocket input", "sid", s.id, "err", err)
	}
	s.closeWith(reason, code)
	if !keep {
		conn.Close()
	}
}

// readLoop reads the session's WebSocket while messages keep coming, then
// hands the wait for more to a new awaitFrames goroutine.
func (s *Session) readLoop(conn *wsconn.Conn) {
	rev := s.handshake.Revision
	for {
		m, err := conn.ReadMessage()
		if err != nil {
			s.readFailed(conn, err)
			return
		}
		if m.Op == wsconn.OpPing {
			s.mu.Lock()
			if s.state == stateOpen {
				s.queue = append(s.queue, outPacket{raw: wsconn.AppendFrame(nil, wsconn.OpPong, m.Data)})
				s.flushLocked()
			}
			s.mu.Unlock()
			continue
		}
		p, err := packet.DecodeFrame(rev, m.Data, m.Op == wsconn.OpBinary)
		if err != nil {
			s.srv.opts.Logger.Info("engineio: bad websocket frame", "sid", s.id, "err", err)
			s.closeWith(ReasonParseError, wsconn.CloseProtocolError)
			return
		}
		s.receive([]packet.Packet{p})
		if s.closed() {
			return
		}
		if conn.Buffered() {
			continue
		}
		// A busy connection's next message comes soon: wait for it on
		// this goroutine, whose stack has grown to what handling takes.
		// Once the connection goes quiet, the wait, maybe for minutes,
		// is parked with the upgrader, which starts a reader again when
		// bytes come, and this goroutine ends: an idle connection has
		// no goroutine. Where parking is not available, a new goroutine,
		// whose stack starts small, waits instead.
		conn.SetReadDeadline(time.Now().Add(readerLinger))
		err = conn.Wait()
		conn.SetReadDeadline(time.Time{})
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.park(conn)
			return
		}
		if err != nil {
			s.readFailed(conn, err)
			return
		}
	}
}

// park leaves conn with no goroutine until bytes arrive.
func (s *Session) park(conn *wsconn.Conn) {
	err := conn.Park(func() { s.srv.wg.Go(func() { s.readLoop(conn) }) })
	if err == nil {
		return
	}
	if !errors.Is(err, wsconn.ErrParkUnsupported) {
		s.srv.opts.Logger.Debug("engineio: cannot park websocket", "sid", s.id, "err", err)
	}
	s.srv.wg.Go(func() { s.awaitFrames(conn) })
}

// readerLinger is how long a WebSocket's reader waits for the next frame
// before handing the wait to a goroutine with a small stack.
const readerLinger = 100 * time.Millisecond

// readErrorReason maps a read error to the session's close reason and the
// close code to send. keep reports that the connection stays open for the
// drainer to write that close frame: the peer broke the protocol and is
// told why.
func readErrorReason(err error) (reason string, code int, keep bool) {
	var pe *wsconn.ProtocolError
	var ce *wsconn.CloseError
	switch {
	case errors.Is(err, wsconn.ErrMessageTooBig):
		return ReasonPayloadTooLarge, wsconn.CloseMessageTooBig, true
	case errors.As(err, &pe):
		return ReasonTransportError, pe.Code, true
	case errors.As(err, &ce):
		return ReasonTransportClose, wsconn.CloseNormal, true
	case errors.Is(err, net.ErrClosed), errors.Is(err, io.ErrUnexpectedEOF):
		// Closed here, or by the peer without a close frame.
		return ReasonTransportClose, wsconn.CloseNormal, false
	}
	return ReasonTransportError, wsconn.CloseAbnormal, false
}

// readData returns the next data message of an upgrading WebSocket,
// skipping pings: nothing is written to it before the upgrade is done.
func readData(conn *wsconn.Conn) (wsconn.Message, error) {
	for {
		m, err := conn.ReadMessage()
		if err != nil || m.Op != wsconn.OpPing {
			return m, err
		}
	}
}

// upgradeTo moves a polling session onto conn: probe ("2probe" answered
// "3probe"), then "5" within UpgradeTimeout. Polls are answered at once
// while it runs, and POSTs keep being read, so nothing the client sends in
// the meantime is lost.
func (s *Session) upgradeTo(conn *wsconn.Conn) {
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
	m, err := readData(conn)
	if err != nil {
		fail(err.Error())
		return
	}
	p, err := packet.DecodeFrame(rev, m.Data, m.Op == wsconn.OpBinary)
	if err != nil || p.Type != packet.Ping || string(p.Data) != "probe" {
		fail("no probe")
		return
	}
	pong := appendWSFrame(nil, rev, packet.Packet{Type: packet.Pong, Data: []byte("probe")})
	if err := conn.Write(pong, time.Now().Add(s.srv.opts.WriteTimeout)); err != nil {
		fail(err.Error())
		return
	}
	s.mu.Lock()
	s.upgrading = true
	s.flushLocked() // end a pending poll with a noop
	s.mu.Unlock()

	m, err = readData(conn)
	if err != nil {
		fail(err.Error())
		return
	}
	p, err = packet.DecodeFrame(rev, m.Data, m.Op == wsconn.OpBinary)
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
	s.srv.wg.Go(func() { s.awaitFrames(conn) }) // on a small stack
}
