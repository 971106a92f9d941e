package expressio_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestBadInputAdvisories runs the first table of BAD-INPUT.md, the
// advisories of socket.io, engine.io and socket.io-parser, on every
// generation each applies to. Each subtest is one row on one generation;
// every one also checks, through arena.row, that the bystanders lost
// nothing and that the server still takes new clients. The id rows
// (CVE-2017-16031) and the CORS row (CVE-2020-28481) are in
// badinput_origin_test.go.
func TestBadInputAdvisories(t *testing.T) {
	a := newArena(t, nil, genEIO4, genEIO3, genLegacy)

	// CVE-2020-36048: maxHttpBufferSize is 1 MB; a bigger polling body is
	// answered 413, a bigger WebSocket message closes with 1009, and the
	// handshake announces the limit. The body is streamed as the server
	// reads it: a server that read it all would allocate 64 MiB.
	const maxPayload = 1_000_000
	const bigBody = 64 << 20
	for _, eio := range []string{genEIO3, genEIO4} {
		a.row("CVE-2020-36048/EIO"+eio+"-polling-413", func(t *testing.T) {
			p := a.poll(t, eio)
			var res response
			expectAllocBelow(t, bigBody, 16<<20, func() {
				res = a.streamPost(t, "/socket.io/?EIO="+eio+"&transport=polling&sid="+p.sid, bigBody)
			})
			if res.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("POST of %d bytes: %d %q, want 413", bigBody, res.StatusCode, res.body)
			}
			p.closed(t)
		})
		a.row("CVE-2020-36048/EIO"+eio+"-websocket-1009", func(t *testing.T) {
			c := a.websocket(t, eio)
			c.send("4" + strings.Repeat("x", maxPayload))
			expectClose(t, c, websocket.CloseMessageTooBig)
		})
		a.row("CVE-2020-36048/EIO"+eio+"-handshake-maxPayload", func(t *testing.T) {
			res := a.engineDo(t, "GET", a.pollURL(eio, ""), "", nil)
			open := packetsOf(t, eio, res.body)[0]
			if !strings.Contains(open, `"maxPayload":1000000`) {
				t.Fatalf("open packet %q does not announce maxPayload", open)
			}
		})
	}
	a.row("CVE-2020-36048/0.9-xhr-polling-413", func(t *testing.T) {
		p := a.legacyPoll(t)
		var res response
		expectAllocBelow(t, bigBody, 16<<20, func() {
			res = a.streamPost(t, "/socket.io/1/xhr-polling/"+p.sid, bigBody)
		})
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("POST of %d bytes: %d %q, want 413", bigBody, res.StatusCode, res.body)
		}
		p.closed(t)
	})
	a.row("CVE-2020-36048/0.9-websocket-1009", func(t *testing.T) {
		c := a.legacy(t)
		c.send("3:::" + strings.Repeat("x", maxPayload))
		if code := c.closeCode(t); code != websocket.CloseMessageTooBig {
			t.Fatalf("close code %d, want 1009", code)
		}
	})

	// CVE-2020-36049: digit runs and names of any length fail before
	// anything is allocated by their value, and cost no more than their
	// bytes: string concatenation, or a buffer of the announced size,
	// would blow the allocation limit.
	const run = 900_000
	digits := strings.Repeat("9", run)
	a.row("CVE-2020-36049/EIO3-payload-length", func(t *testing.T) {
		for _, body := range []string{"99999991:4" + strings.Repeat("2", run), digits, digits + ":4"} {
			p := a.poll(t, genEIO3)
			expectAllocBelow(t, 99999991, 16<<20, func() {
				if got := a.engineDo(t, "POST", p.url(), body, nil); got.StatusCode != 400 {
					t.Fatalf("payload %.20q...: %d %q, want 400", body, got.StatusCode, got.body)
				}
			})
			p.closed(t)
		}
	})
	for _, eio := range []string{genEIO3, genEIO4} {
		for _, tt := range []struct{ name, pkt string }{
			{"ack-id", `42` + digits + `["echo"]`},
			{"ack-id-over-2^53", `429007199254740992["echo"]`},
			{"attachment-count", `45` + digits + `-["echo",{"_placeholder":true,"num":0}]`},
			{"namespace", `40/` + strings.Repeat("a", run) + `,`},
			{"namespace-event", `42/` + strings.Repeat("a", run) + `,["echo"]`},
		} {
			a.row("CVE-2020-36049/EIO"+eio+"-websocket-"+tt.name, func(t *testing.T) {
				c := a.websocket(t, eio)
				expectAllocBelow(t, uint64(len(tt.pkt)), 16<<20, func() {
					c.send(tt.pkt)
					expectClose(t, c, websocket.CloseNormalClosure)
				})
			})
		}
		a.row("CVE-2020-36049/EIO"+eio+"-polling-ack-id", func(t *testing.T) {
			p := a.poll(t, eio)
			p.post(t, p.payload(`42`+digits+`["echo"]`), 200)
			p.closed(t)
		})
	}
	for _, tt := range []struct{ name, pkt string }{
		{"ack-id", `5:` + digits + `+::{"name":"echo"}`},
		{"endpoint", `1::/` + strings.Repeat("a", run)},
	} {
		a.row("CVE-2020-36049/0.9-websocket-"+tt.name, func(t *testing.T) {
			c := a.legacy(t)
			expectAllocBelow(t, uint64(len(tt.pkt)), 16<<20, func() {
				c.send(tt.pkt)
				if code := c.closeCode(t); code != websocket.CloseProtocolError {
					t.Fatalf("close code %d, want 1002", code)
				}
			})
		})
	}
	a.row("CVE-2020-36049/0.9-xhr-polling-frame-length", func(t *testing.T) {
		p := a.legacyPoll(t)
		body := "\ufffd" + digits + "\ufffd3:::x"
		expectAllocBelow(t, 99999991, 16<<20, func() {
			if got := a.engineDo(t, "POST", p.url(), body, nil); got.StatusCode != 400 {
				t.Fatalf("frame length of %d digits: %d %q, want 400", run, got.StatusCode, got.body)
			}
		})
		p.closed(t)
	})

	// CVE-2022-21676: bytes after the upgrade headers (a "frame" with RSV
	// bits set) end that connection and nothing else, on a handshake and
	// on a live session.
	for _, eio := range []string{genEIO3, genEIO4} {
		a.row("CVE-2022-21676/EIO"+eio+"-handshake", func(t *testing.T) {
			garbageAfterUpgrade(t, a, "/socket.io/?EIO="+eio+"&transport=websocket")
		})
		a.row("CVE-2022-21676/EIO"+eio+"-live-sid", func(t *testing.T) {
			p := a.poll(t, eio)
			garbageAfterUpgrade(t, a, "/socket.io/?EIO="+eio+"&transport=websocket&sid="+p.sid)
			p.ack(t) // the session goes on polling
		})
	}
	a.row("CVE-2022-21676/0.9-websocket", func(t *testing.T) {
		status, body := do(t, a.http, "GET", a.ts.URL+"/socket.io/1/?t=1", "", nil)
		sid, _, _ := strings.Cut(body, ":")
		if status != 200 {
			t.Fatalf("0.9 handshake: %d %q", status, body)
		}
		garbageAfterUpgrade(t, a, "/socket.io/1/websocket/"+sid)
	})

	// CVE-2022-41940: an h2c upgrade gets a clean 400.
	h2c := "Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
	for _, eio := range []string{genEIO3, genEIO4} {
		a.row("CVE-2022-41940/EIO"+eio+"-handshake", func(t *testing.T) {
			res := a.rawRequest(t, "GET", "/socket.io/?EIO="+eio+"&transport=polling", h2c)
			expectEngineError(t, res, 400, 3)
		})
		a.row("CVE-2022-41940/EIO"+eio+"-live-sid", func(t *testing.T) {
			p := a.poll(t, eio)
			res := a.rawRequest(t, "GET", "/socket.io/?EIO="+eio+"&transport=polling&sid="+p.sid, h2c)
			expectEngineError(t, res, 400, 3)
			p.ack(t)
		})
	}
	a.row("CVE-2022-41940/0.9", func(t *testing.T) {
		p := a.legacyPoll(t)
		for _, path := range []string{"/socket.io/1/?t=1", "/socket.io/1/xhr-polling/" + p.sid} {
			if res := a.rawRequest(t, "GET", path, h2c); res.StatusCode != 400 {
				t.Fatalf("h2c on %s: %d %q, want 400", path, res.StatusCode, res.body)
			}
		}
	})

	// CVE-2023-31125: the transport names a prototype property, or none,
	// or one this server does not have, on a WebSocket upgrade.
	for _, eio := range []string{genEIO3, genEIO4} {
		a.row("CVE-2023-31125/EIO"+eio, func(t *testing.T) {
			p := a.poll(t, eio)
			for _, transport := range []string{"__proto__", "constructor", "", "webtransport"} {
				for _, sid := range []string{"", "&sid=" + p.sid} {
					res := a.rawRequest(t, "GET", "/socket.io/?EIO="+eio+"&transport="+transport+sid, a.upgradeHeaders())
					expectEngineError(t, res, 400, 0)
					if !strings.Contains(res.body, `"message":"Transport unknown"`) {
						t.Fatalf("transport %q: %q", transport, res.body)
					}
				}
			}
			p.ack(t)
		})
	}
	a.row("CVE-2023-31125/0.9", func(t *testing.T) {
		p := a.legacyPoll(t)
		for _, transport := range []string{"__proto__", "constructor", "", "webtransport"} {
			res := a.rawRequest(t, "GET", "/socket.io/1/"+transport+"/"+p.sid, a.upgradeHeaders())
			if res.StatusCode != 400 {
				t.Fatalf("0.9 transport %q: %d %q, want 400", transport, res.StatusCode, res.body)
			}
		}
	})

	// CVE-2022-2421: a placeholder's num must be an integer in
	// [0, attachments); placeholders in a plain packet are plain objects.
	for _, eio := range []string{genEIO3, genEIO4} {
		for _, num := range []string{`"splice"`, `-1`, `1`, `1.5`, `"0"`, `null`} {
			a.row("CVE-2022-2421/EIO"+eio+"-num-"+num, func(t *testing.T) {
				c := a.websocket(t, eio)
				c.send(`451-["echo",{"_placeholder":true,"num":` + num + `}]`)
				c.sendBinary(attachment(eio, []byte("buf")))
				expectClose(t, c, websocket.CloseNormalClosure)
			})
		}
		a.row("CVE-2022-2421/EIO"+eio+"-plain-packet", func(t *testing.T) {
			c := a.websocket(t, eio)
			c.send(`421["echo",{"_placeholder":true,"num":0}]`)
			c.expect(`431[{"_placeholder":true,"num":0}]`)
		})
	}
	a.row("CVE-2022-2421/0.9-plain-packet", func(t *testing.T) {
		c := a.legacy(t)
		c.send(`5:1+::{"name":"echo","args":[{"_placeholder":true,"num":0}]}`)
		if got := legacyRead(t, c.Conn); got != `6:::1+[{"_placeholder":true,"num":0}]` {
			t.Fatalf("ack %q", got)
		}
	})

	// CVE-2023-32695: an event name must be a string or a number, and not
	// a reserved one.
	names := []string{`{"toString":"foo"}`, `["x"]`, `true`, `null`,
		`"connect"`, `"connect_error"`, `"disconnect"`, `"disconnecting"`, `"newListener"`, `"removeListener"`}
	for _, eio := range []string{genEIO3, genEIO4} {
		for _, name := range names {
			a.row("CVE-2023-32695/EIO"+eio+"-name-"+name, func(t *testing.T) {
				c := a.websocket(t, eio)
				c.send(`42[` + name + `,"x"]`)
				expectClose(t, c, websocket.CloseNormalClosure)
			})
		}
		a.row("CVE-2023-32695/EIO"+eio+"-number-name", func(t *testing.T) {
			c := a.websocket(t, eio)
			c.send(`42[7,"x"]`) // no route: dropped
			c.send(`421["echo","after"]`)
			c.expect(`431["after"]`)
		})
	}
	for _, name := range names[:2] {
		a.row("CVE-2023-32695/0.9-name-"+name, func(t *testing.T) {
			c := a.legacy(t)
			c.send(`5:::{"name":` + name + `,"args":["x"]}`)
			if code := c.closeCode(t); code != websocket.CloseNormalClosure {
				t.Fatalf("close code %d, want 1000", code)
			}
		})
	}
	// A 0.9 client's reserved names close it too, but for its
	// blacklisted events ("disconnect"), which socket.io 0.9 drops
	// silently, ack or not.
	for _, name := range names[4:] {
		a.row("CVE-2023-32695/0.9-name-"+name, func(t *testing.T) {
			c := a.legacy(t)
			c.send(`5:1+::{"name":` + name + `,"args":["x"]}`)
			if name == `"disconnect"` {
				c.ack(t)
				return
			}
			if code := c.closeCode(t); code != websocket.CloseNormalClosure {
				t.Fatalf("close code %d, want 1000", code)
			}
		})
	}

	// CVE-2024-38355: CONNECT_ERROR is for servers to send; a client that
	// sends it is closed. A 0.9 client's error packet is only noted.
	for _, tt := range []struct{ eio, pkt string }{
		{genEIO4, `44["handle me please"]`},
		{genEIO4, `44{"message":"x"}`},
		{genEIO3, `44"handle me please"`},
	} {
		a.row("CVE-2024-38355/EIO"+tt.eio+"-websocket-"+tt.pkt, func(t *testing.T) {
			c := a.websocket(t, tt.eio)
			c.send(tt.pkt)
			expectClose(t, c, websocket.CloseNormalClosure)
		})
		a.row("CVE-2024-38355/EIO"+tt.eio+"-polling-"+tt.pkt, func(t *testing.T) {
			p := a.poll(t, tt.eio)
			p.post(t, p.payload(tt.pkt), 200)
			p.closed(t)
		})
	}
	// The Go side of CVE-2024-38355: a handler that panics ends its own
	// request, answered with an error ack, and nothing else.
	for _, eio := range []string{genEIO3, genEIO4} {
		a.row("CVE-2024-38355/EIO"+eio+"-handler-panic", func(t *testing.T) {
			c := a.websocket(t, eio)
			c.send(`421["boom"]`)
			c.expect(`431[{"error":"internal server error"}]`)
			c.send(`422["echo","alive"]`)
			c.expect(`432["alive"]`)
		})
	}
	a.row("CVE-2024-38355/0.9-handler-panic", func(t *testing.T) {
		c := a.legacy(t)
		c.send(`5:1+::{"name":"boom"}`)
		if got := legacyRead(t, c.Conn); got != `6:::1+[{"error":"internal server error"}]` {
			t.Fatalf("0.9 ack of a panicking handler: %q", got)
		}
		c.ack(t)
	})
	a.row("CVE-2024-38355/0.9-error-packet", func(t *testing.T) {
		c := a.legacy(t)
		c.send(`7:::handle me please`)
		c.send(`7:::1+0`)
		c.ack(t)
	})

	// CVE-2026-33151 and GHSA-2m8v-j782-fhvr: a binary packet announces
	// 1 to 10 attachments. Endless binary frames after the header are
	// refused once the count is reached (or at once when the count is out
	// of range), however many the client keeps sending.
	for _, eio := range []string{genEIO3, genEIO4} {
		for _, tt := range []struct{ name, header string }{
			{"53-then-endless", `453-["echo",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`},
			{"510-then-endless", `4510-["echo",{"_placeholder":true,"num":9}]`},
			{"511-too-many", `4511-["echo",{"_placeholder":true,"num":0}]`},
			{"5999999999-too-many", `45999999999-["echo",{"_placeholder":true,"num":0}]`},
			{"50-zero", `450-["echo"]`},
		} {
			id := "CVE-2026-33151"
			if tt.name == "50-zero" {
				id = "GHSA-2m8v-j782-fhvr"
			}
			a.row(id+"/EIO"+eio+"-websocket-"+tt.name, func(t *testing.T) {
				endlessAttachments(t, a, eio, tt.header)
			})
		}
	}
	a.row("GHSA-2m8v-j782-fhvr/EIO4-polling", func(t *testing.T) {
		p := a.poll(t, genEIO4)
		p.post(t, p.payload(`450-["echo"]`, "bAAAA", "bAAAA"), 200)
		p.closed(t)
	})
	a.row("CVE-2026-33151/EIO4-polling", func(t *testing.T) {
		p := a.poll(t, genEIO4)
		pkts := []string{`451-["echo",{"_placeholder":true,"num":0}]`}
		for range 1000 {
			pkts = append(pkts, "bAAAA")
		}
		p.post(t, p.payload(pkts...), 200)
		p.closed(t)
	})

	// engine.io fc11285: a revision 4 POST of application/octet-stream is
	// answered 400 (it left the request hanging); 911d0e3: overlapping
	// polling requests get 400, not 500.
	a.row("fc11285/EIO4-octet-stream", func(t *testing.T) {
		p := a.poll(t, genEIO4)
		// The attack client gives up after waitLong: a hanging request
		// fails the test.
		res := a.engineDo(t, "POST", p.url(), "4hello", http.Header{"Content-Type": {"application/octet-stream"}})
		expectEngineError(t, res, 400, 3)
		p.closed(t)
	})
	for _, eio := range []string{genEIO3, genEIO4} {
		a.row("911d0e3/EIO"+eio+"-overlapping-polls", func(t *testing.T) {
			p := a.poll(t, eio)
			// Two polls at once: one waits, the other overlaps it and is
			// refused, which closes the session; the waiting one then
			// gets the close packet.
			polls := make(chan response, 2)
			for range 2 {
				go func() {
					res, _ := doErr(a.http, "GET", p.url(), "", nil)
					polls <- res
				}()
			}
			var refused, answered []response
			for range 2 {
				switch res := <-polls; {
				case res.Response == nil:
					t.Fatal("poll failed")
				case res.StatusCode == 400:
					refused = append(refused, res)
				default:
					answered = append(answered, res)
				}
			}
			if len(refused) != 1 {
				t.Fatalf("%d of 2 overlapping polls refused", len(refused))
			}
			expectEngineError(t, refused[0], 400, 3)
			if pkts := packetsOf(t, eio, answered[0].body); answered[0].StatusCode != 200 || pkts[len(pkts)-1] != "1" {
				t.Fatalf("waiting poll: %d %q, want the close packet", answered[0].StatusCode, answered[0].body)
			}
			p.closed(t)
		})
		a.row("911d0e3/EIO"+eio+"-overlapping-posts", func(t *testing.T) {
			// The first POST sends its headers and half its body, then
			// waits; the second overlaps it. Nothing tells when the server
			// has begun the first: when a loaded machine takes the second
			// first, it is the first that overlaps and is refused, and the
			// second finds the session gone. Then it is tried again.
			for attempt := 1; ; attempt++ {
				p := a.poll(t, eio)
				body := p.payload(`42["echo","x"]`)
				conn, br := a.rawHTTP(t, fmt.Sprintf("POST /socket.io/?EIO=%s&transport=polling&sid=%s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
					eio, p.sid, a.host, len(body), body[:4]))
				var second response
				for deadline := time.Now().Add(waitLong); ; {
					second = a.engineDo(t, "POST", p.url(), body, nil)
					if second.StatusCode != 200 || time.Now().After(deadline) {
						break
					}
				}
				conn.Write([]byte(body[4:]))
				first := readResponse(t, br)
				if second.StatusCode == 400 && strings.Contains(second.body, `"code":1`) && first.StatusCode == 400 && attempt < 5 {
					continue // the order was the other way round
				}
				expectEngineError(t, second, 400, 3)
				p.closed(t)
				return
			}
		})
	}
	a.row("911d0e3/0.9-overlapping-polls", func(t *testing.T) {
		p := a.legacyPoll(t)
		first := make(chan response, 1)
		go func() {
			res, _ := doErr(a.http, "GET", p.url(), "", nil)
			first <- res
		}()
		var second response
		for deadline := time.Now().Add(waitLong); ; {
			second = a.engineDo(t, "GET", p.url(), "", nil)
			if second.body == "7:::1+0" || time.Now().After(deadline) {
				break
			}
		}
		if second.StatusCode != 200 || second.body != "7:::1+0" {
			t.Fatalf("overlapping 0.9 poll: %d %q, want socket.io 0.9's answer 7:::1+0", second.StatusCode, second.body)
		}
		if res := <-first; res.Response == nil || res.StatusCode >= 500 {
			t.Fatalf("first poll: %+v", res)
		}
		p.closed(t)
	})
}

