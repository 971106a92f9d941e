package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

type ackResult struct {
	common
	Clients         int     `json:"clients"`
	Payload         int     `json:"payload"`
	DurationSeconds float64 `json:"duration_seconds"`
	Acks            int64   `json:"acks"`
	AcksPerSec      float64 `json:"acks_per_sec"`
	P50             float64 `json:"p50_ms"`
	P90             float64 `json:"p90_ms"`
	P99             float64 `json:"p99_ms"`
	P999            float64 `json:"p999_ms"`
	Max             float64 `json:"max_ms"`
	Mean            float64 `json:"mean_ms"`
}

// ackRun is what the clients of one ack run share. The times are set
// before start closes.
type ackRun struct {
	start        chan struct{}
	measureStart time.Time
	end          time.Time
	stopped      atomic.Bool // a signal or the timeout: stop now
	closing      atomic.Bool
	hist         histogram
	errs         *errLog
}

type ackClient struct {
	c     *conn
	frame []byte
	id    int64
	sent  time.Time
	acks  int64 // measured
	want  []byte
	body  []byte
	done  bool // stopped by the end of the run, not by an error
}

func newAckClient(c *conn, payload []byte) *ackClient {
	want := append([]byte(`["`), payload...)
	want = append(want, `"]`...)
	return &ackClient{c: c, body: payload, want: want, frame: make([]byte, 0, 32+len(payload))}
}

func (cl *ackClient) send() error {
	cl.id++
	cl.frame = appendEcho(cl.frame[:0], cl.id, cl.body)
	cl.sent = time.Now()
	return cl.c.write(cl.frame)
}

// run keeps one echo in flight from start until the end of the run.
func (cl *ackClient) run(r *ackRun) {
	<-r.start
	if r.stopped.Load() {
		cl.done = true
		return
	}
	if err := cl.send(); err != nil {
		r.errs.add(fmt.Errorf("client %d: send: %w", cl.c.id, err))
		return
	}
	for {
		p, err := cl.c.next()
		if err != nil {
			if !r.closing.Load() {
				r.errs.add(fmt.Errorf("client %d: %w", cl.c.id, err))
			}
			return
		}
		if len(p) == 0 || p[0] != '3' {
			if len(p) > 0 && (p[0] == '1' || p[0] == '4') {
				r.errs.add(fmt.Errorf("client %d: server sent %q", cl.c.id, truncate(p)))
				return
			}
			continue
		}
		now := time.Now()
		id, args, ok := parseAckID(p[1:])
		if !ok || id != cl.id {
			r.errs.add(fmt.Errorf("client %d: ack %q, want id %d", cl.c.id, truncate(p), cl.id))
			continue
		}
		if !bytes.Equal(args, cl.want) {
			r.errs.add(fmt.Errorf("client %d: ack %q, want %s", cl.c.id, truncate(p), cl.want))
		}
		if now.After(r.end) || r.stopped.Load() {
			cl.done = true
			return
		}
		if !cl.sent.Before(r.measureStart) {
			r.hist.record(cl.c.id, int64(now.Sub(cl.sent)))
			cl.acks++
		}
		if err := cl.send(); err != nil {
			r.errs.add(fmt.Errorf("client %d: send: %w", cl.c.id, err))
			return
		}
	}
}

// runAck measures the echo round trip.
func runAck(ctx, stop context.Context, cfg *config, e *engine, errs *errLog, log *slog.Logger) result {
	res := &ackResult{Clients: cfg.clients, Payload: cfg.payload}
	payload := bytes.Repeat([]byte{'x'}, cfg.payload)
	r := &ackRun{start: make(chan struct{}), errs: errs}
	var (
		conns   = make([]*conn, cfg.clients)
		clients = make([]*ackClient, cfg.clients)
		wg      sync.WaitGroup
		p       pinger
	)
	pctx, pcancel := context.WithCancel(ctx)
	var pwg sync.WaitGroup
	pwg.Go(func() { p.run(pctx) })
	onConn := func(c *conn) {
		cl := newAckClient(c, payload)
		conns[c.id], clients[c.id] = c, cl
		p.add(c)
		wg.Go(func() { cl.run(r) })
	}
	cctx, ccancel := context.WithCancel(ctx)
	stopConnect := context.AfterFunc(stop, ccancel)
	log.Info("connecting", "clients", cfg.clients, "eio", cfg.eio)
	ok, _, _ := connectAll(cctx, e, cfg.clients, cfg.concurrency, 0, nil, errs, onConn)
	stopConnect()
	ccancel()

	finish := func() {
		r.stopped.Store(true)
		r.closing.Store(true)
		pcancel()
		pwg.Wait()
		closeAll(conns)
		wg.Wait()
	}
	if ok < int64(cfg.clients) {
		r.end = time.Now()
		close(r.start)
		finish()
		res.Error = fmt.Sprintf("%d of %d clients connected", ok, cfg.clients)
		return res
	}

	t0 := time.Now()
	r.measureStart = t0.Add(cfg.warmup)
	r.end = r.measureStart.Add(cfg.duration)
	var (
		stopMu sync.Mutex
		stopAt = r.end
	)
	stopRun := context.AfterFunc(stop, func() {
		stopMu.Lock()
		if now := time.Now(); now.Before(stopAt) {
			stopAt = now
		}
		stopMu.Unlock()
		r.stopped.Store(true)
	})
	defer stopRun()
	log.Info("running", "clients", cfg.clients, "warmup", cfg.warmup, "duration", cfg.duration)
	close(r.start)

	// Wait for every client to see its last ack, and a little more for
	// late ones.
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	grace := time.NewTimer(time.Until(r.end) + 5*time.Second)
	select {
	case <-allDone:
	case <-grace.C:
	case <-ctx.Done():
		stopMu.Lock()
		if now := time.Now(); now.Before(stopAt) {
			stopAt = now
		}
		stopMu.Unlock()
	}
	grace.Stop()
	finish()
	<-allDone

	var stuck int
	for _, cl := range clients {
		res.Acks += cl.acks
		if !cl.done {
			stuck++
		}
	}
	if stuck > 0 && ctx.Err() == nil {
		errs.add(fmt.Errorf("%d clients ended early or got no last ack", stuck))
	}
	stopMu.Lock()
	elapsed := stopAt.Sub(r.measureStart)
	stopMu.Unlock()
	if stop.Err() != nil {
		res.Error = "interrupted"
	}
	res.DurationSeconds = round3(max(elapsed, 0).Seconds())
	if elapsed > 0 {
		res.AcksPerSec = round1(float64(res.Acks) / elapsed.Seconds())
	}
	s := r.hist.summary()
	res.P50, res.P90, res.P99, res.P999, res.Max, res.Mean = s.P50, s.P90, s.P99, s.P999, s.Max, s.Mean
	log.Info("done", "acks", res.Acks, "acks_per_sec", res.AcksPerSec, "p50_ms", res.P50, "p99_ms", res.P99)
	return res
}
