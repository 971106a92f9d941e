package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Fixed slack on top of -tolerance.
const (
	goroutineSlack = 50
	memorySlack    = 16 << 20
)

// shards is how many goroutines drive the clients' actions.
const shards = 8

// soak runs the whole soak and returns its report; an error means it
// could not be run to the end.
func soak(ctx context.Context, cfg *config, log io.Writer) (*report, error) {
	bin := cfg.fixture
	if bin == "" {
		dir, err := os.MkdirTemp("", "expressio-soak-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		fmt.Fprintln(log, "== building compat/fixture")
		if bin, err = buildFixture(ctx, dir, log); err != nil {
			return nil, err
		}
	}
	srv, err := startServer(ctx, bin, log)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.kill()
		}
	}()

	rep := &report{cfg: cfg, kinds: map[string]int{}}
	if rep.before, err = srv.figures(ctx, true); err != nil {
		return nil, err
	}

	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: cfg.clients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	e := &env{
		base:     srv.base,
		http:     &http.Client{Transport: tr, Timeout: 2 * time.Minute},
		dialer:   &websocket.Dialer{HandshakeTimeout: 20 * time.Second},
		rooms:    cfg.rooms,
		interval: cfg.interval,
	}
	clients := make([]*client, cfg.clients)
	for i := range clients {
		clients[i] = newClient(i, e)
		rep.kinds[clients[i].kind]++
	}
	defer func() {
		for _, c := range clients {
			c.shut()
		}
		tr.CloseIdleConnections()
		e.wg.Wait()
	}()

	fmt.Fprintf(log, "== connecting %d clients\n", cfg.clients)
	began := time.Now()
	if err := connectAll(ctx, clients, 64); err != nil {
		return rep, err
	}
	rep.connectTime = time.Since(began)

	// Client heartbeats run from now on until the clients close.
	drive, stopDrive := context.WithCancel(ctx)
	acting := &acting{}
	var driving sync.WaitGroup
	for s := range shards {
		driving.Go(func() { driveShard(drive, clients, s, acting) })
	}
	defer func() {
		stopDrive()
		driving.Wait()
	}()

	fmt.Fprintf(log, "== settling for %v\n", cfg.settle)
	if err := sleep(ctx, cfg.settle); err != nil {
		return rep, err
	}
	if rep.start, err = srv.figures(ctx, true); err != nil {
		return rep, err
	}

	fmt.Fprintf(log, "== load for %v\n", cfg.duration)
	acting.set(true)
	loadStart := time.Now()
	tick := time.NewTicker(cfg.progress)
	deadline := time.After(cfg.duration)
load:
	for {
		select {
		case <-ctx.Done():
			tick.Stop()
			return rep, ctx.Err()
		case <-deadline:
			break load
		case <-tick.C:
			f, err := srv.figures(ctx, false)
			if err != nil {
				tick.Stop()
				return rep, err
			}
			fmt.Fprintf(log, "   %v: %d acks, %d room deliveries, %d dropped; server: %d goroutines, heap %.1f MiB, RSS %.1f MiB, %d sockets\n",
				time.Since(loadStart).Round(time.Second), e.acksReceived.Load(), e.deliveries.Load(), e.dropped.Load(),
				f.Goroutines, mib(int64(f.HeapInuse)), mib(f.RSS), f.Sockets)
		}
	}
	tick.Stop()
	acting.set(false)
	rep.loadTime = time.Since(loadStart)

	// The acks in flight, then the same settle as at the start.
	drainUntil := time.Now().Add(30 * time.Second)
	for !allIdle(clients) && time.Now().Before(drainUntil) {
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return rep, err
		}
	}
	if err := sleep(ctx, cfg.settle); err != nil {
		return rep, err
	}
	if rep.end, err = srv.figures(ctx, true); err != nil {
		return rep, err
	}
	rep.collect(clients, e)

	fmt.Fprintln(log, "== closing the clients")
	stopDrive()
	driving.Wait()
	for _, c := range clients {
		c.shut()
	}
	leaveUntil := time.Now().Add(60 * time.Second)
	for {
		f, err := srv.figures(ctx, false)
		if err != nil {
			return rep, err
		}
		if f.Sockets == 0 || time.Now().After(leaveUntil) {
			break
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return rep, err
		}
	}
	// Idle keep-alive connections of the polling clients go too; the
	// goroutines of connections just closed may take a moment to end.
	tr.CloseIdleConnections()
	if err := sleep(ctx, cfg.settle); err != nil {
		return rep, err
	}
	if rep.after, err = srv.figures(ctx, true); err != nil {
		return rep, err
	}

	stopped = true
	rep.shutdownTime, rep.shutdownErr = srv.stop()
	rep.judge()
	return rep, nil
}

// connectAll dials every client, at most inFlight at once.
func connectAll(ctx context.Context, clients []*client, inFlight int) error {
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, c := range clients {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := c.dial(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d clients could not connect; first: %w", len(errs), len(clients), errs[0])
	}
	return nil
}

// acting says whether the clients take actions.
type acting struct {
	mu sync.Mutex
	on bool
}

func (a *acting) set(on bool) {
	a.mu.Lock()
	a.on = on
	a.mu.Unlock()
}

func (a *acting) get() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.on
}

// driveShard runs the heartbeats and, while acting, the actions of the
// clients whose index is shard modulo shards.
func driveShard(ctx context.Context, clients []*client, shard int, acting *acting) {
	r := rand.New(rand.NewPCG(uint64(shard), uint64(time.Now().UnixNano())))
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			on := acting.get()
			for i := shard; i < len(clients); i += shards {
				c := clients[i]
				if c.w == nil {
					continue
				}
				if err := c.w.tick(now); err != nil {
					c.ended(err)
				}
				if on {
					c.act(now, r)
				}
			}
		}
	}
}

func allIdle(clients []*client) bool {
	for _, c := range clients {
		if !c.idle() {
			return false
		}
	}
	return true
}

// sleep waits d, or returns ctx's error.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
