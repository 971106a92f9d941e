package expressio_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/memstore"
	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/expressio"
)

const (
	evilOrigin = "https://evil.example"
	goodOrigin = "https://good.example"
)

// TestBadInputOrigins runs the CORS row of BAD-INPUT.md (CVE-2020-28481)
// and its CSWSH rules: one allow-list checks the Origin of every request,
// polling and WebSocket, of every generation; the default is same-origin;
// "*" is never reflected with credentials.
func TestBadInputOrigins(t *testing.T) {
	closed := newArena(t, nil, genEIO4, genEIO3, genLegacy)
	listed := newArena(t, func(app *expressio.App) {
		if err := app.IO.Set("cors", goodOrigin); err != nil {
			t.Fatal(err)
		}
	}, genEIO4, genEIO3, genLegacy)

	// CVE-2020-28481: closed by default, no Access-Control-Allow-Origin
	// for a foreign origin; an allowed one gets exactly itself, with
	// Vary: Origin.
	for _, eio := range []string{genEIO3, genEIO4} {
		closed.row("CVE-2020-28481/EIO"+eio+"-default-closed", func(t *testing.T) {
			res := closed.engineDo(t, "GET", closed.pollURL(eio, ""), "", http.Header{"Origin": {evilOrigin}})
			expectEngineError(t, res, 403, 4)
			expectNoCORS(t, res)
		})
		listed.row("CVE-2020-28481/EIO"+eio+"-allow-list", func(t *testing.T) {
			res := listed.engineDo(t, "GET", listed.pollURL(eio, ""), "", http.Header{"Origin": {goodOrigin}})
			expectCORS(t, res, goodOrigin)
			p := &poller{a: listed, eio: eio, sid: openSID(t, packetsOf(t, eio, res.body)[0])}
			post := listed.engineDo(t, "POST", p.url(), p.payload(`42["echo"]`), http.Header{"Origin": {goodOrigin}})
			expectCORS(t, post, goodOrigin)
			pre := listed.engineDo(t, "OPTIONS", p.url(), "", http.Header{"Origin": {goodOrigin}, "Access-Control-Request-Method": {"POST"}})
			expectCORS(t, pre, goodOrigin)
			res = listed.engineDo(t, "GET", listed.pollURL(eio, ""), "", http.Header{"Origin": {evilOrigin}})
			expectEngineError(t, res, 403, 4)
			expectNoCORS(t, res)
			res = listed.engineDo(t, "OPTIONS", listed.pollURL(eio, ""), "", http.Header{"Origin": {evilOrigin}, "Access-Control-Request-Method": {"POST"}})
			expectNoCORS(t, res)
		})
	}
	closed.row("CVE-2020-28481/0.9-default-closed", func(t *testing.T) {
		res := closed.engineDo(t, "GET", closed.ts.URL+"/socket.io/1/?t=1", "", http.Header{"Origin": {evilOrigin}})
		if res.StatusCode != 403 {
			t.Fatalf("0.9 handshake from a foreign origin: %d %q", res.StatusCode, res.body)
		}
		expectNoCORS(t, res)
	})
	listed.row("CVE-2020-28481/0.9-allow-list", func(t *testing.T) {
		res := listed.engineDo(t, "GET", listed.ts.URL+"/socket.io/1/?t=1", "", http.Header{"Origin": {goodOrigin}})
		expectCORS(t, res, goodOrigin)
		sid, _, _ := strings.Cut(res.body, ":")
		poll := listed.ts.URL + "/socket.io/1/xhr-polling/" + sid
		expectCORS(t, listed.engineDo(t, "GET", poll, "", http.Header{"Origin": {goodOrigin}}), goodOrigin)
		expectCORS(t, listed.engineDo(t, "POST", poll, "3:::x", http.Header{"Origin": {goodOrigin}}), goodOrigin)
		res = listed.engineDo(t, "GET", listed.ts.URL+"/socket.io/1/?t=1", "", http.Header{"Origin": {evilOrigin}})
		if res.StatusCode != 403 {
			t.Fatalf("0.9 handshake from a foreign origin: %d %q", res.StatusCode, res.body)
		}
		expectNoCORS(t, res)
	})

	// CSWSH: a foreign Origin is refused on every request, WebSocket
	// handshakes and upgrades included, and the session it aimed at is
	// untouched.
	evil := http.Header{"Origin": {evilOrigin}}
	for _, eio := range []string{genEIO3, genEIO4} {
		listed.row("CSWSH/EIO"+eio+"-every-request", func(t *testing.T) {
			_, resp, err := websocket.DefaultDialer.Dial("ws://"+listed.host+"/socket.io/?EIO="+eio+"&transport=websocket", evil)
			if err == nil || resp == nil || resp.StatusCode != 403 {
				t.Fatalf("WebSocket handshake from a foreign origin: %v %v", err, resp)
			}
			p := listed.poll(t, eio)
			expectEngineError(t, listed.engineDo(t, "GET", p.url(), "", evil), 403, 4)
			expectEngineError(t, listed.engineDo(t, "POST", p.url(), p.payload(`42["echo"]`), evil), 403, 4)
			_, resp, err = websocket.DefaultDialer.Dial("ws://"+listed.host+"/socket.io/?EIO="+eio+"&transport=websocket&sid="+p.sid, evil)
			if err == nil || resp == nil || resp.StatusCode != 403 {
				t.Fatalf("upgrade from a foreign origin: %v %v", err, resp)
			}
			p.ack(t)
		})
	}
	listed.row("CSWSH/0.9-every-request", func(t *testing.T) {
		p := listed.legacyPoll(t)
		for _, method := range []string{"GET", "POST"} {
			if res := listed.engineDo(t, method, p.url(), "3:::x", evil); res.StatusCode != 403 {
				t.Fatalf("0.9 %s from a foreign origin: %d %q", method, res.StatusCode, res.body)
			}
		}
		_, resp, err := websocket.DefaultDialer.Dial("ws://"+listed.host+"/socket.io/1/websocket/"+p.sid, evil)
		if err == nil || resp == nil || resp.StatusCode != 403 {
			t.Fatalf("0.9 WebSocket from a foreign origin: %v %v", err, resp)
		}
		status, body := do(t, listed.http, "GET", listed.ts.URL+"/socket.io/1/?t=1", "", nil)
		sid, _, _ := strings.Cut(body, ":")
		if status != 200 {
			t.Fatalf("0.9 handshake: %d %q", status, body)
		}
		_, resp, err = websocket.DefaultDialer.Dial("ws://"+listed.host+"/socket.io/1/websocket/"+sid, evil)
		if err == nil || resp == nil || resp.StatusCode != 403 {
			t.Fatalf("0.9 WebSocket of a fresh handshake from a foreign origin: %v %v", err, resp)
		}
		listed.engineDo(t, "POST", p.url(), `5:9+::{"name":"echo","args":["alive"]}`, nil)
		if got := p.get(t); got != `6:::9+["alive"]` {
			t.Fatalf("the 0.9 session after the refusals: %q", got)
		}
	})

	// CSWSH: the default is same-origin: the server's own origin goes
	// through on every generation and transport; another port or scheme
	// of the same host does not.
	closed.row("CSWSH/same-origin-default", func(t *testing.T) {
		own := http.Header{"Origin": {closed.ts.URL}}
		for _, eio := range []string{genEIO3, genEIO4} {
			if res := closed.engineDo(t, "GET", closed.pollURL(eio, ""), "", own); res.StatusCode != 200 {
				t.Fatalf("EIO%s polling handshake from the own origin: %d %q", eio, res.StatusCode, res.body)
			}
			conn, _, err := websocket.DefaultDialer.Dial("ws://"+closed.host+"/socket.io/?EIO="+eio+"&transport=websocket", own)
			if err != nil {
				t.Fatalf("EIO%s WebSocket from the own origin: %v", eio, err)
			}
			conn.Close()
			for _, other := range []string{"http://127.0.0.1:1", "https://" + closed.host, "http://localhost." + closed.host} {
				res := closed.engineDo(t, "GET", closed.pollURL(eio, ""), "", http.Header{"Origin": {other}})
				expectEngineError(t, res, 403, 4)
			}
		}
		res := closed.engineDo(t, "GET", closed.ts.URL+"/socket.io/1/?t=1", "", own)
		sid, _, _ := strings.Cut(res.body, ":")
		if res.StatusCode != 200 {
			t.Fatalf("0.9 handshake from the own origin: %d %q", res.StatusCode, res.body)
		}
		conn, _, err := websocket.DefaultDialer.Dial("ws://"+closed.host+"/socket.io/1/websocket/"+sid, own)
		if err != nil {
			t.Fatalf("0.9 WebSocket from the own origin: %v", err)
		}
		conn.Close()
		if res := closed.engineDo(t, "GET", closed.ts.URL+"/socket.io/1/?t=1", "", http.Header{"Origin": {"http://127.0.0.1:1"}}); res.StatusCode != 403 {
			t.Fatalf("0.9 handshake from another port: %d %q", res.StatusCode, res.body)
		}
	})

	// CSWSH: wildcard matchers have CVEs of their own (gin-contrib/cors
	// CVE-2019-25211, Fiber CVE-2024-25124). socket.io 0.9's "host:*"
	// entries match the host exactly, whatever is built around it.
	matcher := newArena(t, func(app *expressio.App) {
		if err := app.IO.Set("origins", "example.com:*"); err != nil {
			t.Fatal(err)
		}
	}, genEIO4, genEIO3, genLegacy)
	matcher.row("CSWSH/wildcard-matchers", func(t *testing.T) {
		for _, origin := range []string{
			"http://example.com.evil.example", "http://evilexample.com", "http://example.com@evil.example",
			"http://evil.example/example.com", "http://evil.example?.example.com", "http://evil.example#example.com",
			"http://sub.example.com", "null", "file://example.com", `http://example.com:3000\@evil.example`,
		} {
			from := http.Header{"Origin": {origin}}
			for _, eio := range []string{genEIO3, genEIO4} {
				res := matcher.engineDo(t, "GET", matcher.pollURL(eio, ""), "", from)
				expectEngineError(t, res, 403, 4)
				expectNoCORS(t, res)
			}
			if res := matcher.engineDo(t, "GET", matcher.ts.URL+"/socket.io/1/?t=1", "", from); res.StatusCode != 403 {
				t.Fatalf("0.9 handshake from %s: %d %q", origin, res.StatusCode, res.body)
			}
		}
		from := http.Header{"Origin": {"http://example.com:3000"}}
		for _, eio := range []string{genEIO3, genEIO4} {
			expectCORS(t, matcher.engineDo(t, "GET", matcher.pollURL(eio, ""), "", from), "http://example.com:3000")
		}
		expectCORS(t, matcher.engineDo(t, "GET", matcher.ts.URL+"/socket.io/1/?t=1", "", from), "http://example.com:3000")
	})

	// CSWSH: with "*" (Node's cors: true, socket.io 0.9's "*:*") any site
	// may connect, but never with the visitor's credentials: the answer is
	// Access-Control-Allow-Origin: *, as Node's cors package sends it,
	// never the site's origin with Access-Control-Allow-Credentials.
	for _, setting := range []struct {
		name  string
		value any
	}{{"cors", true}, {"origins", "*:*"}} {
		open := newArena(t, func(app *expressio.App) {
			if err := app.IO.Set(setting.name, setting.value); err != nil {
				t.Fatal(err)
			}
		}, genEIO4, genEIO3, genLegacy)
		open.row("CSWSH/wildcard-without-credentials-"+setting.name, func(t *testing.T) {
			from := http.Header{"Origin": {evilOrigin}}
			for _, eio := range []string{genEIO3, genEIO4} {
				res := open.engineDo(t, "GET", open.pollURL(eio, ""), "", from)
				expectWildcard(t, res)
				p := &poller{a: open, eio: eio, sid: openSID(t, packetsOf(t, eio, res.body)[0])}
				expectWildcard(t, open.engineDo(t, "POST", p.url(), p.payload(`42["echo"]`), from))
				expectWildcard(t, open.engineDo(t, "OPTIONS", p.url(), "", http.Header{"Origin": {evilOrigin}, "Access-Control-Request-Method": {"POST"}}))
			}
			res := open.engineDo(t, "GET", open.ts.URL+"/socket.io/1/?t=1", "", from)
			expectWildcard(t, res)
			sid, _, _ := strings.Cut(res.body, ":")
			expectWildcard(t, open.engineDo(t, "POST", open.ts.URL+"/socket.io/1/xhr-polling/"+sid, "3:::x", from))
		})
	}
}

