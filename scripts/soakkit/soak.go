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
	fmt.Fprintf(log, "== server on %s, figures on %s/figures\n", srv.base, srv.debug)
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

	ph := &phases{ctx: ctx, cfg: cfg, log: log, srv: srv, tr: tr, e: e, clients: clients, acting: acting}
	if rep.start, err = ph.quiet(); err != nil {
		return rep, err
	}
	warmup := min(cfg.duration/5, 2*time.Minute)
	fmt.Fprintf(log, "== warm-up load for %v\n", warmup)
	if err := ph.load(warmup); err != nil {
		return rep, err
	}
	if rep.warm, err = ph.quiet(); err != nil {
		return rep, err
	}
	fmt.Fprintf(log, "== load for %v\n", cfg.duration-warmup)
	if err := ph.load(cfg.duration - warmup); err != nil {
		return rep, err
	}
	if rep.end, err = ph.quiet(); err != nil {
		return rep, err
	}
	rep.loadTime = ph.loaded
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

// phases runs the load and the quiet times between.
type phases struct {
	ctx     context.Context
	cfg     *config
	log     io.Writer
	srv     *server
	tr      *http.Transport
	e       *env
	clients []*client
	acting  *acting
	loaded  time.Duration // load so far
}

// load lets the clients act for d, logging progress.
func (p *phases) load(d time.Duration) error {
	p.acting.set(true)
	defer p.acting.set(false)
	began := time.Now()
	defer func() { p.loaded += time.Since(began) }()
	tick := time.NewTicker(p.cfg.progress)
	defer tick.Stop()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return p.ctx.Err()
		case <-deadline.C:
			return nil
		case <-tick.C:
			f, err := p.srv.figures(p.ctx, false)
			if err != nil {
				return err
			}
			fmt.Fprintf(p.log, "   %v: %d acks, %d room deliveries, %d dropped; server: %d goroutines, heap %.1f MiB, RSS %.1f MiB, %d sockets\n",
				(p.loaded + time.Since(began)).Round(time.Second), p.e.acksReceived.Load(), p.e.deliveries.Load(), p.e.dropped.Load(),
				f.Goroutines, mib(int64(f.HeapInuse)), mib(f.RSS), f.Sockets)
		}
	}
}

// quiet waits for the acks in flight (30 s at most), then -settle, and
// reads the figures. The polling clients' idle keep-alive connections are
// closed first, so that the server holds only the connections the clients
// need: as many each time.
func (p *phases) quiet() (figures, error) {
	drainUntil := time.Now().Add(30 * time.Second)
	for !allIdle(p.clients) && time.Now().Before(drainUntil) {
		if err := sleep(p.ctx, 100*time.Millisecond); err != nil {
			return figures{}, err
		}
	}
	fmt.Fprintf(p.log, "== settling for %v\n", p.cfg.settle)
	p.tr.CloseIdleConnections()
	if err := sleep(p.ctx, p.cfg.settle); err != nil {
		return figures{}, err
	}
	return p.srv.figures(p.ctx, true)
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
