package redisadapter

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/expressio-go/expressio/expressio"
	"github.com/expressio-go/expressio/protocol/socketio"
)

// Defaults, from @socket.io/redis-adapter unless said otherwise.
const (
	DefaultKey            = "socket.io"
	DefaultRequestTimeout = 5 * time.Second
	// DefaultPublishQueueSize bounds the messages waiting to be published
	// (not a Node option: Node buffers without bound while Redis is away).
	DefaultPublishQueueSize = 8192
)

// ErrRequestTimeout is returned when the other servers of the cluster
// do not all answer a request within Options.RequestTimeout.
var ErrRequestTimeout = errors.New("redisadapter: timeout reached while waiting for the other servers")

// Options configure the adapter. The zero value is valid.
type Options struct {
	// Key prefixes every channel (Node's key; "" = "socket.io"). Servers
	// share a cluster when they share the Key and the Redis.
	Key string
	// RequestTimeout bounds the requests to the other servers: fetch
	// sockets, all rooms, socket ids, server-side emit with ack (Node's
	// requestsTimeout; 0 = 5s).
	RequestTimeout time.Duration
	// PublishOnSpecificResponseChannel sends the answers to a request on
	// the requesting server's own response channel (Node's option of the
	// same name; default false: one response channel per namespace).
	PublishOnSpecificResponseChannel bool
	// PublishQueueSize bounds the messages waiting for Redis (0 = 8192).
	// Broadcasts never wait for Redis: when the queue is full, as when
	// Redis is away, messages are dropped, counted and logged.
	PublishQueueSize int
	// Logger receives the adapter's logs (nil = slog.Default()).
	Logger *slog.Logger
}

// New checks that Redis answers and returns the factory of the adapters
// that put each namespace of a server on it; pass it to
// Server.SetAdapter. Redis being unreachable is an error here; later
// outages are ridden out: the adapter reconnects, resubscribes and logs
// the window in which messages were lost.
//
// client is used to publish and, through connections of its own, to
// subscribe; a *redis.Client or a *redis.ClusterClient (not sharded pub/sub).
func New(ctx context.Context, client redis.UniversalClient, opts *Options) (expressio.AdapterFactory, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Key == "" {
		o.Key = DefaultKey
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.PublishQueueSize <= 0 {
		o.PublishQueueSize = DefaultPublishQueueSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := client.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("redisadapter: redis does not answer: %w", err)
	}
	return func(n *expressio.Namespace) expressio.Adapter { return newAdapter(n, client, o) }, nil
}

// Adapter is the adapter of one namespace on Redis. It embeds the
// in-memory adapter for the sockets of this server.
type Adapter struct {
	*expressio.MemoryAdapter

	ns   *expressio.Namespace
	rdb  redis.UniversalClient
	opts Options
	log  *slog.Logger
	uid  string

	channel                 string // socket.io#<nsp>#, + <room># for one room
	requestChannel          string
	responseChannel         string
	specificResponseChannel string

	pubsub  *redis.PubSub
	queue   chan outgoing
	stop    chan struct{}
	wg      sync.WaitGroup
	closing sync.Once

	mu          sync.Mutex
	requests    map[string]*pendingRequest
	ackRequests map[string]*ackRequest

	health health
}

type outgoing struct {
	channel string
	payload []byte
}

// pendingRequest waits for the other servers' answers to a request.
type pendingRequest struct {
	typ       int
	responses chan response
}

// ackRequest routes the answers to a broadcast with acknowledgements.
type ackRequest struct {
	clientCount func(int)
	ack         func(expressio.Payload)
	timer       *time.Timer
}

func newAdapter(n *expressio.Namespace, rdb redis.UniversalClient, o Options) *Adapter {
	a := &Adapter{
		MemoryAdapter: expressio.NewMemoryAdapter(n),
		ns:            n,
		rdb:           rdb,
		opts:          o,
		log:           o.Logger.With("nsp", n.Name()),
		uid:           newUID(),
		queue:         make(chan outgoing, o.PublishQueueSize),
		stop:          make(chan struct{}),
		requests:      make(map[string]*pendingRequest),
		ackRequests:   make(map[string]*ackRequest),
	}
	a.health.log = a.log
	a.channel = o.Key + "#" + n.Name() + "#"
	a.requestChannel = o.Key + "-request#" + n.Name() + "#"
	a.responseChannel = o.Key + "-response#" + n.Name() + "#"
	a.specificResponseChannel = a.responseChannel + a.uid + "#"

	ctx, cancel := context.WithTimeout(context.Background(), o.RequestTimeout)
	defer cancel()
	a.pubsub = rdb.PSubscribe(ctx, a.channel+"*")
	if err := a.pubsub.Subscribe(ctx, a.requestChannel, a.responseChannel, a.specificResponseChannel); err != nil {
		a.log.Error("redisadapter: subscribe; retrying as Redis comes back", "err", err)
	}
	a.wg.Add(2)
	go a.receive()
	go a.publish()
	return a
}

// newUID returns 6 random alphanumeric characters, the form of Node's
// uid2(6) server and request ids.
func newUID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	rand.Read(b)
	for i, c := range b {
		b[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(b)
}

// Close unsubscribes, publishes what is queued (for up to a second) and
// stops the adapter's goroutines.
func (a *Adapter) Close() error {
	var err error
	a.closing.Do(func() {
		close(a.stop)
		err = a.pubsub.Close()
		a.wg.Wait()
		a.mu.Lock()
		for id, r := range a.ackRequests {
			r.timer.Stop()
			delete(a.ackRequests, id)
		}
		a.mu.Unlock()
	})
	if err != nil {
		return fmt.Errorf("redisadapter: close: %w", err)
	}
	return nil
}

// enqueue queues a message for Redis without waiting: when the queue is
// full the message is dropped and counted.
func (a *Adapter) enqueue(channel string, payload []byte) {
	select {
	case a.queue <- outgoing{channel, payload}:
	default:
		a.health.dropped("publish queue full")
	}
}

// publish sends the queued messages, in order, in pipelined batches.
func (a *Adapter) publish() {
	defer a.wg.Done()
	const maxBatch = 256
	batch := make([]outgoing, 0, maxBatch)
	for {
		select {
		case m := <-a.queue:
			batch = append(batch[:0], m)
		case <-a.stop:
			a.drain()
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case m := <-a.queue:
				batch = append(batch, m)
			default:
				break fill
			}
		}
		a.send(batch)
	}
}

// drain publishes what is still queued at Close, for up to a second.
func (a *Adapter) drain() {
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		select {
		case m := <-a.queue:
			a.send([]outgoing{m})
		default:
			return
		}
	}
}