// expectNoCORS checks a refusal allows no cross-origin read.
func expectNoCORS(t *testing.T, res response) {
	t.Helper()
	if v := res.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Fatalf("refused request answered Access-Control-Allow-Origin %q", v)
	}
	if v := res.Header.Get("Access-Control-Allow-Credentials"); v != "" {
		t.Fatalf("refused request answered Access-Control-Allow-Credentials %q", v)
	}
}

// expectCORS checks an allowed cross-origin answer: exactly the origin,
// with credentials, varying by Origin.
func expectCORS(t *testing.T, res response, origin string) {
	t.Helper()
	h := res.Header
	if res.StatusCode >= 300 || h.Get("Access-Control-Allow-Origin") != origin || h.Get("Access-Control-Allow-Credentials") != "true" ||
		!slices.Contains(h.Values("Vary"), "Origin") {
		t.Fatalf("allowed origin %s: %d %q, headers %v", origin, res.StatusCode, res.body, h)
	}
}

// expectWildcard checks an answer under "*": any origin, no credentials.
func expectWildcard(t *testing.T, res response) {
	t.Helper()
	h := res.Header
	if res.StatusCode >= 300 || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("under \"*\": %d %q, Access-Control-Allow-Origin %q, Access-Control-Allow-Credentials %q, want * without credentials",
			res.StatusCode, res.body, h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"))
	}
}

