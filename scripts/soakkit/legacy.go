package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/protocol/legacy"
)

// onLegacy hands one socket.io 0.9 packet to c; reply sends one back.
func onLegacy(c *client, p legacy.Packet, reply func(legacy.Packet)) error {
	switch p.Type {
	case legacy.Heartbeat:
		reply(p)
	case legacy.Noop, legacy.Connect:
	case legacy.Ack:
		id, args, err := legacy.ParseAck(p.Data)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(id)
		if err != nil {
			return err
		}
		c.gotAck(n, args)
	case legacy.Event:
		name, args, err := legacy.ParseEvent(p.Data)
		if err != nil {
			return err
		}
		c.gotEvent(name, args)
	case legacy.Disconnect:
		return errors.New("0.9 disconnect")
	case legacy.Error:
		return fmt.Errorf("0.9 error %q", p.Data)
	default:
		return fmt.Errorf("unexpected 0.9 packet %q", p.Data)
	}
	return nil
}

func legacyEvent(id int, event, args string) legacy.Packet {
	data, _ := legacy.EventData(event, json.RawMessage(args))
	return legacy.Packet{Type: legacy.Event, ID: strconv.Itoa(id), Ack: true, Data: data}
}

func encode(p legacy.Packet) []byte {
	b, _ := p.Encode()
	return b
}

// legacyHandshake returns a new 0.9 session id.
func legacyHandshake(c *client) (string, error) {
	body, _, err := do(c.env.http, http.MethodGet, c.env.base+"/socket.io/1/?t="+strconv.FormatInt(time.Now().UnixNano(), 10), nil)
	if err != nil {
		return "", fmt.Errorf("0.9 handshake: %w", err)
	}
	sid, _, _ := strings.Cut(string(body), ":")
	return sid, nil
}

// legacyWS is a socket.io 0.9 client over its websocket transport.
type legacyWS struct {
	c  *client
	ws *websocket.Conn
	mu sync.Mutex // writes
}

func dialLegacyWS(c *client) (wire, error) {
	sid, err := legacyHandshake(c)
	if err != nil {
		return nil, err
	}
	ws, _, err := c.env.dialer.Dial("ws"+strings.TrimPrefix(c.env.base, "http")+"/socket.io/1/websocket/"+sid, nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, b, err := ws.ReadMessage(); err != nil || string(b) != "1::" {
		ws.Close()
		return nil, fmt.Errorf("0.9 open %q: %v", b, err)
	}
	ws.SetReadDeadline(time.Time{})
	w := &legacyWS{c: c, ws: ws}
	c.env.wg.Go(w.read)
	return w, nil
}

func (w *legacyWS) write(p legacy.Packet) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return w.ws.WriteMessage(websocket.TextMessage, encode(p))
}

func (w *legacyWS) read() {
	for {
		_, b, err := w.ws.ReadMessage()
		var p legacy.Packet
		if err == nil {
			p, err = legacy.Decode(b)
		}
		if err == nil {
			err = onLegacy(w.c, p, func(p legacy.Packet) { w.write(p) })
		}
		if err != nil {
			w.c.ended(err)
			w.ws.Close()
			return
		}
	}
}

func (w *legacyWS) emit(id int, event, args string) error {
	return w.write(legacyEvent(id, event, args))
}

func (w *legacyWS) tick(time.Time) error { return nil } // the server sends the heartbeats

// close sends "0::", which the server answers with "0::" and the end of
// the connection.
func (w *legacyWS) close() {
	w.write(legacy.Packet{Type: legacy.Disconnect})
	w.mu.Lock()
	w.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	w.mu.Unlock()
	w.ws.Close()
}

// legacyPolling is a socket.io 0.9 client over xhr-polling.
type legacyPolling struct {
	c   *client
	url string
	out *outbox[[]byte]
}

func dialLegacyPolling(c *client) (wire, error) {
	sid, err := legacyHandshake(c)
	if err != nil {
		return nil, err
	}
	w := &legacyPolling{c: c, url: c.env.base + "/socket.io/1/xhr-polling/" + sid}
	w.out = &outbox[[]byte]{
		wg:     &c.env.wg,
		failed: c.ended,
		post: func(frames [][]byte) error {
			_, _, err := do(c.env.http, http.MethodPost, w.url, legacy.EncodeFrames(frames...))
			return err
		},
	}
	pkts, err := w.poll()
	if err != nil || len(pkts) == 0 || pkts[0].Type != legacy.Connect {
		return nil, fmt.Errorf("0.9 open: %v %v", pkts, err)
	}
	c.env.wg.Go(func() { w.loop(pkts[1:]) })
	return w, nil
}

func (w *legacyPolling) poll() ([]legacy.Packet, error) {
	body, _, err := do(w.c.env.http, http.MethodGet, w.url+"?t="+strconv.FormatInt(time.Now().UnixNano(), 10), nil)
	if err != nil {
		return nil, err
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

func (w *legacyPolling) loop(pkts []legacy.Packet) {
	reply := func(p legacy.Packet) { w.out.send(encode(p)) }
	for {
		for _, p := range pkts {
			if err := onLegacy(w.c, p, reply); err != nil {
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

func (w *legacyPolling) emit(id int, event, args string) error {
	w.out.send(encode(legacyEvent(id, event, args)))
	return nil
}

func (w *legacyPolling) tick(time.Time) error { return nil } // polls end with a noop in time

// close sends "0::"; the server answers the pending poll with "0::".
func (w *legacyPolling) close() {
	w.out.send(encode(legacy.Packet{Type: legacy.Disconnect}))
}