func (a *Adapter) send(batch []outgoing) {
	ctx, cancel := context.WithTimeout(context.Background(), a.opts.RequestTimeout)
	defer cancel()
	_, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range batch {
			p.Publish(ctx, m.channel, m.payload)
		}
		return nil
	})
	if err != nil {
		a.health.publishFailed(len(batch), err)
		return
	}
	a.health.publishOK()
}

// receive reads the subscriptions until Close. go-redis reconnects and
// resubscribes on the next read after an error.
func (a *Adapter) receive() {
	defer a.wg.Done()
	backoff := 50 * time.Millisecond
	for {
		msg, err := a.pubsub.Receive(context.Background())
		if err != nil {
			select {
			case <-a.stop:
				return
			default:
			}
			if errors.Is(err, redis.ErrClosed) {
				return
			}
			a.health.subscriptionLost(err)
			select {
			case <-a.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Message:
			a.health.subscriptionOK()
			a.onMessage(m)
		case *redis.Subscription:
			a.health.subscriptionOK()
		}
	}
}

func (a *Adapter) onMessage(m *redis.Message) {
	switch {
	case strings.HasPrefix(m.Channel, a.channel):
		a.onBroadcast(m.Channel, []byte(m.Payload))
	case strings.HasPrefix(m.Channel, a.responseChannel):
		a.onResponse([]byte(m.Payload))
	case m.Channel == a.requestChannel:
		a.onRequest([]byte(m.Payload))
	}
}

// onBroadcast delivers another server's broadcast to this server's
// sockets.
func (a *Adapter) onBroadcast(channel string, msg []byte) {
	room := strings.TrimSuffix(channel[len(a.channel):], "#")
	if room != "" && !a.HasRoom(room) {
		return // nobody here is in the room
	}
	uid, p, o, err := decodeBroadcast(msg)
	if err != nil {
		a.health.malformed("broadcast", channel, err)
		return
	}
	if uid == a.uid || p.Namespace != a.ns.Name() {
		return
	}
	a.MemoryAdapter.Broadcast(p, o.options())
}

// Broadcast delivers a packet to this server's sockets and publishes it
// for the other servers, without waiting for Redis.
func (a *Adapter) Broadcast(p socketio.Packet, opts expressio.BroadcastOptions) error {
	p.Namespace = a.ns.Name()
	if !opts.Flags.Local {
		msg, err := encodeBroadcast(a.uid, p, wireOptions(opts))
		if err != nil {
			return fmt.Errorf("redisadapter: broadcast: %w", err)
		}
		channel := a.channel
		if len(opts.Rooms) == 1 {
			channel += opts.Rooms[0] + "#"
		}
		a.enqueue(channel, msg)
	}
	return a.MemoryAdapter.Broadcast(p, opts)
}

// BroadcastWithAck delivers a packet asking for acknowledgements to this
// server's sockets and to the other servers', whose client counts and
// acknowledgements come back as responses until opts.Flags.Timeout.
func (a *Adapter) BroadcastWithAck(p socketio.Packet, opts expressio.BroadcastOptions, clientCount func(int), ack func(expressio.Payload)) error {
	p.Namespace = a.ns.Name()
	if !opts.Flags.Local {
		id := newUID()
		msg, err := encodeRequestMsgpack(request{UID: a.uid, RequestID: id, Type: requestBroadcast, Packet: &p, Opts: wireOptionsPtr(opts)})
		if err != nil {
			return fmt.Errorf("redisadapter: broadcast with ack: %w", err)
		}
		r := &ackRequest{clientCount: clientCount, ack: ack}
		a.mu.Lock()
		a.ackRequests[id] = r
		r.timer = time.AfterFunc(time.Duration(opts.Flags.Timeout)*time.Millisecond, func() {
			a.mu.Lock()
			delete(a.ackRequests, id)
			a.mu.Unlock()
		})
		a.mu.Unlock()
		a.enqueue(a.requestChannel, msg)
	}
	return a.MemoryAdapter.BroadcastWithAck(p, opts, clientCount, ack)
}

// Sockets returns the ids of the sockets in any of rooms on every
// server.
func (a *Adapter) Sockets(ctx context.Context, rooms []string) ([]string, error) {
	ids, _ := a.MemoryAdapter.Sockets(ctx, rooms)
	responses, err := a.request(ctx, request{Type: requestSockets, Rooms: nonNil(rooms)}, 1)
	for _, r := range responses {
		var more []string
		if json.Unmarshal(r.Sockets, &more) == nil {
			ids = append(ids, more...)
		}
	}
	return ids, err
}

// AllRooms returns the rooms of every server, each once.
func (a *Adapter) AllRooms(ctx context.Context) ([]string, error) {
	rooms := a.LocalRooms()
	responses, err := a.request(ctx, request{Type: requestAllRooms}, 1)
	seen := make(map[string]struct{}, len(rooms))
	for _, r := range rooms {
		seen[r] = struct{}{}
	}
	for _, r := range responses {
		for _, room := range r.Rooms {
			if _, dup := seen[room]; !dup {
				seen[room] = struct{}{}
				rooms = append(rooms, room)
			}
		}
	}
	return rooms, err
}

// FetchSockets describes the sockets opts selects on every server.
func (a *Adapter) FetchSockets(ctx context.Context, opts expressio.BroadcastOptions) ([]expressio.SocketInfo, error) {
	local, _ := a.MemoryAdapter.FetchSockets(ctx, opts)
	if opts.Flags.Local {
		return local, nil
	}
	responses, err := a.request(ctx, request{Type: requestRemoteFetch, Opts: wireOptionsPtr(opts)}, 1)
	for _, r := range responses {
		var more []expressio.SocketInfo
		if json.Unmarshal(r.Sockets, &more) == nil {
			local = append(local, more...)
		}
	}
	return local, err
}

// AddSockets makes the sockets opts selects, on every server, join rooms.
func (a *Adapter) AddSockets(ctx context.Context, opts expressio.BroadcastOptions, rooms []string) error {
	return a.remote(ctx, requestRemoteJoin, opts, rooms, false, a.MemoryAdapter.AddSockets)
}

// DelSockets makes the sockets opts selects, on every server, leave
// rooms.
func (a *Adapter) DelSockets(ctx context.Context, opts expressio.BroadcastOptions, rooms []string) error {
	return a.remote(ctx, requestRemoteLeave, opts, rooms, false, a.MemoryAdapter.DelSockets)
}

// DisconnectSockets disconnects the sockets opts selects on every server.
func (a *Adapter) DisconnectSockets(ctx context.Context, opts expressio.BroadcastOptions, closeConn bool) error {
	return a.remote(ctx, requestRemoteDisconnect, opts, nil, closeConn,
		func(ctx context.Context, opts expressio.BroadcastOptions, _ []string) error {
			return a.MemoryAdapter.DisconnectSockets(ctx, opts, closeConn)
		})
}

// remote applies an operation here and publishes it for the other
// servers, which answer nothing (Node's form with opts).
func (a *Adapter) remote(ctx context.Context, typ int, opts expressio.BroadcastOptions, rooms []string, closeConn bool,
	local func(context.Context, expressio.BroadcastOptions, []string) error) error {
	if err := local(ctx, opts, rooms); err != nil {
		return err
	}
	if opts.Flags.Local {
		return nil
	}
	r := request{UID: a.uid, Type: typ, Opts: wireOptionsPtr(opts), Close: closeConn}
	if typ != requestRemoteDisconnect {
		r.Rooms = nonNil(rooms)
	}
	msg, err := encodeRequestJSON(r)
	if err != nil {
		return fmt.Errorf("redisadapter: request %d: %w", typ, err)
	}
	a.enqueue(a.requestChannel, msg)
	return nil
}

// ServerSideEmit sends an event to the other servers.
func (a *Adapter) ServerSideEmit(_ context.Context, data []json.RawMessage) error {
	msg, err := encodeRequestJSON(request{UID: a.uid, Type: requestServerSideEmit, Data: data})
	if err != nil {
		return fmt.Errorf("redisadapter: server-side emit: %w", err)
	}
	a.enqueue(a.requestChannel, msg)
	return nil
}

// ServerSideEmitWithAck sends an event to the other servers and returns
// their answers.
func (a *Adapter) ServerSideEmitWithAck(ctx context.Context, data []json.RawMessage) ([]json.RawMessage, error) {
	responses, err := a.request(ctx, request{Type: requestServerSideEmit, Data: data}, 1)
	answers := make([]json.RawMessage, 0, len(responses))
	for _, r := range responses {
		answers = append(answers, r.Data)
	}
	return answers, err
}

// ServerCount returns the number of servers subscribed to the
// namespace's request channel, this one included.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	counts, err := a.rdb.PubSubNumSub(ctx, a.requestChannel).Result()
	if err != nil {
		return 0, fmt.Errorf("redisadapter: server count: %w", err)
	}
	return int(counts[a.requestChannel]), nil
}

