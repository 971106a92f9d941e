package expressio_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
	"github.com/expressio-go/expressio/protocol/legacy"
)

// The kinds of raw wire client a loadClient can be, one per client
// generation and transport.
const (
	kindEIO4WebSocket = "eio4-websocket"
	kindEIO4Polling   = "eio4-polling"
	kindEIO3WebSocket = "eio3-websocket"
	kindEIO3Polling   = "eio3-polling"
	kind09WebSocket   = "0.9-websocket"
	kind09Polling     = "0.9-xhr-polling"
)

var loadKinds = []string{kindEIO4WebSocket, kindEIO4Polling, kindEIO3WebSocket, kindEIO3Polling, kind09WebSocket, kind09Polling}

// How a loadClient's connection ended, on the wire.
const (
	endWSGoingAway  = "websocket close 1001"
	endEIOClose     = "engine.io close packet"
	endLegacyGone   = "0.9 error 7:::1+0 (reconnect)"
	endLegacyBooted = "0.9 disconnect 0::"
)

// loadClient is a raw wire client that keeps a server busy: it emits
// "work" with its id and a sequence number and an ack id, one at a time,
// the next as soon as the ack of the last one arrives, and answers every
// "push" the server emits with an ack. It records the acks and pushes
// that reached it and how its connection ended.
type loadClient struct {
	id   int
	kind string
	base string // http://host:port
	http *http.Client
	// start is closed when the clients are to begin their exchanges.
	start <-chan struct{}
	// warm is called once, after the client's first ack.
	warm func()

	mu     sync.Mutex
	acks   map[int]bool // sequence numbers whose ack arrived
	pushes map[int]bool // sequence numbers of the pushes that arrived
	end    string       // how the connection ended, or an error
	rounds int
}

func newLoadClient(id int, kind, base string, hc *http.Client, start <-chan struct{}, warm func()) *loadClient {
	return &loadClient{id: id, kind: kind, base: base, http: hc, start: start, warm: warm, acks: map[int]bool{}, pushes: map[int]bool{}}
}

// run connects, waits for start, and exchanges acks until the server ends
// the connection; connected is called once the client has joined "/" (or
// failed to).
func (c *loadClient) run(connected func()) {
	var err error
	switch c.kind {
	case kindEIO4WebSocket:
		err = c.runEngineWebSocket(4, connected)
	case kindEIO3WebSocket:
		err = c.runEngineWebSocket(3, connected)
	case kindEIO4Polling:
		err = c.runEnginePolling(4, connected)
	case kindEIO3Polling:
		err = c.runEnginePolling(3, connected)
	case kind09WebSocket:
		err = c.runLegacyWebSocket(connected)
	case kind09Polling:
		err = c.runLegacyPolling(connected)
	}
	if err != nil {
		c.finish("error: " + err.Error())
	}
}

func (c *loadClient) finish(end string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.end == "" {
		c.end = end
	}
}

// result returns how the connection ended (so far) and copies of the
// acks and pushes that arrived.
func (c *loadClient) result() (end string, acks, pushes map[int]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.end, maps.Clone(c.acks), maps.Clone(c.pushes)
}

// gotAck records the ack of seq and reports whether it is the one the
// client waits for, seq being the last one sent.
func (c *loadClient) gotAck(seq, last int) bool {
	c.mu.Lock()
	c.acks[seq] = true
	c.rounds++
	warm := c.rounds == 1
	c.mu.Unlock()
	if warm {
		c.warm()
	}
	return seq == last
}

func (c *loadClient) gotPush(seq int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pushes[seq] = true
}

func (c *loadClient) workArgs(seq int) string { return fmt.Sprintf(`["work",%d,%d]`, c.id, seq) }

// splitAckID splits "12[...]" into 12 and "[...]".
func splitAckID(s string) (int, string, error) {
	i := strings.IndexByte(s, '[')
	if i < 1 {
		return 0, "", fmt.Errorf("no ack id in %q", s)
	}
	n, err := strconv.Atoi(s[:i])
	return n, s[i:], err
}