// TestBadInputSessionIDs runs CVE-2017-16031 (ids from a CSPRNG) on the
// Engine.IO sids of both revisions, the 0.9 session ids and the socket
// ids, and the rule that the Engine.IO sid, a bearer token, is never
// broadcast.
func TestBadInputSessionIDs(t *testing.T) {
	a := newArena(t, func(app *expressio.App) {
		app.IO.Route("announce", func(req *expressio.SocketRequest) {
			ids := []string{}
			for _, s := range app.IO.Room("arena").Sockets() {
				ids = append(ids, s.ID())
			}
			app.IO.Room("arena").Broadcast("ids", ids)
			req.IO.Respond(ids)
		})
	}, genEIO4, genEIO3, genLegacy)

	// 64 ids of each kind: 120 random bits each, so every bit position is
	// set in about half of them. A counter, a clock or a short seed would
	// leave positions constant.
	a.row("CVE-2017-16031/ids-from-a-CSPRNG", func(t *testing.T) {
		const n = 64
		kinds := map[string]func() string{
			"EIO4 sid": func() string { return openSID(t, a.engineDo(t, "GET", a.pollURL(genEIO4, ""), "", nil).body) },
			"EIO3 sid": func() string {
				return openSID(t, eio3Packets(t, a.engineDo(t, "GET", a.pollURL(genEIO3, ""), "", nil).body)[0])
			},
			"0.9 sid": func() string {
				sid, _, _ := strings.Cut(a.engineDo(t, "GET", a.ts.URL+"/socket.io/1/?t=1", "", nil).body, ":")
				return sid
			},
			"EIO4 socket id": func() string {
				c := dial(t, a.ts, genEIO4)
				defer c.conn.Close()
				c.send("40")
				var ack struct {
					SID string `json:"sid"`
				}
				json.Unmarshal([]byte(strings.TrimPrefix(c.read(), "40")), &ack)
				return ack.SID
			},
		}
		for kind, next := range kinds {
			seen := map[string]bool{}
			var ones [120]int
			for range n {
				id := next()
				b, err := base64.RawURLEncoding.DecodeString(id)
				if len(id) != 20 || err != nil || len(b) != 15 {
					t.Fatalf("%s %q: want 20 characters of URL-safe base64", kind, id)
				}
				if seen[id] {
					t.Fatalf("%s %q issued twice", kind, id)
				}
				seen[id] = true
				for i := range ones {
					ones[i] += int(b[i/8] >> (7 - i%8) & 1)
				}
			}
			for i, c := range ones {
				if c < 8 || c > n-8 {
					t.Errorf("%s: bit %d set in %d of %d ids", kind, i, c, n)
				}
			}
		}
	})

	// The sid rule. A socket.io v5 (EIO4) socket id is not its sid; the
	// server answers and broadcasts socket ids, and no EIO4 sid ever
	// reaches another client. (Protocol v4 and 0.9 clients compute their
	// socket id from their sid, which is then theirs to share, as in
	// Node: that is why socket.io v3 gave sockets ids of their own.)
	a.row("sid-never-broadcast", func(t *testing.T) {
		c, sid := a.websocketSID(t, genEIO4)
		c.send(`421["join"]`)
		c.expect(`431[]`)
		c.send(`422["announce"]`)
		var answer [][]string
		for f := c.read(); ; f = c.read() {
			if rest, ok := strings.CutPrefix(f, "432"); ok {
				if err := json.Unmarshal([]byte(rest), &answer); err != nil || len(answer) != 1 {
					t.Fatalf("announce answer %q", f)
				}
				break
			}
		}
		var by *bystander
		for _, b := range a.bystanders {
			if b.name == "EIO4 websocket" {
				by = b
			}
		}
		ids := answer[0]
		if !slices.Contains(ids, by.socketID) {
			t.Fatalf("announced ids %v lack the EIO4 bystander's socket id %s", ids, by.socketID)
		}
		secrets := []string{sid, by.sid}
		for _, secret := range secrets {
			if slices.Contains(ids, secret) || secret == by.socketID {
				t.Fatalf("announced ids %v hold the EIO4 sid %s", ids, secret)
			}
		}
		for _, b := range a.bystanders {
			for _, m := range b.waitFor(t, by.socketID) {
				for _, secret := range secrets {
					if strings.Contains(m, secret) {
						t.Errorf("bystander %s received an EIO4 sid in %q", b.name, m)
					}
				}
			}
		}
	})
}

