package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
)

// writeTimeout bounds one write of a client.
const writeTimeout = 10 * time.Second

// onSocketIO hands one Socket.IO packet of protocol v4 or v5 to c.
func onSocketIO(c *client, p string) error {
	switch {
	case strings.HasPrefix(p, "3"): // ACK
		i := strings.IndexByte(p, '[')
		id, err := strconv.Atoi(p[1:max(i, 1)])
		if i < 0 || err != nil {
			return fmt.Errorf("bad ack %q", p)
		}
		var args []json.RawMessage
		if err := json.Unmarshal([]byte(p[i:]), &args); err != nil {
			return fmt.Errorf("bad ack %q", p)
		}
		c.gotAck(id, args)
	case strings.HasPrefix(p, "2["): // EVENT without ack id
		var args []json.RawMessage
		var name string
		if json.Unmarshal([]byte(p[1:]), &args) != nil || len(args) == 0 || json.Unmarshal(args[0], &name) != nil {
			return fmt.Errorf("bad event %q", p)
		}
		c.gotEvent(name, args[1:])
	case p == "1":
		return errors.New("the server disconnected the socket")
	default:
		return fmt.Errorf("unexpected packet %q", p)
	}
	return nil
}

// pingInterval reads the pingInterval of an open packet's data.
func pingInterval(open []byte) time.Duration {
	var o struct{ PingInterval int }
	if json.Unmarshal(open, &o) != nil || o.PingInterval <= 0 {
		return 25 * time.Second
	}
	return time.Duration(o.PingInterval) * time.Millisecond
}

// engineWS is a Socket.IO client over an Engine.IO WebSocket.
type engineWS struct {
	c   *client
	rev int
	ws  *websocket.Conn

	mu       sync.Mutex // writes and nextPing
	nextPing time.Time  // revision 3: the client pings
	every    time.Duration
}

func dialEngineWS(c *client, rev int) (wire, error) {
	u := "ws" + strings.TrimPrefix(c.env.base, "http") + fmt.Sprintf("/socket.io/?EIO=%d&transport=websocket", rev)
	ws, _, err := c.env.dialer.Dial(u, nil)
	if err != nil {
		return nil, err
	}
	w := &engineWS{c: c, rev: rev, ws: ws}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, open, err := ws.ReadMessage()
	if err != nil || len(open) == 0 || open[0] != '0' {
		ws.Close()
		return nil, fmt.Errorf("open packet %q: %v", open, err)
	}
	w.every = pingInterval(open[1:])
	w.nextPing = time.Now().Add(w.every)
	if rev == 4 {
		w.write("40")
	}
	_, joined, err := ws.ReadMessage()
	if err != nil || !strings.HasPrefix(string(joined), "40") {
		ws.Close()
		return nil, fmt.Errorf("connect answer %q: %v", joined, err)
	}
	ws.SetReadDeadline(time.Time{})
	c.env.wg.Go(w.read)
	return w, nil
}

func (w *engineWS) write(s string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return w.ws.WriteMessage(websocket.TextMessage, []byte(s))
}

func (w *engineWS) read() {
	for {
		_, b, err := w.ws.ReadMessage()
		if err != nil {
			w.c.ended(err)
			w.ws.Close()
			return
		}
		m := string(b)
		switch {
		case m == "2" && w.rev == 4:
			err = w.write("3")
		case m == "3" || m == "6":
		case m == "1":
			err = errors.New("engine.io close packet")
		case strings.HasPrefix(m, "4"):
			err = onSocketIO(w.c, m[1:])
		default:
			err = fmt.Errorf("unexpected engine.io packet %q", m)
		}
		if err != nil {
			w.c.ended(err)
			w.ws.Close()
			return
		}
	}
}

func (w *engineWS) emit(id int, event, args string) error {
	return w.write("42" + strconv.Itoa(id) + eventArray(event, args))
}

func (w *engineWS) tick(now time.Time) error {
	if w.rev != 3 {
		return nil
	}
	w.mu.Lock()
	due := !now.Before(w.nextPing)
	if due {
		w.nextPing = now.Add(w.every)
	}
	w.mu.Unlock()
	if due {
		return w.write("2")
	}
	return nil
}

func (w *engineWS) close() {
	w.mu.Lock()
	w.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	w.mu.Unlock()
	w.ws.Close()
}

// outbox serializes a polling client's POSTs: what is queued while one is
// under way goes out together in the next.
type outbox[T any] struct {
	mu      sync.Mutex
	pending []T
	busy    bool
	post    func([]T) error
	wg      *sync.WaitGroup
	failed  func(error)
}