// firstInt returns the first element of a JSON array of numbers.
func firstInt(args string) (int, error) {
	var v []int
	if err := json.Unmarshal([]byte(args), &v); err != nil || len(v) == 0 {
		return 0, fmt.Errorf("bad arguments %q", args)
	}
	return v[0], nil
}

// onSocketIO handles one Socket.IO packet of protocol v4 or v5 for the
// Engine.IO clients; reply sends a Socket.IO packet back, next sends the
// next work event. It returns the last sequence number sent.
func (c *loadClient) onSocketIO(msg string, last int, reply func(string), next func(int)) (int, error) {
	switch {
	case strings.HasPrefix(msg, "3"): // the ack of a work event
		_, args, err := splitAckID(msg[1:])
		if err != nil {
			return last, err
		}
		seq, err := firstInt(args)
		if err != nil {
			return last, err
		}
		if c.gotAck(seq, last) {
			last++
			next(last)
		}
	case strings.HasPrefix(msg, "2"): // a push asking for an ack
		id, args, err := splitAckID(msg[1:])
		if err != nil {
			return last, err
		}
		var v []json.RawMessage
		if err := json.Unmarshal([]byte(args), &v); err != nil || len(v) != 2 || string(v[0]) != `"push"` {
			return last, fmt.Errorf("unexpected event %q", msg)
		}
		seq, _ := strconv.Atoi(string(v[1]))
		c.gotPush(seq)
		reply("3" + strconv.Itoa(id) + "[]")
	default:
		return last, fmt.Errorf("unexpected packet %q", msg)
	}
	return last, nil
}

// wsEnd names how a WebSocket read ended.
func wsEnd(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		if ce.Code == websocket.CloseGoingAway {
			return endWSGoingAway
		}
		return fmt.Sprintf("websocket close %d", ce.Code)
	}
	return "error: " + err.Error()
}

func (c *loadClient) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(c.base, "http") + path
}

// runEngineWebSocket is a Socket.IO client over an Engine.IO WebSocket.
func (c *loadClient) runEngineWebSocket(rev int, connected func()) error {
	conn, _, err := websocket.DefaultDialer.Dial(c.wsURL(fmt.Sprintf("/socket.io/?EIO=%d&transport=websocket", rev)), nil)
	if err != nil {
		connected()
		return err
	}
	defer conn.Close()
	read := func() (string, error) {
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, b, err := conn.ReadMessage()
		return string(b), err
	}
	send := func(s string) { conn.WriteMessage(websocket.TextMessage, []byte(s)) }
	open, err := read()
	if err == nil && rev == 4 {
		send("40")
	}
	var joined string
	if err == nil {
		joined, err = read()
	}
	connected()
	if err != nil || open[0] != '0' || !strings.HasPrefix(joined, "40") {
		return fmt.Errorf("connect: %q %q %v", open, joined, err)
	}
	next := func(seq int) { send("42" + strconv.Itoa(seq) + c.workArgs(seq)) }
	last := 1
	<-c.start
	next(last)
	for {
		msg, err := read()
		if err != nil {
			c.finish(wsEnd(err))
			return nil
		}
		if msg == "2" && rev == 4 {
			send("3")
			continue
		}
		if !strings.HasPrefix(msg, "4") {
			return fmt.Errorf("unexpected engine.io packet %q", msg)
		}
		if last, err = c.onSocketIO(msg[1:], last, func(s string) { send("4" + s) }, next); err != nil {
			return err
		}
	}
}

// outbox serializes a polling client's POSTs: what is queued while one
// is under way goes out together in the next. Only the client's own
// goroutine calls send and wait.
type outbox[T any] struct {
	mu      sync.Mutex
	pending []T
	busy    bool
	post    func([]T)
	wg      sync.WaitGroup
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
			o.post(batch)
		}
	})
}

// wait returns once no POST is under way.
func (o *outbox[T]) wait() { o.wg.Wait() }

func (c *loadClient) do(method, u, body string) (int, []byte, string, error) {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return 0, nil, "", err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header.Get("Content-Type"), err
}