// request publishes a request to the other servers and collects their
// responses: one from each server but this one (self is how many
// servers of the count need no answer). It returns what came and
// ErrRequestTimeout when not all came within the request timeout or ctx.
func (a *Adapter) request(ctx context.Context, r request, self int) ([]response, error) {
	count, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	want := count - self
	if want <= 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestTimeout)
	defer cancel()
	r.UID, r.RequestID = a.uid, newUID()
	msg, err := encodeRequestJSON(r)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: request %d: %w", r.Type, err)
	}
	p := &pendingRequest{typ: r.Type, responses: make(chan response, want)}
	a.mu.Lock()
	a.requests[r.RequestID] = p
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.requests, r.RequestID)
		a.mu.Unlock()
	}()
	a.enqueue(a.requestChannel, msg)
	out := make([]response, 0, want)
	for len(out) < want {
		select {
		case resp := <-p.responses:
			out = append(out, resp)
		case <-ctx.Done():
			return out, fmt.Errorf("%w (request type %d: %d of %d answered): %w", ErrRequestTimeout, r.Type, len(out), want, ctx.Err())
		case <-a.stop:
			return out, fmt.Errorf("redisadapter: request type %d: adapter closed", r.Type)
		}
	}
	return out, nil
}

// onResponse hands a response to the request or broadcast waiting for
// it; others' responses are ignored.
func (a *Adapter) onResponse(msg []byte) {
	resp, err := decodeResponse(msg)
	if err != nil {
		a.health.malformed("response", a.responseChannel, err)
		return
	}
	a.mu.Lock()
	ackReq := a.ackRequests[resp.RequestID]
	pending := a.requests[resp.RequestID]
	a.mu.Unlock()
	switch {
	case ackReq != nil:
		switch resp.Type {
		case requestBroadcastClientCount:
			ackReq.clientCount(resp.ClientCount)
		case requestBroadcastAck:
			ackReq.ack(expressio.Payload{Args: []json.RawMessage{resp.Packet.Data}, Attachments: resp.Packet.Attachments})
		}
	case pending != nil:
		select {
		case pending.responses <- resp:
		default: // more answers than servers counted: a server joined meanwhile
		}
	}
}

