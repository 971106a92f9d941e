package expressio_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/expressio-go/expressio/expressio"
)

// addLimitSeeds adds the handshake seeds of both generations: the
// Engine.IO queries and the 0.9 URLs of testdata/.
func addLimitSeeds(f *testing.F) {
	f.Helper()
	for file, prefix := range map[string]string{
		"../testdata/engineio/handshake-queries.txt": "/socket.io/?",
		"../testdata/legacy/handshake-urls.txt":      "/socket.io",
	} {
		r, err := os.Open(file)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			f.Add(uint8(0), prefix+sc.Text(), "192.0.2.1:1234")
			f.Add(uint8(1), prefix+sc.Text(), "[2001:db8::1%eth0]:80")
		}
		r.Close()
		if err := sc.Err(); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(uint8(0), "/socket.io/?EIO=4&transport=polling", "")
	f.Add(uint8(0), "/socket.io/1/", "@")
	f.Add(uint8(0), "/socket.io/1/", "not an address at all")
}

var (
	engineOpen  = regexp.MustCompile(`0\{\\?"sid\\?":`)
	legacyOpen9 = regexp.MustCompile(`^(io\.j\[\d+\]\(")?[A-Za-z0-9_-]{20}:`)
)

// FuzzLimitedHandshake sends a fuzzed request (method, URL under the
// path, remote address) twice to a fresh server that allows one
// handshake per second and one connection per address. It must never
// panic; a request that opened a session must have been counted, so
// that the same request again is refused with 429; and every refusal
// must have the body of its generation.
func FuzzLimitedHandshake(f *testing.F) {
	addLimitSeeds(f)
	quiet := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, method uint8, target, remoteAddr string) {
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(u.Path, "/socket.io") {
			return
		}
		io := expressio.NewServer(&expressio.Options{
			Logger: quiet,
			Legacy: expressio.LegacyOptions{Enabled: true},
			Limits: expressio.Limits{MaxConnectionsPerAddress: 1, MaxHandshakesPerSecond: 1},
		})
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := io.Shutdown(ctx); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		}()
		serve := func() *httptest.ResponseRecorder {
			req := httptest.NewRequest([]string{"GET", "POST", "OPTIONS"}[method%3], "/", nil)
			req.URL, req.RequestURI, req.RemoteAddr = u, target, remoteAddr
			rec := httptest.NewRecorder()
			io.ServeHTTP(rec, req)
			checkLimitAnswer(t, target, rec)
			return rec
		}
		first := serve()
		if first.Code == http.StatusTooManyRequests || first.Code == http.StatusServiceUnavailable {
			t.Fatalf("%s: the first request was refused: %d %q", target, first.Code, first.Body)
		}
		opened := first.Code == http.StatusOK &&
			(engineOpen.MatchString(first.Body.String()) || legacyOpen9.MatchString(first.Body.String()))
		second := serve()
		if opened && second.Code != http.StatusTooManyRequests {
			t.Fatalf("%s opened a session (%q), yet the same again got %d %q", target, first.Body, second.Code, second.Body)
		}
		if addrs, _, _ := expressio.LimitsTracked(io); opened && addrs != 1 {
			t.Fatalf("%s opened a session, and %d addresses hold places", target, addrs)
		}
	})
}

// checkLimitAnswer checks the body of a refusal by the limits.
func checkLimitAnswer(t *testing.T, target string, rec *httptest.ResponseRecorder) {
	t.Helper()
	var msg string
	switch rec.Code {
	case http.StatusTooManyRequests:
		msg = tooManyHandshakes
		if rec.Header().Get("Retry-After") != "1" {
			t.Fatalf("%s: 429 without Retry-After", target)
		}
	case http.StatusServiceUnavailable:
		msg = tooManyConnections
	default:
		return
	}
	body := rec.Body.String()
	switch ct := rec.Header().Get("Content-Type"); ct {
	case "application/json":
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code != 4 || e.Message != msg {
			t.Fatalf("%s: %d %q", target, rec.Code, body)
		}
	case "text/plain; charset=utf-8":
		if body != msg {
			t.Fatalf("%s: %d %q", target, rec.Code, body)
		}
	default:
		t.Fatalf("%s: %d with Content-Type %q", target, rec.Code, ct)
	}
}
