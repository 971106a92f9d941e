package expressio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/expressio-go/expressio/expressio"
	"github.com/expressio-go/expressio/protocol/engineio/packet"
	"github.com/expressio-go/expressio/protocol/legacy"
)

// shutdownLedger is the server's record of what it sent before Shutdown
// began.
type shutdownLedger struct {
	// gate is held for reading by handlers while they send, and taken for
	// writing once, to mark the moment Shutdown begins: what a handler
	// sent while holding it with stopping false was sent before.
	gate     sync.RWMutex
	stopping bool

	mu      sync.Mutex
	acks    map[int][]int // client id -> sequence numbers acked
	pushes  map[int][]int // client id -> sequence numbers pushed
	reasons map[string]int
}

func (l *shutdownLedger) record(m map[int][]int, id, seq int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m[id] = append(m[id], seq)
}

// Shutdown under load: clients of every generation and transport keep
// exchanging acks with the server while it shuts down. Shutdown must
// return nil within its context, every ack and push the server queued
// before it began must reach its client, every client must see the end
// of its connection in its generation's wire form, every socket's
// disconnect route must get "server shutting down", and no goroutine
// may be left behind.
func TestShutdownUnderLoad(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const clients = 1000

	l := &shutdownLedger{acks: map[int][]int{}, pushes: map[int][]int{}, reasons: map[string]int{}}
	app := expressio.New()
	app.IO = expressio.NewServer(&expressio.Options{
		Logger: slog.New(slog.DiscardHandler),
		Legacy: expressio.LegacyOptions{Enabled: true},
	})
	app.IO.Route("work", func(req *expressio.SocketRequest) {
		var id, seq int
		if err := req.Payload.Bind(0, &id); err != nil {
			panic(err)
		}
		if err := req.Payload.Bind(1, &seq); err != nil {
			panic(err)
		}
		l.gate.RLock()
		defer l.gate.RUnlock()
		if err := req.IO.Respond(seq); err == nil && !l.stopping {
			l.record(l.acks, id, seq)
		}
		if seq%3 == 0 {
			err := req.IO.Emit("push", seq, expressio.OnAck(5*time.Second, func(expressio.Payload, error) {}))
			if err == nil && !l.stopping {
				l.record(l.pushes, id, seq)
			}
		}
	})
	app.IO.Route("disconnect", func(req *expressio.SocketRequest) {
		var reason string
		req.Bind(&reason)
		l.mu.Lock()
		l.reasons[reason]++
		l.mu.Unlock()
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	shutDown := false
	defer func() {
		if !shutDown { // the test failed before: do not leave the server running
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			app.Shutdown(ctx)
		}
	}()
	tr := &http.Transport{MaxIdleConnsPerHost: 4 * clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	// Connect them all, a few at a time, then start them all and wait
	// until each has had an ack.
	began := time.Now()
	var connected, warm, running sync.WaitGroup
	connected.Add(clients)
	warm.Add(clients)
	start := make(chan struct{})
	all := make([]*loadClient, clients)
	sem := make(chan struct{}, 32)
	for i := range all {
		c := newLoadClient(i, loadKinds[i%len(loadKinds)], base, hc, start, sync.OnceFunc(warm.Done))
		all[i] = c
		sem <- struct{}{}
		running.Go(func() {
			c.run(func() {
				<-sem
				connected.Done()
			})
			c.warm() // in case it failed before
		})
	}
	if !waitGroupWithin(&connected, 20*time.Second) {
		t.Fatal("clients not connected in time")
	}
	for _, c := range all {
		if end, _, _ := c.result(); end != "" {
			t.Fatalf("client %d (%s) could not connect: %s", c.id, c.kind, end)
		}
	}
	connectedIn := time.Since(began)
	close(start)
	if !waitGroupWithin(&warm, 20*time.Second) {
		t.Fatal("clients not warmed up in time")
	}
	for _, c := range all {
		if end, acks, _ := c.result(); len(acks) == 0 {
			t.Fatalf("client %d (%s) did not get going: %s", c.id, c.kind, end)
		}
	}

	l.gate.Lock()
	l.stopping = true
	l.gate.Unlock()
	// Clients that are done close their connections, as browsers would,
	// so the HTTP server need not wait for connections that will carry no
	// request (net/http waits 5 s for those).
	clientsDone := make(chan bool, 1)
	go func() {
		clientsDone <- waitGroupWithin(&running, 20*time.Second)
		tr.CloseIdleConnections()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	shutdownAt := time.Now()
	shutDown = true
	err = app.Shutdown(ctx)
	took := time.Since(shutdownAt)
	if err != nil {
		t.Errorf("Shutdown after %v: %v", took, err)
	}
	if !<-clientsDone {
		t.Fatal("clients still running 20s after Shutdown began")
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve returned %v", err)
	}

	wantEnd := map[string]string{
		kindEIO4WebSocket: endWSGoingAway,
		kindEIO3WebSocket: endWSGoingAway,
		kind09WebSocket:   endWSGoingAway,
		kindEIO4Polling:   endEIOClose,
		kindEIO3Polling:   endEIOClose,
		kind09Polling:     endLegacyGone,
	}
	var sentAcks, sentPushes int
	type tally struct {
		clients, badEnds, lostAcks, lostPushes int
		example                                string
	}
	byKind := map[string]*tally{}
	for _, k := range loadKinds {
		byKind[k] = &tally{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range all {
		end, acks, pushes := c.result()
		k := byKind[c.kind]
		k.clients++
		bad := false
		if end != wantEnd[c.kind] {
			k.badEnds++
			bad = true
		}
		for _, seq := range l.acks[c.id] {
			sentAcks++
			if !acks[seq] {
				k.lostAcks++
				bad = true
			}
		}
		for _, seq := range l.pushes[c.id] {
			sentPushes++
			if !pushes[seq] {
				k.lostPushes++
				bad = true
			}
		}
		if bad && k.example == "" {
			k.example = fmt.Sprintf("client %d ended with %q", c.id, end)
		}
	}
	for _, kind := range loadKinds {
		if k := byKind[kind]; k.example != "" {
			t.Errorf("%s: of %d clients, %d did not end with %q; %d acks and %d pushes sent before Shutdown were lost; e.g. %s",
				kind, k.clients, k.badEnds, wantEnd[kind], k.lostAcks, k.lostPushes, k.example)
		}
	}
	if got := l.reasons[expressio.ReasonServerShutdown]; got != clients || len(l.reasons) != 1 {
		t.Errorf("disconnect reasons %v, want %d × %q", l.reasons, clients, expressio.ReasonServerShutdown)
	}
	t.Logf("%d clients connected in %v; before Shutdown the server sent %d acks and %d pushes; Shutdown took %v",
		clients, connectedIn, sentAcks, sentPushes, took)
}

// waitGroupWithin waits for wg, at most d.
func waitGroupWithin(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// serveAppUntilShutdown serves app on a loopback port until its Shutdown, whose end
// the returned channel reports.
func serveAppUntilShutdown(t *testing.T, app *expressio.App) (base string, served <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Serve(ln) }()
	return "http://" + ln.Addr().String(), done
}

// A polling client between two polls when Shutdown begins, with a
// message queued for it, gets the message and the end of its session on
// its next poll, in its generation's form; Shutdown waits for that poll.
func TestShutdownReachesPollingClientsBetweenPolls(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, kind := range []string{kindEIO4Polling, kindEIO3Polling, kind09Polling} {
		t.Run(kind, func(t *testing.T) {
			app := expressio.New()
			app.IO = expressio.NewServer(&expressio.Options{
				Logger: slog.New(slog.DiscardHandler),
				Legacy: expressio.LegacyOptions{Enabled: true},
			})
			base, served := serveAppUntilShutdown(t, app)

			// Connect, and leave no poll pending.
			var pollURL string
			switch kind {
			case kind09Polling:
				_, body := get(t, base+"/socket.io/1/?t=1")
				sid, _, _ := strings.Cut(body, ":")
				pollURL = base + "/socket.io/1/xhr-polling/" + sid
				if _, body := get(t, pollURL); body != "1::" {
					t.Fatalf("first poll %q", body)
				}
			default:
				rev := 4
				if kind == kindEIO3Polling {
					rev = 3
				}
				pollURL = fmt.Sprintf("%s/socket.io/?EIO=%d&transport=polling", base, rev)
				_, body := get(t, pollURL)
				pkts, err := packet.DecodePayload(rev, []byte(body), false, 0)
				if err != nil || pkts[0].Type != packet.Open {
					t.Fatalf("handshake %q: %v", body, err)
				}
				var open struct{ SID string }
				json.Unmarshal(pkts[0].Data, &open)
				pollURL += "&sid=" + open.SID
				if rev == 4 {
					post(t, pollURL, "40")
				}
				// The CONNECT answer may have come with the handshake (EIO3).
				for pkts[len(pkts)-1].Type != packet.Message {
					_, body := get(t, pollURL)
					pkts, _ = packet.DecodePayload(rev, []byte(body), false, 0)
				}
			}
			waitUntil(t, func() bool { return len(app.IO.Of("/").Sockets()) == 1 })
			if err := app.IO.Broadcast("bye", 1); err != nil {
				t.Fatal(err)
			}

			shut := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				shut <- app.Shutdown(ctx)
			}()
			waitShutdownBegun(t, base)
			// New sessions are refused a moment before the old ones are
			// closed, so the poll may get the message alone; then the
			// next one must get the end.
			want := map[string]string{
				kindEIO4Polling: "42[\"bye\",1]\x1e1",
				kindEIO3Polling: "11:42[\"bye\",1]1:1",
				kind09Polling:   string(legacy.EncodeFrames([]byte(`5:::{"name":"bye","args":[1]}`), []byte("7:::1+0"))),
			}[kind]
			alone := map[string]string{
				kindEIO4Polling: "42[\"bye\",1]",
				kindEIO3Polling: "11:42[\"bye\",1]",
				kind09Polling:   `5:::{"name":"bye","args":[1]}`,
			}[kind]
			end := map[string]string{kindEIO4Polling: "1", kindEIO3Polling: "1:1", kind09Polling: "7:::1+0"}[kind]
			body, err := tryGet(pollURL)
			switch {
			case err != nil:
				t.Errorf("poll after Shutdown began: %v; want %q", err, want)
			case body == alone:
				if body, err = tryGet(pollURL); err != nil || body != end {
					t.Errorf("poll after the message = %q, %v; want %q", body, err, end)
				}
			case body != want:
				t.Errorf("poll after Shutdown began = %q, want %q", body, want)
			}
			if err := <-shut; err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			<-served
		})
	}
}

// waitShutdownBegun returns once both protocol servers refuse new
// sessions, or the server is gone: by then Shutdown has closed the
// sessions there were.
func waitShutdownBegun(t *testing.T, base string) {
	t.Helper()
	waitUntil(t, func() bool {
		res, err := http.Get(base + "/socket.io/1/?t=1")
		if err != nil {
			return true
		}
		res.Body.Close()
		return res.StatusCode == http.StatusServiceUnavailable
	})
	// A WebSocket probe: a polling one would itself be a session to close.
	waitUntil(t, func() bool {
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
		if err != nil {
			return true
		}
		defer conn.Close()
		_, _, err = conn.ReadMessage()
		return websocket.IsCloseError(err, websocket.CloseGoingAway)
	})
}

// tryGet returns the body of a GET, or why there is none.
func tryGet(u string) (string, error) {
	res, err := http.Get(u)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", res.StatusCode, b)
	}
	return string(b), err
}
