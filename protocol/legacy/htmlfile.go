package legacy

import (
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// htmlfilePreamble opens an htmlfile stream: a script that hands each
// message to the client in the parent page, then 173 spaces, which made
// old Internet Explorers start rendering.
const htmlfilePreamble = "<html><body><script>var _ = function (msg) { parent.s._(msg, document); };</script>" +
	"                                                                                                    " + // 100
	"                                                                         " // + 73 = 173

// appendScript appends one packet of an htmlfile stream.
func appendScript(dst, pkt []byte) []byte {
	dst = append(dst, "<script>_("...)
	dst = appendJSString(dst, pkt, scriptEscapes|slashEscape)
	return append(dst, ");</script>"...)
}

// serveHTMLFile streams a session's packets as script tags in one chunked
// text/html response, for as long as the connection lasts. Heartbeats go
// on it too.
func (s *Server) serveHTMLFile(w http.ResponseWriter, r *http.Request, sess *Session) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=UTF-8")
	if r.ProtoMajor == 1 {
		h.Set("Connection", "keep-alive")
	}
	write := func(chunk []byte) error {
		rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		return rc.Flush()
	}
	if sess == nil {
		write(appendScript([]byte(htmlfilePreamble), []byte(notHandshaken)))
		return
	}
	a := &attachment{transport: TransportHTMLFile, wake: make(chan struct{}, 1)}
	sess.mu.Lock()
	if sess.state == stateClosed {
		sess.mu.Unlock()
		write(appendScript([]byte(htmlfilePreamble), []byte(notHandshaken)))
		return
	}
	if old := sess.cur; old != nil && old.transport == TransportHTMLFile {
		sess.mu.Unlock()
		s.opts.Logger.Info("legacy: overlapping htmlfile, closing session", "sid", sess.id)
		sess.closeWith(ReasonTransportOverlap, nil, websocket.ClosePolicyViolation)
		write(appendScript([]byte(htmlfilePreamble), []byte(notHandshaken)))
		return
	}
	sess.attachLocked(a)
	sess.mu.Unlock()
	sess.open()

	if err := write([]byte(htmlfilePreamble)); err != nil {
		sess.transportEnded(a, ReasonSocketError, 0)
		return
	}
	var buf []byte
	for {
		sess.mu.Lock()
		var out [][]byte
		current := sess.cur == a
		if current {
			out = sess.queue
			sess.queue = nil
		}
		done := !current || sess.state == stateClosed
		sess.mu.Unlock()
		if len(out) > 0 {
			buf = buf[:0]
			for _, p := range out {
				buf = appendScript(buf, p)
			}
			if err := write(buf); err != nil {
				s.opts.Logger.Info("legacy: htmlfile write failed", "sid", sess.id, "err", err)
				sess.transportEnded(a, ReasonSocketError, 0)
				return
			}
		}
		if done {
			return
		}
		select {
		case <-a.wake:
		case <-r.Context().Done():
			sess.transportEnded(a, ReasonSocketClose, 0)
			return
		}
	}
}