// runEnginePolling is a Socket.IO client over Engine.IO long-polling: it
// polls again as soon as a poll returns, and POSTs on the side.
func (c *loadClient) runEnginePolling(rev int, connected func()) error {
	u := fmt.Sprintf("%s/socket.io/?EIO=%d&transport=polling", c.base, rev)
	poll := func() ([]packet.Packet, int, error) {
		status, body, ctype, err := c.do(http.MethodGet, u, "")
		if err != nil || status != http.StatusOK {
			return nil, status, fmt.Errorf("poll: %d %q %v", status, body, err)
		}
		pkts, err := packet.DecodePayload(rev, body, ctype == "application/octet-stream", 0)
		return pkts, status, err
	}
	pkts, _, err := poll()
	if err != nil || len(pkts) == 0 || pkts[0].Type != packet.Open {
		connected()
		return fmt.Errorf("handshake: %v", err)
	}
	var open struct{ SID string }
	json.Unmarshal(pkts[0].Data, &open)
	u += "&sid=" + open.SID
	out := &outbox[packet.Packet]{post: func(pkts []packet.Packet) {
		body, _ := packet.EncodePayload(rev, pkts, false)
		c.do(http.MethodPost, u, string(body)) // a failure shows in the next poll
	}}
	defer out.wait()
	message := func(s string) { out.send(packet.Packet{Type: packet.Message, Data: []byte(s)}) }
	if rev == 4 {
		message("0") // CONNECT to "/"
	}
	pkts = pkts[1:]
	for len(pkts) == 0 {
		if pkts, _, err = poll(); err != nil {
			connected()
			return err
		}
	}
	connected()
	if string(pkts[0].Data) != "0" && !strings.HasPrefix(string(pkts[0].Data), "0{") {
		return fmt.Errorf("connect answer %q", pkts[0].Data)
	}
	pkts = pkts[1:]
	next := func(seq int) { message("2" + strconv.Itoa(seq) + c.workArgs(seq)) }
	last := 1
	<-c.start
	next(last)
	for {
		for _, p := range pkts {
			switch p.Type {
			case packet.Close:
				c.finish(endEIOClose)
				return nil
			case packet.Ping:
				out.send(packet.Packet{Type: packet.Pong})
			case packet.Noop:
			case packet.Message:
				var err error
				if last, err = c.onSocketIO(string(p.Data), last, message, next); err != nil {
					return err
				}
			default:
				return fmt.Errorf("unexpected engine.io packet %v", p.Type)
			}
		}
		if pkts, _, err = poll(); err != nil {
			return err
		}
	}
}

// onLegacy handles one socket.io 0.9 packet; it returns the last sequence
// number sent and whether the packet ended the session.
func (c *loadClient) onLegacy(p legacy.Packet, last int, send func(legacy.Packet), next func(int)) (int, bool, error) {
	switch p.Type {
	case legacy.Heartbeat:
		send(p)
	case legacy.Noop:
	case legacy.Ack:
		_, args, err := legacy.ParseAck(p.Data)
		if err != nil || len(args) != 1 {
			return last, false, fmt.Errorf("bad ack %q", p.Data)
		}
		seq, err := strconv.Atoi(string(args[0]))
		if err != nil {
			return last, false, err
		}
		if c.gotAck(seq, last) {
			last++
			next(last)
		}
	case legacy.Event:
		name, args, err := legacy.ParseEvent(p.Data)
		if err != nil || name != "push" || len(args) != 1 || !p.Ack {
			return last, false, fmt.Errorf("unexpected event %q", p.Data)
		}
		seq, _ := strconv.Atoi(string(args[0]))
		c.gotPush(seq)
		data, _ := legacy.AckData(p.ID, json.RawMessage("[]"))
		send(legacy.Packet{Type: legacy.Ack, Data: data})
	case legacy.Error:
		if string(p.Data) == "1+0" {
			c.finish(endLegacyGone)
			return last, true, nil
		}
		return last, false, fmt.Errorf("0.9 error %q", p.Data)
	case legacy.Disconnect:
		c.finish(endLegacyBooted)
		return last, true, nil
	default:
		return last, false, fmt.Errorf("unexpected 0.9 packet %v", p)
	}
	return last, false, nil
}

