package legacy_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/expressio-go/expressio/protocol/legacy"
)

var (
	// nodeRoute is how socket.io 0.9 reads a path under the resource.
	nodeRoute = regexp.MustCompile(`^\/([^\/]+)\/?([^\/]+)?\/?([^\/]+)?\/?$`)
	// handshakeBody is a handshake's answer with the default options.
	handshakeBody = regexp.MustCompile(`^[A-Za-z0-9_-]{20}:60:60:websocket,htmlfile,xhr-polling,jsonp-polling$`)
	jsonpIndex    = regexp.MustCompile(`^[0-9]{1,16}$`)
	methods       = []string{http.MethodGet, http.MethodPost, http.MethodOptions, http.MethodPut, http.MethodDelete}
)

// addHandshakeURLSeeds adds the URLs of testdata/legacy/handshake-urls.txt,
// with each method.
func addHandshakeURLSeeds(f *testing.F) {
	f.Helper()
	file, err := os.Open("../../testdata/legacy/handshake-urls.txt")
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		path, query, _ := strings.Cut(sc.Text(), "?")
		for m := range methods {
			f.Add(uint8(m), path, query)
		}
	}
	if err := sc.Err(); err != nil {
		f.Fatal(err)
	}
}

// FuzzHandshakeURL sends a request with a fuzzed path under the resource,
// query and method to a fresh 0.9 server. It must never panic nor block,
// and must answer as socket.io 0.9 reads the URL: the welcome text for
// what is not a request of the protocol, 500 for another protocol
// version, a handshake (plain or JSONP) for protocol 1 without a session
// id, and for the requests of a session, which is unknown, an answer
// telling the client it is not handshaken or a 4xx.
func FuzzHandshakeURL(f *testing.F) {
	addHandshakeURLSeeds(f)
	f.Fuzz(func(t *testing.T, method uint8, rest, query string) {
		srv := legacy.NewServer(newRecorder(), &legacy.Options{Logger: quietLogger()})
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		}()
		m := methods[int(method)%len(methods)]
		req := httptest.NewRequest(m, "/", nil)
		req.URL.Path = "/socket.io" + rest
		req.URL.RawQuery = query
		req.RequestURI = req.URL.RequestURI()
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		status, body := rec.Code, rec.Body.String()

		route := nodeRoute.FindStringSubmatch(rest)
		var proto, transport, sid string
		if route != nil {
			proto, transport, sid = route[1], route[2], route[3]
		}
		isOne := len(proto) <= 9 && strings.TrimLeft(proto, "0") == "1"
		isNumber := proto != "" && len(proto) <= 9 && strings.Trim(proto, "0123456789") == ""
		switch {
		case route == nil || (transport == "" && (!isNumber || strings.Trim(proto, "0") == "")):
			if status != http.StatusOK || body != "Welcome to socket.io." {
				t.Fatalf("%s %q: %d %q, want the welcome text", m, rest, status, body)
			}
		case !isOne:
			if status != http.StatusInternalServerError || body != "Protocol version not supported." {
				t.Fatalf("%s %q: %d %q, want 500 for protocol %q", m, rest, status, body, proto)
			}
		case sid == "":
			text := body
			if j := req.URL.Query().Get("jsonp"); jsonpIndex.MatchString(j) {
				text, _ = strings.CutPrefix(text, "io.j["+j+`]("`)
				text, _ = strings.CutSuffix(text, `");`)
			}
			if status != http.StatusOK || !handshakeBody.MatchString(text) {
				t.Fatalf("%s %q ?%s: %d %q, want a handshake", m, rest, query, status, body)
			}
		default:
			// A session's request, for a session that does not exist.
			switch {
			case status == http.StatusOK, status == http.StatusBadRequest, status == http.StatusMethodNotAllowed:
			default:
				t.Fatalf("%s %q ?%s: %d %q", m, rest, query, status, body)
			}
			if handshakeBody.MatchString(body) {
				t.Fatalf("%s %q: a session's request was handshaken: %q", m, rest, body)
			}
		}
	})
}