func (o *outbox[T]) send(v T) {
	o.mu.Lock()
	o.pending = append(o.pending, v)
	if o.busy {
		o.mu.Unlock()
		return
	}
	o.busy = true
	o.mu.Unlock()
	o.wg.Go(func() {
		for {
			o.mu.Lock()
			batch := o.pending
			o.pending = nil
			if len(batch) == 0 {
				o.busy = false
				o.mu.Unlock()
				return
			}
			o.mu.Unlock()
			if err := o.post(batch); err != nil {
				o.failed(err)
			}
		}
	})
}

// do makes one request and returns the body of a 200 answer.
func do(hc *http.Client, method, u string, body []byte) ([]byte, string, error) {
	req, err := http.NewRequest(method, u, strings.NewReader(string(body)))
	if err != nil {
		return nil, "", err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s %s: %s %q", method, u, res.Status, b)
	}
	return b, res.Header.Get("Content-Type"), err
}

// enginePolling is a Socket.IO client over Engine.IO long-polling: it
// polls again as soon as a poll returns and POSTs on the side.
type enginePolling struct {
	c   *client
	rev int
	url string
	out *outbox[packet.Packet]

	mu       sync.Mutex
	nextPing time.Time // revision 3: the client pings
	every    time.Duration
}

func dialEnginePolling(c *client, rev int) (wire, error) {
	w := &enginePolling{c: c, rev: rev, url: fmt.Sprintf("%s/socket.io/?EIO=%d&transport=polling", c.env.base, rev)}
	pkts, err := w.poll()
	if err != nil || len(pkts) == 0 || pkts[0].Type != packet.Open {
		return nil, fmt.Errorf("handshake: %v", err)
	}
	var open struct{ SID string }
	json.Unmarshal(pkts[0].Data, &open)
	w.every = pingInterval(pkts[0].Data)
	w.nextPing = time.Now().Add(w.every)
	w.url += "&sid=" + open.SID
	w.out = &outbox[packet.Packet]{
		wg:     &c.env.wg,
		failed: c.ended,
		post: func(pp []packet.Packet) error {
			body, _ := packet.EncodePayload(rev, pp, false)
			_, _, err := do(c.env.http, http.MethodPost, w.url, body)
			return err
		},
	}
	if rev == 4 {
		w.out.send(packet.Packet{Type: packet.Message, Data: []byte("0")})
	}
	pkts = pkts[1:]
	for len(pkts) == 0 {
		if pkts, err = w.poll(); err != nil {
			return nil, err
		}
	}
	if pkts[0].Type != packet.Message || pkts[0].Data[0] != '0' {
		return nil, fmt.Errorf("connect answer %q", pkts[0].Data)
	}
	c.env.wg.Go(func() { w.loop(pkts[1:]) })
	return w, nil
}

func (w *enginePolling) poll() ([]packet.Packet, error) {
	body, ctype, err := do(w.c.env.http, http.MethodGet, w.url, nil)
	if err != nil {
		return nil, err
	}
	return packet.DecodePayload(w.rev, body, ctype == "application/octet-stream", 0)
}

func (w *enginePolling) loop(pkts []packet.Packet) {
	for {
		for _, p := range pkts {
			var err error
			switch p.Type {
			case packet.Ping:
				w.out.send(packet.Packet{Type: packet.Pong})
			case packet.Pong, packet.Noop:
			case packet.Close:
				err = errors.New("engine.io close packet")
			case packet.Message:
				err = onSocketIO(w.c, string(p.Data))
			default:
				err = fmt.Errorf("unexpected engine.io packet %v", p.Type)
			}
			if err != nil {
				w.c.ended(err)
				return
			}
		}
		var err error
		if pkts, err = w.poll(); err != nil {
			w.c.ended(err)
			return
		}
	}
}

func (w *enginePolling) emit(id int, event, args string) error {
	w.out.send(packet.Packet{Type: packet.Message, Data: []byte("2" + strconv.Itoa(id) + eventArray(event, args))})
	return nil
}

func (w *enginePolling) tick(now time.Time) error {
	if w.rev != 3 {
		return nil
	}
	w.mu.Lock()
	due := !now.Before(w.nextPing)
	if due {
		w.nextPing = now.Add(w.every)
	}
	w.mu.Unlock()
	if due {
		w.out.send(packet.Packet{Type: packet.Ping})
	}
	return nil
}

// close sends the Engine.IO close packet; the server answers the pending
// poll with its own, which ends the loop.
func (w *enginePolling) close() {
	w.out.send(packet.Packet{Type: packet.Close})
}
