package legacy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// servePoll answers an xhr-polling or jsonp-polling GET: at once with what
// is queued, or as soon as something is, or with a noop after
// PollingDuration.
func (s *Server) servePoll(w http.ResponseWriter, r *http.Request, sess *Session, transport, origin string) {
	index := "0"
	if transport == TransportJSONPPolling {
		if i := r.URL.Query().Get("i"); isIndex(i) {
			index = i
		}
	}
	if sess == nil {
		s.writePoll(w, r, transport, index, origin, []byte(notHandshaken))
		return
	}
	a := &attachment{transport: transport, wake: make(chan struct{}, 1)}
	sess.mu.Lock()
	if sess.state == stateClosed {
		// Closed: what a lingering session still had, then "7:::1+0", the
		// answer for a session that is gone.
		out, last := sess.takeLingeringLocked()
		sess.mu.Unlock()
		if last {
			s.forget(sess)
		}
		s.writePoll(w, r, transport, index, origin, EncodeFrames(append(out, []byte(notHandshaken))...))
		return
	}
	if old := sess.cur; old != nil && old.transport == transport {
		sess.mu.Unlock()
		s.opts.Logger.Info("legacy: overlapping poll, closing session", "sid", sess.id, "transport", transport)
		sess.closeWith(ReasonTransportOverlap, nil, websocket.ClosePolicyViolation)
		s.writePoll(w, r, transport, index, origin, []byte(notHandshaken))
		return
	}
	sess.attachLocked(a)
	sess.mu.Unlock()
	sess.open()

	timer := time.NewTimer(s.opts.PollingDuration)
	defer timer.Stop()
	noop := false
	sess.mu.Lock()
	for sess.cur == a && len(sess.queue) == 0 && sess.state != stateClosed && !noop {
		sess.mu.Unlock()
		select {
		case <-a.wake:
		case <-timer.C:
			noop = true
		case <-r.Context().Done():
			// The client went away: between polls now, as after a
			// response.
			sess.mu.Lock()
			sess.detachLocked(a)
			sess.mu.Unlock()
			return
		}
		sess.mu.Lock()
	}
	var out [][]byte
	if sess.cur == a {
		out = sess.queue
		sess.queue = nil
		// Detached before the response is written, so that the client's
		// next poll never finds this one still connected.
		sess.detachLocked(a)
	}
	shutdown := sess.state == stateClosed && sess.reason == ReasonServerShutdown
	sess.mu.Unlock()
	if len(out) == 0 && noop {
		out = [][]byte{[]byte(noopPacket)}
	}
	if shutdown {
		// The last poll says at once what the next one would, that the
		// session is gone: the client need not find the server closed.
		out = append(out, []byte(notHandshaken))
	}
	s.writePoll(w, r, transport, index, origin, EncodeFrames(out...))
}

// writePoll writes a polling response: the payload as it is for
// xhr-polling, io.j[index]("<payload>"); for jsonp-polling.
func (s *Server) writePoll(w http.ResponseWriter, r *http.Request, transport, index, origin string, payload []byte) {
	h := w.Header()
	body := payload
	if transport == TransportJSONPPolling {
		body = appendJSString([]byte("io.j["+index+"]("), payload, scriptEscapes)
		body = append(body, ");"...)
		h.Set("Content-Type", "text/javascript; charset=UTF-8")
		h.Set("X-XSS-Protection", "0")
	} else {
		h.Set("Content-Type", "text/plain; charset=UTF-8")
		setCORS(h, origin)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.ProtoMajor == 1 {
		h.Set("Connection", "Keep-Alive")
	}
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// servePost takes the packets a client POSTs on any polling transport: a
// raw payload, or for jsonp-polling a form whose field d is the payload as
// a JSON string. It answers "1".
func (s *Server) servePost(w http.ResponseWriter, r *http.Request, sess *Session, origin, transport string) {
	form := transport == TransportJSONPPolling
	if sess == nil || sess.closed() {
		// Node answers and drops the packets; the next poll tells the
		// client that the session is gone.
		writePostOK(w, origin)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxPayload))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.opts.Logger.Info("legacy: POST over MaxPayload, closing session", "sid", sess.id, "limit", s.opts.MaxPayload)
			setCORS(w.Header(), origin)
			w.Header().Set("Connection", "close")
			writeText(w, http.StatusRequestEntityTooLarge, "text/plain", "payload too large")
			sess.closeWith(ReasonPayloadTooLarge, nil, websocket.CloseMessageTooBig)
		}
		return // otherwise the client went away
	}
	payload := body
	if form {
		payload, err = formPayload(body)
	}
	var pkts []Packet
	if err == nil {
		pkts, err = decodePayload(payload)
	}
	if err != nil {
		s.opts.Logger.Info("legacy: bad POST, closing session", "sid", sess.id, "err", err)
		setCORS(w.Header(), origin)
		writeText(w, http.StatusBadRequest, "text/plain", "bad payload")
		sess.closeWith(ReasonParseError, nil, websocket.CloseProtocolError)
		return
	}
	sess.mu.Lock()
	if sess.state == stateClosed {
		sess.mu.Unlock()
		writePostOK(w, origin)
		return
	}
	sess.connectLocked(transport)
	sess.mu.Unlock()
	sess.receive(pkts)
	writePostOK(w, origin)
}

// writePostOK is Node's answer to a POST.
func writePostOK(w http.ResponseWriter, origin string) {
	h := w.Header()
	if origin != "" {
		setCORS(h, origin)
		h.Set("X-XSS-Protection", "0")
	}
	writeText(w, http.StatusOK, "text/plain; charset=UTF-8", "1")
}

// formPayload extracts the payload of a jsonp-polling POST, d=<JSON string>.
func formPayload(body []byte) ([]byte, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: form: %w", ErrInvalidPayload, err)
	}
	d, ok := form["d"]
	if !ok {
		return nil, fmt.Errorf("%w: form without d", ErrInvalidPayload)
	}
	var payload string
	if err := json.Unmarshal([]byte(d[0]), &payload); err != nil {
		return nil, fmt.Errorf("%w: d is not a JSON string: %w", ErrInvalidPayload, err)
	}
	return []byte(payload), nil
}

// decodePayload decodes every packet of a payload, or none.
func decodePayload(payload []byte) ([]Packet, error) {
	frames, err := DecodeFrames(payload)
	if err != nil {
		return nil, err
	}
	pkts := make([]Packet, len(frames))
	for i, f := range frames {
		if pkts[i], err = Decode(f); err != nil {
			return nil, err
		}
	}
	return pkts, nil
}