// garbageAfterUpgrade sends "test" right after the upgrade headers of
// path: the connection must end (refused, or closed with 1002 after the
// bytes were read as a frame with RSV bits set) without hanging.
func garbageAfterUpgrade(t *testing.T, a *arena, path string) {
	t.Helper()
	conn, br := a.rawHTTP(t, a.upgradeRequest(path, "")+"test")
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return // dropped before answering
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		if res.StatusCode != 400 {
			t.Fatalf("upgrade with trailing bytes: %d", res.StatusCode)
		}
		return
	}
	w := &rawWS{t: t, conn: conn, br: br}
	if code := w.closeCode(); code != websocket.CloseProtocolError && code != -1 {
		t.Fatalf("close code %d, want 1002", code)
	}
}

// attachment is a binary attachment as a WebSocket message of revision
// eio: revision 3 prefixes the Engine.IO packet type.
func attachment(eio string, b []byte) []byte {
	if eio == genEIO3 {
		return append([]byte{4}, b...)
	}
	return b
}

// endlessAttachments sends header, then binary frames of 64 KiB for as
// long as the server takes them (up to 64 MiB): the server must close the
// connection within the packet's count (10 at most), and allocate far
// less than what was offered.
func endlessAttachments(t *testing.T, a *arena, eio, header string) {
	t.Helper()
	w := a.rawSocket(t, eio)
	chunk := attachment(eio, bytes.Repeat([]byte{0xab}, 64<<10))
	const frames = 1024
	expectAllocBelow(t, frames*64<<10, 16<<20, func() {
		w.frame(true, websocket.TextMessage, []byte(header))
		wait := w.pump(func(int) bool {
			return w.frame(true, websocket.BinaryMessage, chunk) == nil
		}, frames)
		w.expectClose(websocket.CloseNormalClosure)
		w.conn.Close()
		if n := wait(); n >= frames {
			t.Errorf("the server read all %d attachments", n)
		}
	})
}
