package expressio_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// opContinuation is the opcode of a WebSocket continuation frame.
const opContinuation = 0

// TestBadInputWebSocket runs the second table of BAD-INPUT.md: the
// advisories of ws and their Go equivalents in gorilla/websocket and
// net/http, on the WebSockets of every generation.
func TestBadInputWebSocket(t *testing.T) {
	a := newArena(t, nil, genEIO4, genEIO3, genLegacy)
	sockets := []struct {
		gen  string
		dial func(t *testing.T) *rawWS
	}{
		{genEIO3, func(t *testing.T) *rawWS { return a.rawSocket(t, genEIO3) }},
		{genEIO4, func(t *testing.T) *rawWS { return a.rawSocket(t, genEIO4) }},
		{genLegacy, a.rawLegacy},
	}
	name := func(gen string) string {
		if gen == genLegacy {
			return "0.9"
		}
		return "EIO" + gen
	}

	// CVE-2016-10542: gorilla has no default read limit; the server sets
	// maxPayload on every WebSocket. A frame announcing 1 GiB is refused
	// with 1009 on its header, whatever follows.
	for _, s := range sockets {
		a.row("CVE-2016-10542/"+name(s.gen)+"-1GiB-frame", func(t *testing.T) {
			w := s.dial(t)
			chunk := bytes.Repeat([]byte{'x'}, 64<<10)
			expectAllocBelow(t, 1<<30, 16<<20, func() {
				w.header(true, websocket.TextMessage, 1<<30)
				wait := w.pump(func(int) bool { _, err := w.bw.Write(chunk); return err == nil }, 1024)
				w.expectClose(websocket.CloseMessageTooBig)
				w.conn.Close()
				wait()
			})
		})
	}
	// The limit holds on a WebSocket reached by upgrade from polling too.
	for _, eio := range []string{genEIO3, genEIO4} {
		a.row("CVE-2016-10542/EIO"+eio+"-upgraded", func(t *testing.T) {
			p := a.poll(t, eio)
			c := a.upgrade(t, p)
			c.send("4" + strings.Repeat("x", 1_000_000))
			expectClose(t, c, websocket.CloseMessageTooBig)
		})
	}

	// GHSA-5v72-xg48-5rpm: extension offers with prototype-style names are
	// parsed defensively: nothing is negotiated (compression is off) and
	// the connection works.
	extensions := "Sec-WebSocket-Extensions: __proto__; constructor=1, toString, permessage-deflate; client_max_window_bits=__proto__; __proto__; hasOwnProperty\r\n"
	for _, eio := range []string{genEIO3, genEIO4} {
		a.row("GHSA-5v72-xg48-5rpm/EIO"+eio, func(t *testing.T) {
			conn, br := a.rawHTTP(t, a.upgradeRequest("/socket.io/?EIO="+eio+"&transport=websocket", extensions))
			res := readResponse(t, br)
			if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Sec-WebSocket-Extensions") != "" {
				t.Fatalf("upgrade: %d, extensions %q", res.StatusCode, res.Header.Get("Sec-WebSocket-Extensions"))
			}
			w := &rawWS{t: t, conn: conn, br: br, bw: newRawWriter(conn)}
			openSID(t, w.readText())
		})
	}
	a.row("GHSA-5v72-xg48-5rpm/0.9", func(t *testing.T) {
		status, body := do(t, a.http, "GET", a.ts.URL+"/socket.io/1/?t=1", "", nil)
		sid, _, _ := strings.Cut(body, ":")
		if status != 200 {
			t.Fatalf("0.9 handshake: %d %q", status, body)
		}
		conn, br := a.rawHTTP(t, a.upgradeRequest("/socket.io/1/websocket/"+sid, extensions))
		res := readResponse(t, br)
		if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Sec-WebSocket-Extensions") != "" {
			t.Fatalf("upgrade: %d, extensions %q", res.StatusCode, res.Header.Get("Sec-WebSocket-Extensions"))
		}
		w := &rawWS{t: t, conn: conn, br: br, bw: newRawWriter(conn)}
		if got := w.readText(); got != "1::" {
			t.Fatalf("0.9 open: %q", got)
		}
	})

	// CVE-2021-32640: a Sec-WebSocket-Protocol of 256 KiB of blanks and
	// commas (a ReDoS in ws) is answered at once.
	protocols := "Sec-WebSocket-Protocol: a" + strings.Repeat(" ,\t", 256<<10/3) + "b\r\n"
	paths := map[string]func(t *testing.T) string{
		genEIO3: func(*testing.T) string { return "/socket.io/?EIO=3&transport=websocket" },
		genEIO4: func(*testing.T) string { return "/socket.io/?EIO=4&transport=websocket" },
		genLegacy: func(t *testing.T) string {
			_, body := do(t, a.http, "GET", a.ts.URL+"/socket.io/1/?t=1", "", nil)
			sid, _, _ := strings.Cut(body, ":")
			return "/socket.io/1/websocket/" + sid
		},
	}
	for _, gen := range []string{genEIO3, genEIO4, genLegacy} {
		a.row("CVE-2021-32640/"+name(gen), func(t *testing.T) {
			start := time.Now()
			_, br := a.rawHTTP(t, a.upgradeRequest(paths[gen](t), protocols))
			res := readResponse(t, br)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("answered after %v", d)
			}
			if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Sec-WebSocket-Protocol") != "" {
				t.Fatalf("upgrade: %d, protocol %q", res.StatusCode, res.Header.Get("Sec-WebSocket-Protocol"))
			}
		})
	}

	// CVE-2024-37890: ws crashed on more headers than its limit. net/http
	// has no count limit, only MaxHeaderBytes (1 MB, which App.Serve also
	// sets): 10,000 headers are served, and 2 MiB of headers get 431.
	many := strings.Repeat("X-H: 1\r\n", 10_000)
	for _, gen := range []string{genEIO3, genEIO4, genLegacy} {
		a.row("CVE-2024-37890/"+name(gen)+"-10000-headers", func(t *testing.T) {
			_, br := a.rawHTTP(t, a.upgradeRequest(paths[gen](t), many))
			if res := readResponse(t, br); res.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("upgrade with 10,000 headers: %d %q", res.StatusCode, res.body)
			}
		})
		a.row("CVE-2024-37890/"+name(gen)+"-2MiB-headers", func(t *testing.T) {
			huge := strings.Repeat("X-H: "+strings.Repeat("h", 1000)+"\r\n", 2<<10)
			_, br := a.rawHTTP(t, a.upgradeRequest(paths[gen](t), huge))
			if res := readResponse(t, br); res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Fatalf("upgrade with 2 MiB of headers: %d %q", res.StatusCode, res.body)
			}
		})
	}

	// CVE-2026-48779 / CVE-2026-62389: 100,000 one-byte fragments that
	// never set FIN. The server holds their bytes and nothing per
	// fragment: the live heap grows by less than 5 bytes a fragment, less
	// than the 7 each took on the wire (ws kept an object per fragment).
	// The message then outgrows maxPayload and is refused with 1009.
	for _, s := range sockets {
		a.row("CVE-2026-48779/"+name(s.gen)+"-fragments", func(t *testing.T) {
			fragmentFlood(t, s.dial(t))
		})
	}

	// gorilla CVE-2020-27813 (GO-2020-0019): frame lengths that overflow,
	// and a control frame longer than 125 bytes, end the connection at
	// once, without a loop and without allocating by the announced size.
	for _, s := range sockets {
		a.row("CVE-2020-27813/"+name(s.gen)+"-length-overflow", func(t *testing.T) {
			w := s.dial(t)
			expectAllocBelow(t, 1<<63-1, 1<<20, func() {
				w.bw.Write([]byte{0x81, 0x80 | 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
				w.flush()
				t.Logf("closed with %d", w.closeCode())
			})
		})
		a.row("CVE-2020-27813/"+name(s.gen)+"-fragments-overflow", func(t *testing.T) {
			w := s.dial(t)
			expectAllocBelow(t, 1<<63-1, 1<<20, func() {
				w.frame(false, websocket.TextMessage, []byte("4"))
				w.header(false, opContinuation, 1<<62)
				w.header(true, opContinuation, 1<<62)
				w.flush()
				w.expectClose(websocket.CloseMessageTooBig)
			})
		})
		a.row("CVE-2020-27813/"+name(s.gen)+"-long-control-frame", func(t *testing.T) {
			w := s.dial(t)
			w.frame(true, websocket.PingMessage, bytes.Repeat([]byte{'p'}, 200))
			w.flush()
			w.expectClose(websocket.CloseProtocolError)
		})
	}
}

// fragmentFlood sends 100,000 one-byte fragments of one text message,
// never setting FIN, measures what the server holds for them, then makes
// the message outgrow maxPayload.
func fragmentFlood(t *testing.T, w *rawWS) {
	t.Helper()
	const n = 100_000
	before := liveHeap()
	w.frame(false, websocket.TextMessage, []byte("4"))
	one := []byte{'x'}
	for range n - 1 {
		if err := w.frame(false, opContinuation, one); err != nil {
			t.Fatalf("the server stopped reading fragments: %v", err)
		}
	}
	w.syncServer() // the server has read every fragment
	held := int64(liveHeap()) - int64(before)
	t.Logf("live heap grew by %d KiB while the server held %d fragments", held>>10, n)
	if held >= 5*n {
		t.Errorf("live heap grew by %d KiB for %d one-byte fragments, want under %d KiB", held>>10, n, 5*n>>10)
	}
	w.header(true, opContinuation, 1_000_000)
	w.flush()
	w.expectClose(websocket.CloseMessageTooBig)
}
