package engineio

import (
	"net/http"
	"net/url"
	"strings"
)

// originVerdict is the outcome of checking a request's Origin header.
type originVerdict int

const (
	originNone      originVerdict = iota // no Origin header: not a browser
	originAllowed                        // allowed: echo it back
	originForbidden                      // not on the allow-list
	originMalformed                      // unparsable or with control characters
)

// checkOrigin applies the one allow-list to any request of the engine,
// handshake, polling or WebSocket. Same-origin requests are allowed. The
// origin it returns is the one to answer with: the request's, or "*" for
// a request that only "*" allows.
func (s *Server) checkOrigin(r *http.Request) (string, originVerdict) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return "", originNone
	}
	if strings.ContainsAny(origin, "\r\n\x00") {
		return origin, originMalformed
	}
	if s.opts.AllowOrigin != nil {
		if s.opts.AllowOrigin(origin, r) {
			return origin, originAllowed
		}
		return origin, originForbidden
	}
	wildcard := false
	for _, allowed := range s.opts.AllowedOrigins {
		if allowed == anyOrigin {
			wildcard = true
		} else if strings.EqualFold(allowed, origin) {
			return origin, originAllowed
		}
	}
	if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) && u.Scheme == requestScheme(r) {
		return origin, originAllowed
	}
	if wildcard {
		// Any site may come, but not with its visitors' credentials: the
		// answer is "*" itself, never the origin reflected with
		// credentials (CVE-2020-28481).
		return anyOrigin, originAllowed
	}
	return origin, originForbidden
}

// anyOrigin is the allow-list entry that allows every origin, and what
// the responses it allows carry as Access-Control-Allow-Origin.
const anyOrigin = "*"

func requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// setCORS writes the headers of an allowed cross-origin response: the exact
// origin with credentials, or "*" without them for an origin allowed only
// by "*" (checkOrigin then passes "*").
func setCORS(h http.Header, origin string) {
	if origin == anyOrigin {
		h.Set("Access-Control-Allow-Origin", anyOrigin)
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
}

// SetCORS adds to h the CORS headers the engine answers r with when r's
// origin is allowed, so that a response written in front of the engine,
// such as a rate limiter's refusal, reads the same to the page.
func (s *Server) SetCORS(h http.Header, r *http.Request) {
	if origin, verdict := s.checkOrigin(r); verdict == originAllowed {
		setCORS(h, origin)
	}
}

// servePreflight answers an OPTIONS request without creating a session.
func (s *Server) servePreflight(w http.ResponseWriter, r *http.Request) {
	origin, verdict := s.checkOrigin(r)
	switch verdict {
	case originMalformed:
		s.refuse(w, r, &RequestError{Status: http.StatusBadRequest, Code: CodeBadRequest})
		return
	case originForbidden:
		s.refuse(w, r, &RequestError{Status: http.StatusForbidden, Code: CodeForbidden, Message: "Origin not allowed"})
		return
	case originAllowed:
		setCORS(w.Header(), origin)
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}
