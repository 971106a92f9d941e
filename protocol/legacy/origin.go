package legacy

import (
	"net/http"
	"net/url"
	"strings"
)

// checkOrigin applies the one origin rule to every request, handshake,
// poll, POST and WebSocket. It returns the origin to answer with and
// whether the request may go on; the origin is "" when the request has
// none, and "*" when only "*" allows it.
//
// Script and iframe requests (the JSONP and htmlfile transports) carry no
// Origin. When a browser marks such a request as coming from another site
// (Sec-Fetch-Site), the origin of its Referer is judged instead, as 0.9
// did, and a request without one is refused: otherwise any page could
// open a session with its visitor's cookies through a script tag.
func (s *Server) checkOrigin(r *http.Request) (string, bool) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		switch r.Header.Get("Sec-Fetch-Site") {
		case "cross-site", "same-site":
		default:
			return "", true // not a browser, or same-origin, or typed in
		}
		u, err := url.Parse(r.Header.Get("Referer"))
		if err != nil || u.Scheme == "" || u.Host == "" {
			return "", false
		}
		return s.judge(u.Scheme+"://"+u.Host, r)
	}
	return s.judge(origin, r)
}

func (s *Server) judge(origin string, r *http.Request) (string, bool) {
	if strings.ContainsAny(origin, "\r\n\x00") {
		return origin, false
	}
	if !strings.Contains(origin, "://") && strings.EqualFold(origin, r.Host) {
		// socket.io-client 0.9 in Node (ws 0.4) sends its Host as the
		// Origin of a WebSocket, without a scheme. No browser sends that.
		return origin, true
	}
	if s.opts.AllowOrigin != nil {
		return origin, s.opts.AllowOrigin(origin, r)
	}
	wildcard := false
	for _, allowed := range s.opts.AllowedOrigins {
		if allowed == anyOrigin {
			wildcard = true
		} else if strings.EqualFold(allowed, origin) {
			return origin, true
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) && strings.EqualFold(u.Scheme, scheme) {
		return origin, true
	}
	if wildcard {
		// Any site, but not with its visitors' credentials: answered "*".
		return anyOrigin, true
	}
	return origin, false
}

// anyOrigin is the allow-list entry that allows every origin, and what
// the responses it allows carry as Access-Control-Allow-Origin.
const anyOrigin = "*"

// setCORS writes the headers of an allowed cross-origin response: the
// exact origin with credentials, or "*" without them for an origin that
// only "*" allows (judge then passes "*").
func setCORS(h http.Header, origin string) {
	if origin == "" {
		return
	}
	if origin == anyOrigin {
		h.Set("Access-Control-Allow-Origin", anyOrigin)
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
}