// TestBadInputCookieQuery: express.io took the session cookie from the
// handshake's ?cookie= parameter, which puts session ids in logs; here
// that is opt-in (SessionOptions.CookieQuery), on every generation.
func TestBadInputCookieQuery(t *testing.T) {
	for _, on := range []bool{false, true} {
		a := newArena(t, func(app *expressio.App) {
			app.SessionsWith(expressio.SessionOptions{Name: "connect.sid", Store: memstore.NewStore([]byte("secret")), CookieQuery: on})
			app.GET("/login", func(c *gin.Context) {
				s := sessions.Default(c)
				s.Set("user", "zoë")
				s.Save()
				c.String(200, "ok")
			})
			app.IO.Route("session", func(req *expressio.SocketRequest) { req.IO.Respond(req.Session.Values()) })
		}, genEIO4, genEIO3, genLegacy)
		name, want := "cookie-query-off-by-default", `[{}]`
		if on {
			name, want = "cookie-query-opt-in", `[{"user":"zo\u00eb"}]`
		}
		a.row(name, func(t *testing.T) {
			query := "&cookie=" + urlQueryEscape(login(t, a.ts))
			for _, eio := range []string{genEIO3, genEIO4} {
				c := dialCookie(t, a.ts, eio, "", query)
				c.read() // 40
				c.send(`421["session"]`)
				got := c.read()
				if eio == genEIO4 {
					want := strings.ReplaceAll(want, `\u00eb`, "ë")
					if got != "431"+want {
						t.Fatalf("EIO4 session with ?cookie=: %s, want 431%s", got, want)
					}
				} else if got != "431"+want {
					t.Fatalf("EIO3 session with ?cookie=: %s, want 431%s", got, want)
				}
				c.conn.Close()
			}
			conn := legacyDial(t, a.ts.URL, query)
			defer conn.Close()
			conn.WriteMessage(websocket.TextMessage, []byte(`5:1+::{"name":"session"}`))
			if got, want := legacyRead(t, conn), "6:::1+"+strings.ReplaceAll(want, `\u00eb`, "ë"); got != want {
				t.Fatalf("0.9 session with ?cookie=: %s, want %s", got, want)
			}
		})
	}
}