// onRequest serves another server's request.
func (a *Adapter) onRequest(msg []byte) {
	r, err := decodeRequest(msg)
	if err != nil {
		a.health.malformed("request", a.requestChannel, err)
		return
	}
	if r.UID == a.uid {
		return // ours: already applied here
	}
	ctx := context.Background()
	switch r.Type {
	case requestSockets:
		ids, _ := a.MemoryAdapter.Sockets(ctx, r.Rooms)
		sockets, _ := json.Marshal(nonNil(ids))
		a.respondJSON(r, response{RequestID: r.RequestID, Sockets: sockets})
	case requestAllRooms:
		a.respondJSON(r, response{RequestID: r.RequestID, Rooms: nonNil(a.LocalRooms())})
	case requestRemoteJoin, requestRemoteLeave, requestRemoteDisconnect:
		a.onRemoteOperation(r)
	case requestRemoteFetch:
		infos, _ := a.MemoryAdapter.FetchSockets(ctx, r.Opts.options())
		if infos == nil {
			infos = []expressio.SocketInfo{}
		}
		sockets, err := json.Marshal(infos)
		if err != nil {
			a.log.Warn("redisadapter: fetch sockets: encode", "err", err)
			return
		}
		a.respondJSON(r, response{RequestID: r.RequestID, Sockets: sockets})
	case requestServerSideEmit:
		var respond func(json.RawMessage)
		if r.RequestID != "" {
			respond = func(v json.RawMessage) {
				a.respondJSON(r, response{Type: requestServerSideEmit, RequestID: r.RequestID, Data: v})
			}
		}
		a.ns.HandleServerEvent(r.Data, respond)
	case requestBroadcast:
		if r.Packet == nil {
			a.health.malformed("request", a.requestChannel, errors.New("broadcast request without a packet"))
			return
		}
		a.mu.Lock()
		_, ours := a.ackRequests[r.RequestID]
		a.mu.Unlock()
		if ours {
			return
		}
		a.MemoryAdapter.BroadcastWithAck(*r.Packet, r.Opts.options(),
			func(n int) {
				a.respondJSON(r, response{Type: requestBroadcastClientCount, RequestID: r.RequestID, ClientCount: n})
			},
			func(p expressio.Payload) {
				var v ackValue
				if len(p.Args) > 0 {
					v = ackValue{Data: p.Args[0], Attachments: p.Attachments}
				}
				msg, err := encodeResponseMsgpack(response{Type: requestBroadcastAck, RequestID: r.RequestID, Packet: v})
				if err != nil {
					a.log.Warn("redisadapter: broadcast ack: encode", "err", err)
					return
				}
				a.enqueue(a.responseChannelFor(r), msg)
			})
	}
}