func (c *loadClient) legacyWork(seq int) legacy.Packet {
	data, _ := legacy.EventData("work", json.RawMessage(fmt.Sprintf(`[%d,%d]`, c.id, seq)))
	return legacy.Packet{Type: legacy.Event, ID: strconv.Itoa(seq), Ack: true, Data: data}
}

func (c *loadClient) legacyHandshake() (string, error) {
	status, body, _, err := c.do(http.MethodGet, c.base+"/socket.io/1/?t=1", "")
	if err != nil || status != http.StatusOK {
		return "", fmt.Errorf("0.9 handshake: %d %q %v", status, body, err)
	}
	sid, _, _ := strings.Cut(string(body), ":")
	return sid, nil
}

// runLegacyWebSocket is a socket.io 0.9 client over its websocket
// transport.
func (c *loadClient) runLegacyWebSocket(connected func()) error {
	sid, err := c.legacyHandshake()
	if err != nil {
		connected()
		return err
	}
	conn, _, err := websocket.DefaultDialer.Dial(c.wsURL("/socket.io/1/websocket/"+sid), nil)
	if err != nil {
		connected()
		return err
	}
	defer conn.Close()
	read := func() ([]byte, error) {
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, b, err := conn.ReadMessage()
		return b, err
	}
	send := func(p legacy.Packet) {
		b, _ := p.Encode()
		conn.WriteMessage(websocket.TextMessage, b)
	}
	b, err := read()
	connected()
	if err != nil || string(b) != "1::" {
		return fmt.Errorf("0.9 open: %q %v", b, err)
	}
	next := func(seq int) { send(c.legacyWork(seq)) }
	last := 1
	<-c.start
	next(last)
	for {
		b, err := read()
		if err != nil {
			c.finish(wsEnd(err))
			return nil
		}
		p, err := legacy.Decode(b)
		if err != nil {
			return err
		}
		var done bool
		if last, done, err = c.onLegacy(p, last, send, next); err != nil || done {
			return err
		}
	}
}

// runLegacyPolling is a socket.io 0.9 client over xhr-polling.
func (c *loadClient) runLegacyPolling(connected func()) error {
	sid, err := c.legacyHandshake()
	if err != nil {
		connected()
		return err
	}
	u := c.base + "/socket.io/1/xhr-polling/" + sid
	poll := func() ([]legacy.Packet, error) {
		status, body, _, err := c.do(http.MethodGet, u+"?t="+strconv.FormatInt(time.Now().UnixNano(), 10), "")
		if err != nil || status != http.StatusOK {
			return nil, fmt.Errorf("0.9 poll: %d %q %v", status, body, err)
		}
		frames, err := legacy.DecodeFrames(body)
		if err != nil {
			return nil, err
		}
		pkts := make([]legacy.Packet, len(frames))
		for i, f := range frames {
			if pkts[i], err = legacy.Decode(f); err != nil {
				return nil, err
			}
		}
		return pkts, nil
	}
	out := &outbox[[]byte]{post: func(frames [][]byte) {
		c.do(http.MethodPost, u, string(legacy.EncodeFrames(frames...)))
	}}
	defer out.wait()
	send := func(p legacy.Packet) {
		b, _ := p.Encode()
		out.send(b)
	}
	pkts, err := poll()
	connected()
	if err != nil || len(pkts) == 0 || pkts[0].Type != legacy.Connect {
		return fmt.Errorf("0.9 open: %v %v", pkts, err)
	}
	pkts = pkts[1:]
	next := func(seq int) { send(c.legacyWork(seq)) }
	last := 1
	<-c.start
	next(last)
	for {
		for _, p := range pkts {
			var done bool
			if last, done, err = c.onLegacy(p, last, send, next); err != nil || done {
				return err
			}
		}
		if pkts, err = poll(); err != nil {
			return err
		}
	}
}
