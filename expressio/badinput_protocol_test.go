package expressio_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/expressio"
)

// TestBadInputProtocolViolations runs the protocol-violation tests
// BAD-INPUT.md copies from upstream (socket.io test/close.ts,
// socket.io-parser test/parser.js): each closes the whole Engine.IO
// session, on a WebSocket (close code 1000) and over polling (the next
// poll gets the close packet, then "Session ID unknown"), for protocol
// v5 (EIO4) and v4 (EIO3) clients alike.
func TestBadInputProtocolViolations(t *testing.T) {
	a := newArena(t, nil, genEIO4, genEIO3, genLegacy)
	violations := []struct {
		name string
		pkt  string // an Engine.IO message: "4" and a Socket.IO packet
		eio  []string
	}{
		// Packets that close the whole session (close.ts).
		{"second-CONNECT", `40`, []string{genEIO3, genEIO4}},
		{"invalid-packet-4abc", `4abc`, []string{genEIO3, genEIO4}},
		// Invalid payloads (close.ts, parser.js).
		{"payload-442[some,data", `442["some","data"`, []string{genEIO3, genEIO4}},
		{"payload-0/admin,invalid", `40/admin,"invalid"`, []string{genEIO3, genEIO4}},
		{"payload-0[]", `40[]`, []string{genEIO3, genEIO4}},
		{"payload-1/admin,{}", `41/admin,{}`, []string{genEIO3, genEIO4}},
		{"payload-2/admin,{}", `42/admin,{}`, []string{genEIO3, genEIO4}},
		{"payload-2[true,foo]", `42[true,"foo"]`, []string{genEIO3, genEIO4}},
		{"payload-2[null,bar]", `42[null,"bar"]`, []string{genEIO3, genEIO4}},
		// Illegal attachment counts (parser.js).
		{"attachments-5", `45`, []string{genEIO3, genEIO4}},
		{"attachments-51", `451`, []string{genEIO3, genEIO4}},
		{"attachments-5a-", `45a-`, []string{genEIO3, genEIO4}},
		{"attachments-51.23-", `451.23-`, []string{genEIO3, genEIO4}},
		{"attachments-5woooot", `45woooot`, []string{genEIO3, genEIO4}},
		// Unknown packet type (parser.js).
		{"unknown-type-999", `4999`, []string{genEIO3, genEIO4}},
		// An event for a namespace not joined: "42[...]" before "40" for
		// v5, whose clients join "/" with CONNECT; v4 clients are joined
		// to "/" by their handshake, so theirs names another namespace.
		{"event-before-CONNECT", `42/admin,["echo"]`, []string{genEIO3, genEIO4}},
	}
	for _, v := range violations {
		for _, eio := range v.eio {
			a.row("upstream/EIO"+eio+"-websocket-"+v.name, func(t *testing.T) {
				c := a.websocket(t, eio)
				c.send(v.pkt)
				expectClose(t, c, websocket.CloseNormalClosure)
			})
			a.row("upstream/EIO"+eio+"-polling-"+v.name, func(t *testing.T) {
				p := a.poll(t, eio)
				p.post(t, p.payload(v.pkt), 200)
				p.closed(t)
			})
		}
	}
	// The v5 case proper: an event before any CONNECT.
	a.row("upstream/EIO4-websocket-event-before-CONNECT-on-root", func(t *testing.T) {
		c := dial(t, a.ts, genEIO4)
		c.send(`42["echo"]`)
		expectClose(t, c, websocket.CloseNormalClosure)
	})
	a.row("upstream/EIO4-polling-event-before-CONNECT-on-root", func(t *testing.T) {
		res := a.engineDo(t, "GET", a.pollURL(genEIO4, ""), "", nil)
		p := &poller{a: a, eio: genEIO4, sid: openSID(t, res.body)}
		p.post(t, `42["echo"]`, 200)
		p.closed(t)
	})
}