// onRemoteOperation serves a remote join, leave or disconnect: Node's
// form selects sockets with opts and is not answered; the older form
// names one socket by sid and is.
func (a *Adapter) onRemoteOperation(r request) {
	ctx := context.Background()
	if r.Opts != nil {
		opts := r.Opts.options()
		opts.Flags.Local = true
		switch r.Type {
		case requestRemoteJoin:
			a.MemoryAdapter.AddSockets(ctx, opts, r.Rooms)
		case requestRemoteLeave:
			a.MemoryAdapter.DelSockets(ctx, opts, r.Rooms)
		default:
			a.MemoryAdapter.DisconnectSockets(ctx, opts, r.Close)
		}
		return
	}
	s := a.ns.Socket(r.SID)
	if s == nil {
		return
	}
	switch r.Type {
	case requestRemoteJoin:
		s.Join(r.Room)
	case requestRemoteLeave:
		s.Leave(r.Room)
	default:
		s.Disconnect(r.Close)
	}
	a.respondJSON(r, response{RequestID: r.RequestID})
}

func (a *Adapter) responseChannelFor(r request) string {
	if a.opts.PublishOnSpecificResponseChannel {
		return a.responseChannel + r.UID + "#"
	}
	return a.responseChannel
}

func (a *Adapter) respondJSON(r request, resp response) {
	msg, err := encodeResponseJSON(resp)
	if err != nil {
		a.log.Warn("redisadapter: encode response", "type", r.Type, "err", err)
		return
	}
	a.enqueue(a.responseChannelFor(r), msg)
}

func wireOptions(o expressio.BroadcastOptions) wireOpts {
	return wireOpts{Rooms: nonNil(o.Rooms), Except: nonNil(o.Except), Flags: wireFlags{Local: o.Flags.Local, Timeout: o.Flags.Timeout}}
}

func wireOptionsPtr(o expressio.BroadcastOptions) *wireOpts {
	w := wireOptions(o)
	return &w
}

// options is the selection of a request's opts; nil selects every
// socket.
func (w *wireOpts) options() expressio.BroadcastOptions {
	if w == nil {
		return expressio.BroadcastOptions{}
	}
	return expressio.BroadcastOptions{Rooms: w.Rooms, Except: w.Except, Flags: expressio.BroadcastFlags{Timeout: w.Flags.Timeout}}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
