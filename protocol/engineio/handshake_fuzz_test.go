package engineio_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/expressio-go/expressio/protocol/engineio"
	"github.com/expressio-go/expressio/protocol/engineio/engineiotest"
)

// handshakeMethods are the methods FuzzHandshakeQuery picks from.
var handshakeMethods = []string{http.MethodGet, http.MethodPost, http.MethodOptions, http.MethodPut, http.MethodHead}

// addHandshakeSeeds adds every query of testdata/engineio/handshake-queries.txt,
// with each method and with and without an Origin.
func addHandshakeSeeds(f *testing.F) {
	f.Helper()
	file, err := os.Open("../../testdata/engineio/handshake-queries.txt")
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		for m := range handshakeMethods {
			f.Add(uint8(m), sc.Text(), "")
		}
		f.Add(uint8(0), sc.Text(), "https://app.example")
		f.Add(uint8(0), sc.Text(), "https://evil.example")
		f.Add(uint8(0), sc.Text(), "https://app.example\r\nX: y")
	}
	if err := sc.Err(); err != nil {
		f.Fatal(err)
	}
}

// allowedOrigin is the rule of the fuzzed server: its one allowed origin,
// any case, or the same origin as the request (over plain HTTP).
func allowedOrigin(origin, host string) bool {
	if strings.EqualFold(origin, "https://app.example") {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host) && u.Scheme == "http"
}

// FuzzHandshakeQuery sends a request with a fuzzed query string (EIO,
// transport, sid, b64, j, t…), method and Origin to a fresh engine. It
// must never panic, and must answer a handshake with an open packet, a
// preflight with 204, and anything else with a 4xx and Node's
// {"code","message"} JSON body; the checks the engine makes in order
// decide which code.
func FuzzHandshakeQuery(f *testing.F) {
	addHandshakeSeeds(f)
	quiet := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, method uint8, query, origin string) {
		opened := &openedSessions{Handler: engineiotest.Echo{}}
		srv := engineio.NewServer(opened, &engineio.Options{
			AllowedOrigins: []string{"https://app.example"},
			Logger:         quiet,
		})
		defer func() {
			opened.closeAll() // else Shutdown keeps a polled session for its next poll
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		}()
		m := handshakeMethods[int(method)%len(handshakeMethods)]
		req := httptest.NewRequest(m, "/engine.io/", nil)
		req.URL.RawQuery = query
		req.RequestURI = "/engine.io/?" + query
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)

		q := req.URL.Query()
		eio, transport := q.Get("EIO"), q.Get("transport")
		status, body := rec.Code, rec.Body.String()
		badOrigin := strings.ContainsAny(origin, "\r\n\x00")
		forbidden := origin != "" && !badOrigin && !allowedOrigin(origin, req.Host)
		var want engineio.Code = -1 // the code the first failing check gives
		switch {
		case m == http.MethodOptions && badOrigin:
			want = engineio.CodeBadRequest
		case m == http.MethodOptions && forbidden:
			want = engineio.CodeForbidden
		case m == http.MethodOptions:
		case eio != "3" && eio != "4":
			want = engineio.CodeUnsupportedVersion
		case transport != "polling" && transport != "websocket":
			want = engineio.CodeUnknownTransport
		case badOrigin:
			want = engineio.CodeBadRequest
		case forbidden:
			want = engineio.CodeForbidden
		case transport == "websocket": // no Upgrade header
			want = engineio.CodeBadRequest
		case q.Get("sid") != "":
			want = engineio.CodeUnknownSID // no session exists
		case m != http.MethodGet:
			want = engineio.CodeBadHandshakeMethod
		}
		if m == http.MethodOptions && want < 0 {
			if status != http.StatusNoContent {
				t.Fatalf("preflight: %d %q", status, body)
			}
			return
		}
		if status == http.StatusOK {
			if want >= 0 {
				t.Fatalf("%s ?%s accepted (%q), want code %d", m, query, body, want)
			}
			open := `0{"sid":"`
			if j := q.Get("j"); j != "" {
				if !strings.HasPrefix(body, "___eio["+j+`]("`) || !strings.HasSuffix(body, `");`) {
					t.Fatalf("JSONP handshake ?%s answered %q", query, body)
				}
				open = `0{\"sid\":\"` // in a JS string
			}
			if !strings.Contains(body, open) {
				t.Fatalf("%s ?%s: 200 without an open packet: %q", m, query, body)
			}
			return
		}
		if status != http.StatusBadRequest && status != http.StatusForbidden {
			t.Fatalf("%s ?%s: status %d %q", m, query, status, body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s ?%s: refusal with Content-Type %q", m, query, ct)
		}
		var e struct {
			Code    *engineio.Code `json:"code"`
			Message string         `json:"message"`
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code == nil || e.Message == "" {
			t.Fatalf("%s ?%s: refusal body %q (%v)", m, query, body, err)
		}
		if want >= 0 && *e.Code != want {
			t.Fatalf("%s ?%s (Origin %q): code %d %q, want %d", m, query, origin, *e.Code, e.Message, want)
		}
		if want < 0 && *e.Code != engineio.CodeBadRequest {
			// Only the JSONP index check is left: a bad j is a bad request.
			t.Fatalf("%s ?%s: code %d %q, want 3", m, query, *e.Code, e.Message)
		}
		if (status == http.StatusForbidden) != (*e.Code == engineio.CodeForbidden) {
			t.Fatalf("status %d with code %d", status, *e.Code)
		}
	})
}
