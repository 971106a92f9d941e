package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Client kinds: one per protocol generation and transport.
const (
	kindEIO4WebSocket = "eio4-websocket"
	kindEIO3WebSocket = "eio3-websocket"
	kindEIO4Polling   = "eio4-polling"
	kindEIO3Polling   = "eio3-polling"
	kind09WebSocket   = "0.9-websocket"
	kind09Polling     = "0.9-xhr-polling"
)

// kindOf spreads the kinds over the clients, per 20: 7 and 7 Engine.IO 4
// and 3 over WebSocket, 2 and 1 over polling, 2 socket.io 0.9 over
// WebSocket and 1 over xhr-polling. The first 6 clients are one of each.
func kindOf(i int) string {
	order := []string{kindEIO4WebSocket, kindEIO3WebSocket, kindEIO4Polling, kindEIO3Polling, kind09WebSocket, kind09Polling,
		kindEIO4WebSocket, kindEIO3WebSocket, kindEIO4WebSocket, kindEIO3WebSocket, kindEIO4Polling, kind09WebSocket,
		kindEIO4WebSocket, kindEIO3WebSocket, kindEIO4WebSocket, kindEIO3WebSocket, kindEIO4WebSocket, kindEIO3WebSocket,
		kindEIO4WebSocket, kindEIO3WebSocket}
	return order[i%len(order)]
}

// wire is one client connection as the client logic sees it: it sends
// events with an ack id and hands what arrives to its client (gotAck,
// gotEvent, ended). All methods may be called concurrently.
type wire interface {
	// emit sends event with its arguments (a JSON array) and ack id.
	emit(id int, event string, args string) error
	// tick sends the client's heartbeat when one is due.
	tick(now time.Time) error
	// close ends the connection from the client side.
	close()
}

// env is what every client shares.
type env struct {
	base   string // http://127.0.0.1:PORT
	http   *http.Client
	dialer *websocket.Dialer
	wg     sync.WaitGroup // every goroutine of every client

	acksSent, acksReceived, wrongAcks atomic.Int64
	says, ownCopies, deliveries       atomic.Int64
	dropped                           atomic.Int64
	rooms                             int
	interval                          time.Duration
}

// client is one simulated user: one action at a time, the next about
// env.interval after the last one's ack.
type client struct {
	id   int
	kind string
	env  *env
	w    wire

	mu      sync.Mutex
	busy    bool // an action waits for its ack
	next    time.Time
	nextAck int
	pending map[int]action
	rooms   []string
	says    map[int]string // own says whose copy has not come back -> room
	seq     int
	err     error // why the connection ended, when it did
	closing bool  // closed on purpose: its end is no failure
}

type action struct {
	what string // work, join, leave or say
	room string
}

func newClient(id int, e *env) *client {
	return &client{id: id, kind: kindOf(id), env: e, pending: map[int]action{}, says: map[int]string{}}
}

// dial connects the client and joins the root namespace.
func (c *client) dial() error {
	var err error
	switch c.kind {
	case kindEIO4WebSocket:
		c.w, err = dialEngineWS(c, 4)
	case kindEIO3WebSocket:
		c.w, err = dialEngineWS(c, 3)
	case kindEIO4Polling:
		c.w, err = dialEnginePolling(c, 4)
	case kindEIO3Polling:
		c.w, err = dialEnginePolling(c, 3)
	case kind09WebSocket:
		c.w, err = dialLegacyWS(c)
	case kind09Polling:
		c.w, err = dialLegacyPolling(c)
	}
	if err != nil {
		return fmt.Errorf("%s client %d: %w", c.kind, c.id, err)
	}
	return nil
}

