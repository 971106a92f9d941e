package engineio

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
	"github.com/expressio-go/expressio/protocol/engineio/wsconn"
)

// servePoll answers a polling GET: at once with whatever is queued, or,
// when nothing is, as soon as something is (a long poll).
func (s *Session) servePoll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.transport != transportPolling {
		s.mu.Unlock()
		s.srv.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeBadRequest})
		return
	}
	if s.pollWaiting {
		s.mu.Unlock()
		s.srv.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "Overlapping poll"})
		s.closeWith(ReasonPollingOverlap, wsconn.ClosePolicyViolation)
		return
	}
	for len(s.queue) == 0 && s.state == stateOpen && !s.upgrading && s.transport == transportPolling {
		if s.wake == nil {
			s.wake = make(chan struct{}, 1) // a session on WebSocket never needs one
		}
		wake := s.wake
		s.pollWaiting = true
		s.mu.Unlock()
		var gone bool
		select {
		case <-wake:
		case <-r.Context().Done():
			gone = true
		}
		s.mu.Lock()
		s.pollWaiting = false
		if gone {
			s.mu.Unlock()
			s.closeWith(ReasonTransportClose, wsconn.CloseNormal)
			return
		}
	}
	var pkts []packet.Packet
	if s.transport == transportPolling {
		pkts = make([]packet.Packet, len(s.queue))
		for i := range s.queue {
			pkts[i] = s.queue[i].Packet
		}
		s.queue = nil
	}
	if s.state != stateOpen && s.transport == transportPolling {
		pkts = append(pkts, packet.Packet{Type: packet.Close})
	} else if len(pkts) == 0 {
		// An upgrade is under way or done: end the poll so the client can
		// pause; the queue is the WebSocket's now.
		pkts = append(pkts, packet.Packet{Type: packet.Noop})
	}
	b64, jsonp := s.b64, s.jsonp
	s.lastPoll = time.Now()
	s.polls++
	collected := s.lingering // the poll a closed session was kept for
	if collected {
		s.lingering = false
		s.lingerTimer.Stop()
	}
	s.mu.Unlock()
	if collected {
		s.srv.forget(s)
	}
	s.srv.writePayload(w, r, s.handshake.Revision, pkts, b64, jsonp)
}

// writePayload writes packets as a polling response body, within
// WriteTimeout: a client that does not read its response is cut off
// rather than holding the request (and Shutdown) forever.
func (srv *Server) writePayload(w http.ResponseWriter, r *http.Request, rev int, pkts []packet.Packet, b64 bool, jsonp string) {
	h := w.Header()
	if origin, verdict := srv.checkOrigin(r); verdict == originAllowed {
		setCORS(h, origin)
	}
	h.Set("Cache-Control", "no-store")
	var out []byte
	if jsonp != "" {
		body, _ := packet.EncodePayload(rev, pkts, false)
		out = packet.EncodeJSONP(jsonp, body)
		h.Set("Content-Type", "text/javascript; charset=UTF-8")
		h.Set("X-XSS-Protection", "0")
	} else {
		var contentType string
		out, contentType = packet.EncodePayload(rev, pkts, !b64)
		h.Set("Content-Type", contentType)
	}
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(srv.opts.WriteTimeout))
	w.Write(out)
}

// serveData takes a polling POST: the packets the client sends.
func (s *Session) serveData(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.transport != transportPolling || s.state != stateOpen {
		s.mu.Unlock()
		s.srv.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeBadRequest})
		return
	}
	if s.posting {
		s.mu.Unlock()
		s.srv.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "Overlapping data request"})
		s.closeWith(ReasonPollingOverlap, wsconn.ClosePolicyViolation)
		return
	}
	s.posting = true
	jsonp := s.jsonp
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.posting = false
		s.mu.Unlock()
	}()

	rev := s.handshake.Revision
	binaryBody := strings.HasPrefix(r.Header.Get("Content-Type"), "application/octet-stream")
	if binaryBody && rev == 4 {
		// engine.io fc11285: revision 4 never posts binary bodies.
		s.srv.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeBadRequest})
		s.closeWith(ReasonParseError, wsconn.CloseProtocolError)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.srv.opts.MaxPayload))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.srv.opts.Logger.Info("engineio: polling body over maxPayload", "sid", s.id, "limit", s.srv.opts.MaxPayload)
			w.Header().Set("Connection", "close")
			s.srv.refuse(w, r, &RequestError{Status: http.StatusRequestEntityTooLarge, Code: CodeBadRequest, Message: "Payload too large"})
			s.closeWith(ReasonPayloadTooLarge, wsconn.CloseMessageTooBig)
			return
		}
		s.closeWith(ReasonTransportError, wsconn.CloseNormal)
		return
	}
	if jsonp != "" {
		body, err = packet.DecodeJSONPBody(body)
	}
	var pkts []packet.Packet
	if err == nil {
		pkts, err = packet.DecodePayload(rev, body, binaryBody, 0)
	}
	if err != nil {
		s.srv.opts.Logger.Info("engineio: bad polling payload", "sid", s.id, "err", err)
		s.srv.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "Bad payload"})
		s.closeWith(ReasonParseError, wsconn.CloseProtocolError)
		return
	}
	if rev == 3 && !binaryBody {
		for i := range pkts {
			if pkts[i].Type == packet.Message && !pkts[i].Binary {
				pkts[i].Data = undoDoubleUTF8(pkts[i].Data)
			}
		}
	}
	s.receive(pkts)
	h := w.Header()
	if origin, verdict := s.srv.checkOrigin(r); verdict == originAllowed {
		setCORS(h, origin)
	}
	h.Set("Content-Type", "text/html")
	h.Set("Cache-Control", "no-store")
	io.WriteString(w, "ok")
}

// undoDoubleUTF8 repairs text from engine.io-parser 1.x (socket.io-client
// 1.x), which UTF-8-encodes polling text once more than it decodes: "é"
// arrives as "Ã©". Such text has only characters up to U+00FF, some past
// ASCII, and read as Latin-1 bytes it is valid UTF-8; that is when it is
// decoded once more. Newer clients never send such mojibake in practice,
// and text with any character past U+00FF is left as it is.
func undoDoubleUTF8(data []byte) []byte {
	wide := false
	n := 0
	for _, r := range string(data) {
		switch {
		case r > 0xFF || r == utf8.RuneError:
			return data
		case r >= utf8.RuneSelf:
			wide = true
		}
		n++
	}
	if !wide {
		return data
	}
	raw := make([]byte, 0, n)
	for _, r := range string(data) {
		raw = append(raw, byte(r))
	}
	if !utf8.Valid(raw) {
		return data
	}
	return raw
}