// TestBadInputEngineErrors runs the Engine.IO error table of
// BAD-INPUT.md: each refusal is an HTTP 400 (403 for code 4) with a JSON
// {code,message}, and touches no session.
func TestBadInputEngineErrors(t *testing.T) {
	a := newArena(t, func(app *expressio.App) {
		err := app.IO.Set("allowRequest", func(r *http.Request) error {
			if r.URL.Query().Has("deny") {
				return errString("not you")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}, genEIO4, genEIO3, genLegacy)

	for _, eio := range []string{genEIO3, genEIO4} {
		q := "/socket.io/?EIO=" + eio
		a.row("code-0-unknown-transport/EIO"+eio, func(t *testing.T) {
			for _, transport := range []string{"carrier-pigeon", "flashsocket", "jsonp"} {
				res := a.engineDo(t, "GET", a.ts.URL+q+"&transport="+transport, "", nil)
				expectEngineError(t, res, 400, 0)
			}
		})
		a.row("code-1-unknown-sid/EIO"+eio, func(t *testing.T) {
			p := a.poll(t, eio)
			other := genEIO4
			if eio == genEIO4 {
				other = genEIO3
			}
			for _, u := range []string{a.pollURL(eio, "nope"), a.pollURL(other, p.sid)} {
				expectEngineError(t, a.engineDo(t, "GET", u, "", nil), 400, 1)
				expectEngineError(t, a.engineDo(t, "POST", u, "42[\"echo\"]", nil), 400, 1)
			}
			p.ack(t)
		})
		a.row("code-2-handshake-not-GET/EIO"+eio, func(t *testing.T) {
			for _, method := range []string{"POST", "PUT", "DELETE"} {
				expectEngineError(t, a.engineDo(t, method, a.pollURL(eio, ""), "40", nil), 400, 2)
			}
		})
		a.row("code-3-transport-mismatch/EIO"+eio, func(t *testing.T) {
			// A WebSocket session asked for a poll, and a polling session
			// asked for a WebSocket without an upgrade.
			c, sid := a.websocketSID(t, eio)
			expectEngineError(t, a.engineDo(t, "GET", a.pollURL(eio, sid), "", nil), 400, 3)
			expectEngineError(t, a.engineDo(t, "POST", a.pollURL(eio, sid), "1:2", nil), 400, 3)
			c.send(`421["echo","still"]`)
			c.expect(`431["still"]`)
			p := a.poll(t, eio)
			expectEngineError(t, a.engineDo(t, "GET", a.ts.URL+q+"&transport=websocket&sid="+p.sid, "", nil), 400, 3)
			p.ack(t)
		})
		a.row("code-3-origin-with-newline/EIO"+eio, func(t *testing.T) {
			// net/http refuses a header value with a control character
			// before the engine sees it: a 400 all the same.
			res := a.rawRequest(t, "GET", q+"&transport=polling", "Origin: http://a\nb\r\n")
			if res.StatusCode != 400 {
				t.Fatalf("Origin with a newline: %d %q", res.StatusCode, res.body)
			}
		})
		a.row("code-4-allowRequest/EIO"+eio, func(t *testing.T) {
			res := a.engineDo(t, "GET", a.ts.URL+q+"&transport=polling&deny=1", "", nil)
			expectEngineError(t, res, 403, 4)
			if !strings.Contains(res.body, `"message":"not you"`) {
				t.Fatalf("refusal %q does not carry allowRequest's message", res.body)
			}
			_, resp, err := websocket.DefaultDialer.Dial("ws://"+a.host+q+"&transport=websocket&deny=1", nil)
			if err == nil || resp == nil || resp.StatusCode != 403 {
				t.Fatalf("denied WebSocket handshake: %v %v", err, resp)
			}
		})
	}
	// allowRequest guards the 0.9 handshake too (upstream advises
	// checking the Origin there): socket.io 0.9's refusal, 403 "handshake
	// unauthorized".
	a.row("code-4-allowRequest/0.9", func(t *testing.T) {
		if status, body := do(t, a.http, "GET", a.ts.URL+"/socket.io/1/?t=1&deny=1", "", nil); status != 403 || body != "handshake unauthorized" {
			t.Fatalf("denied 0.9 handshake: %d %q", status, body)
		}
	})

	// Code 5 needs a server without revision 3; its bystanders are of the
	// other generations.
	strict := newArena(t, func(app *expressio.App) {
		if err := app.IO.Disable("allowEIO3"); err != nil {
			t.Fatal(err)
		}
	}, genEIO4, genLegacy)
	strict.row("code-5-EIO3-not-allowed", func(t *testing.T) {
		for _, transport := range []string{"polling", "websocket"} {
			res := strict.engineDo(t, "GET", strict.ts.URL+"/socket.io/?EIO=3&transport="+transport, "", nil)
			expectEngineError(t, res, 400, 5)
		}
		_, resp, err := websocket.DefaultDialer.Dial("ws://"+strict.host+"/socket.io/?EIO=3&transport=websocket", nil)
		if err == nil || resp == nil || resp.StatusCode != 400 {
			t.Fatalf("EIO3 WebSocket handshake: %v %v", err, resp)
		}
	})
}

type errString string

func (e errString) Error() string { return string(e) }

// TestBadInputSecondUpgrade: a second WebSocket for a session is
// refused, and the session goes on on its first one.
func TestBadInputSecondUpgrade(t *testing.T) {
	a := newArena(t, nil, genEIO4, genEIO3, genLegacy)
	refused := func(t *testing.T, eio, sid string) {
		t.Helper()
		_, br := a.rawHTTP(t, a.upgradeRequest("/socket.io/?EIO="+eio+"&transport=websocket&sid="+sid, ""))
		expectEngineError(t, readResponse(t, br), 400, 3)
	}
	for _, eio := range []string{genEIO3, genEIO4} {
		a.row("second-upgrade/EIO"+eio+"-after-upgrade", func(t *testing.T) {
			p := a.poll(t, eio)
			c := a.upgrade(t, p)
			refused(t, eio, p.sid)
			c.send(`421["echo","first"]`)
			c.expect(`431["first"]`)
		})
		a.row("second-upgrade/EIO"+eio+"-during-probe", func(t *testing.T) {
			p := a.poll(t, eio)
			conn, _, err := websocket.DefaultDialer.Dial("ws://"+a.host+"/socket.io/?EIO="+eio+"&transport=websocket&sid="+p.sid, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := newWSClient(t, conn, eio)
			c.send("2probe")
			c.expect("3probe")
			refused(t, eio, p.sid)
			c.send("5")
			c.send(`421["echo","first"]`)
			c.expect(`431["first"]`)
		})
		a.row("second-upgrade/EIO"+eio+"-websocket-first", func(t *testing.T) {
			c, sid := a.websocketSID(t, eio)
			refused(t, eio, sid)
			c.send(`421["echo","first"]`)
			c.expect(`431["first"]`)
		})
	}
	// socket.io 0.9 takes a second WebSocket for a session as a transport
	// overlap: the newcomer gets "not handshaken", the session closes.
	a.row("second-upgrade/0.9", func(t *testing.T) {
		first := a.legacy(t)
		conn, _, err := websocket.DefaultDialer.Dial("ws://"+a.host+"/socket.io/1/websocket/"+first.sid, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if got := legacyRead(t, conn); got != "7:::1+0" {
			t.Fatalf("second 0.9 WebSocket got %q", got)
		}
		if code := first.closeCode(t); code != websocket.ClosePolicyViolation {
			t.Fatalf("first 0.9 WebSocket closed with %d, want 1008", code)
		}
	})
}