// act takes the client's next action when it is due and no other waits.
func (c *client) act(now time.Time, r *rand.Rand) {
	c.mu.Lock()
	if c.busy || c.err != nil || c.closing || now.Before(c.next) {
		c.mu.Unlock()
		return
	}
	a := c.choose(r)
	id := c.nextAck
	c.nextAck++
	var args string
	switch a.what {
	case "work":
		args = fmt.Sprintf("[%d,%d]", c.id, id)
	case "join", "leave":
		args = fmt.Sprintf("[%q]", a.room)
	case "say":
		c.seq++
		c.says[c.seq] = a.room
		args = fmt.Sprintf(`[%q,{"c":%d,"s":%d}]`, a.room, c.id, c.seq)
	}
	c.pending[id] = a
	c.busy = true
	c.mu.Unlock()
	c.env.acksSent.Add(1)
	if a.what == "say" {
		c.env.says.Add(1)
	}
	if err := c.w.emit(id, a.what, args); err != nil {
		c.ended(err)
	}
}

// choose picks an action; c.mu is held.
func (c *client) choose(r *rand.Rand) action {
	room := fmt.Sprintf("room-%d", r.IntN(c.env.rooms))
	if len(c.rooms) == 0 {
		return action{"join", room}
	}
	switch x := r.IntN(100); {
	case x < 60:
	case x < 75:
		return action{"say", c.rooms[r.IntN(len(c.rooms))]}
	case x < 88:
		if len(c.rooms) < 3 && !slices.Contains(c.rooms, room) {
			return action{"join", room}
		}
	default:
		// A room whose says have all come back: the copy must find the
		// sender still in the room.
		for _, r := range c.rooms {
			if !c.waitsIn(r) {
				return action{"leave", r}
			}
		}
	}
	return action{"work", ""}
}

func (c *client) waitsIn(room string) bool {
	for _, r := range c.says {
		if r == room {
			return true
		}
	}
	return false
}

// gotAck takes the ack of an action.
func (c *client) gotAck(id int, args []json.RawMessage) {
	c.mu.Lock()
	a, ok := c.pending[id]
	delete(c.pending, id)
	if ok {
		switch a.what {
		case "join":
			if !slices.Contains(c.rooms, a.room) {
				c.rooms = append(c.rooms, a.room)
			}
		case "leave":
			c.rooms = slices.DeleteFunc(c.rooms, func(r string) bool { return r == a.room })
		}
		c.busy = false
		c.next = time.Now().Add(jitter(c.env.interval))
	}
	c.mu.Unlock()
	if !ok || a.what == "work" && (len(args) != 2 || string(args[1]) != strconv.Itoa(id)) {
		c.env.wrongAcks.Add(1)
		return
	}
	c.env.acksReceived.Add(1)
}

// jitter returns d give or take half.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d)
}

// gotEvent takes an event the server sent: a room broadcast.
func (c *client) gotEvent(name string, args []json.RawMessage) {
	if name != "said" || len(args) != 1 {
		c.env.wrongAcks.Add(1)
		return
	}
	c.env.deliveries.Add(1)
	var said struct{ C, S int }
	if json.Unmarshal(args[0], &said) != nil || said.C != c.id {
		return
	}
	c.mu.Lock()
	_, mine := c.says[said.S]
	delete(c.says, said.S)
	c.mu.Unlock()
	if mine {
		c.env.ownCopies.Add(1)
	}
}

// ended records that the connection is over; unless the client closed it,
// that is a drop.
func (c *client) ended(err error) {
	if err == nil {
		err = errors.New("connection ended")
	}
	c.mu.Lock()
	first := c.err == nil
	if first {
		c.err = err
	}
	closing := c.closing
	c.mu.Unlock()
	if first && !closing {
		c.env.dropped.Add(1)
	}
}

// idle reports whether no action waits for its ack.
func (c *client) idle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.busy || c.err != nil
}

// lost returns the acks and own copies still missing.
func (c *client) lost() (acks, copies int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending), len(c.says)
}

// shut closes the connection on purpose.
func (c *client) shut() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	if c.w != nil {
		c.w.close()
	}
}

func (c *client) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return nil
	}
	return c.err
}

// eventArray makes the JSON array of an event: its name, then args.
func eventArray(event, args string) string {
	name, _ := json.Marshal(event)
	if args == "[]" {
		return "[" + string(name) + "]"
	}
	return "[" + string(name) + "," + args[1:]
}
