package expressio

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/expressio-go/expressio/protocol/engineio"
)

// HTTPIO is the realtime side as an HTTP handler sees it: express.io's
// req.io on HTTP requests, with the socket APIs its users asked for
// (express.io issues #51 and #91).
type HTTPIO struct {
	srv *Server
	c   *gin.Context
}

// IO returns the realtime side for a gin handler of an App. It panics
// when the handler is not served by an App, a programming error.
func IO(c *gin.Context) *HTTPIO {
	v, ok := c.Get(appKey{})
	if !ok {
		panic("expressio: IO(c) outside an expressio.App")
	}
	return &HTTPIO{srv: v.(*App).IO, c: c}
}

// Broadcast sends an event to every socket of the root namespace.
func (h *HTTPIO) Broadcast(event string, args ...any) error {
	return h.srv.Broadcast(event, args...)
}

// Room selects the members of a room of the root namespace.
func (h *HTTPIO) Room(room string) *Room { return h.srv.Room(room) }

// Emit sends an event to one socket, by id, or to a room: every socket is
// in the room named after its id.
func (h *HTTPIO) Emit(to, event string, args ...any) error {
	return h.srv.Room(to).Broadcast(event, args...)
}

// Route forwards the HTTP request to an io route of the root namespace,
// express.io's req.io.route: the JSON body becomes Data, and the route's
// Respond writes the HTTP response as JSON. Respond(v) answers 200 with
// v; Respond(status, v) or Respond(v, status) sets the status. A route
// that does not respond within Options.RouteTimeout gets 504; one that
// panics gets 500. An unknown route answers 404 and returns
// ErrUnknownRoute.
func (h *HTTPIO) Route(name string) error {
	c, srv := h.c, h.srv
	handler := srv.root.route(name)
	if handler == nil {
		c.JSON(http.StatusNotFound, gin.H{"error": "unknown route " + name})
		return fmt.Errorf("%w: %q", ErrUnknownRoute, name)
	}
	limit := srv.opts.Engine.MaxPayload
	if limit <= 0 {
		limit = engineio.DefaultMaxPayload
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.JSON(http.StatusRequestEntityTooLarge, gin.H{"error": "body too large"})
		} else {
			c.JSON(http.StatusBadRequest, gin.H{"error": "cannot read body"})
		}
		return fmt.Errorf("expressio: route %q: read body: %w", name, err)
	}
	var data json.RawMessage
	if len(body) > 0 {
		if !json.Valid(body) {
			c.JSON(http.StatusBadRequest, gin.H{"error": "body is not JSON"})
			return fmt.Errorf("expressio: route %q: body is not JSON", name)
		}
		data = body
	}

	r := c.Request
	hs := &Handshake{
		Headers:   r.Header,
		Query:     r.URL.Query(),
		Address:   r.RemoteAddr,
		Time:      time.Now(),
		URL:       r.RequestURI,
		Secure:    r.TLS != nil,
		XDomain:   r.Header.Get("Origin") != "",
		Namespace: srv.root.name,
	}
	hs.Issued = hs.Time.UnixMilli()
	ex := &httpExchange{reply: make(chan httpReply, 1), log: srv.log}
	hs.Session = sessionOf(c)
	req := &SocketRequest{Event: name, Data: data, Headers: r.Header, Session: hs.Session, Handshake: hs, HTTP: c, ns: srv.root, ctx: r.Context()}
	if data != nil {
		req.Args = []json.RawMessage{data}
	}
	req.IO = &RequestIO{req: req, http: ex}

	if !runRecovered(srv.log, name, func() { handler(req) }) {
		req.IO.Respond(http.StatusInternalServerError, map[string]string{"error": "internal server error"})
	}
	timer := time.NewTimer(srv.opts.RouteTimeout)
	defer timer.Stop()
	select {
	case rep := <-ex.reply:
		if rep.body == nil {
			c.Status(rep.status)
			return nil
		}
		c.JSON(rep.status, rep.body)
	case <-timer.C:
		srv.log.Warn("expressio: route did not respond in time", "route", name, "timeout", srv.opts.RouteTimeout)
		c.JSON(http.StatusGatewayTimeout, gin.H{"error": "route " + name + " did not respond"})
	case <-r.Context().Done():
	}
	return nil
}

// runRecovered runs fn, logging a panic with its stack; it reports
// whether fn returned normally.
func runRecovered(log *slog.Logger, route string, fn func()) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			log.Error("expressio: route panicked", "event", route, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	fn()
	return true
}

// httpExchange carries a forwarded request's response back to the gin
// handler, which alone may write it, whichever goroutine calls Respond.
type httpExchange struct {
	reply chan httpReply
	log   *slog.Logger
}

type httpReply struct {
	status int
	body   any
}

// respond turns express.io's res.json arguments into a reply: (v),
// (status, v) or (v, status); more values go as a JSON array.
func (e *httpExchange) respond(args []any) {
	rep := httpReply{status: http.StatusOK}
	switch len(args) {
	case 0:
	case 1:
		rep.body = args[0]
	default:
		if code, ok := httpStatus(args[0]); ok && len(args) == 2 {
			rep.status, rep.body = code, args[1]
		} else if code, ok := httpStatus(args[1]); ok && len(args) == 2 {
			rep.status, rep.body = code, args[0]
		} else {
			rep.body = args
		}
	}
	if rep.body == nil && rep.status == http.StatusOK {
		rep.status = http.StatusNoContent
	}
	e.reply <- rep
}

func httpStatus(v any) (int, bool) {
	code, ok := v.(int)
	return code, ok && code >= 100 && code <= 599
}
