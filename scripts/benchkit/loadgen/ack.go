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
// before the first echo.
type ackRun struct {
	measureStart time.Time
	end          time.Time
	stopped      atomic.Bool // a signal or the timeout: stop now
	closing      atomic.Bool
	hist         histogram
	errs         *errLog
	running      atomic.Int64  // clients not finished
	allDone      chan struct{} // closed when running reaches 0
}

// ackClient keeps one echo in flight. Its packets come from the read
// engine; the first echo from the scenario's goroutine, hence mu.
type ackClient struct {
	r    *ackRun
	c    *conn
	body []byte
	want []byte

	mu       sync.Mutex
	frame    []byte
	id       int64
	sent     time.Time
	acks     int64 // measured
	done     bool  // reached the end of the run
	finished bool  // done, or failed
}

func newAckClient(r *ackRun, c *conn, payload []byte) *ackClient {
	want := append([]byte(`["`), payload...)
	want = append(want, `"]`...)
	return &ackClient{r: r, c: c, body: payload, want: want, frame: make([]byte, 0, 32+len(payload))}
}

// sendLocked sends the next echo; mu is held.
func (cl *ackClient) sendLocked() error {
	cl.id++
	cl.frame = appendEcho(cl.frame[:0], cl.id, cl.body)
	cl.sent = time.Now()
	return cl.c.write(cl.frame)
}

// finishLocked counts the client out of the run, once; mu is held.
func (cl *ackClient) finishLocked(done bool) {
	if cl.finished {
		return
	}
	cl.finished, cl.done = true, done
	if cl.r.running.Add(-1) == 0 {
		close(cl.r.allDone)
	}
}

// first sends the first echo.
func (cl *ackClient) first() {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.finished {
		return
	}
	if cl.r.stopped.Load() {
		cl.finishLocked(true)
		return
	}
	if err := cl.sendLocked(); err != nil {
		cl.r.errs.add(fmt.Errorf("client %d: send: %w", cl.c.id, err))
		cl.finishLocked(false)
	}
}

// fail ends the client after a read error.
func (cl *ackClient) fail(err error) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !cl.finished && !cl.r.closing.Load() {
		cl.r.errs.add(fmt.Errorf("client %d: %w", cl.c.id, err))
	}
	cl.finishLocked(false)
}

// onPacket takes an ack, records it and sends the next echo until the end
// of the run.
func (cl *ackClient) onPacket(p []byte) bool {
	r := cl.r
	if len(p) == 0 || p[0] != '3' {
		if len(p) > 0 && (p[0] == '1' || p[0] == '4') {
			cl.fail(fmt.Errorf("server sent %q", truncate(p)))
			return false
		}
		return true
	}
	now := time.Now()
	id, args, ok := parseAckID(p[1:])
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.finished {
		return false
	}
	if !ok || id != cl.id {
		r.errs.add(fmt.Errorf("client %d: ack %q, want id %d", cl.c.id, truncate(p), cl.id))
		return true
	}
	if !bytes.Equal(args, cl.want) {
		r.errs.add(fmt.Errorf("client %d: ack %q, want %s", cl.c.id, truncate(p), cl.want))
	}
	if now.After(r.end) || r.stopped.Load() {
		cl.finishLocked(true)
		return false
	}
	if !cl.sent.Before(r.measureStart) {
		r.hist.record(cl.c.id, int64(now.Sub(cl.sent)))
		cl.acks++
	}
	if err := cl.sendLocked(); err != nil {
		r.errs.add(fmt.Errorf("client %d: send: %w", cl.c.id, err))
		cl.finishLocked(false)
		return false
	}
	return true
}

// runAck measures the echo round trip.
func runAck(ctx, stop context.Context, cfg *config, e *engine, errs *errLog, log *slog.Logger) result {
	res := &ackResult{Clients: cfg.clients, Payload: cfg.payload}
	payload := bytes.Repeat([]byte{'x'}, cfg.payload)
	r := &ackRun{errs: errs, allDone: make(chan struct{})}
	r.running.Store(int64(cfg.clients))
	var (
		conns   = make([]*conn, cfg.clients)
		clients = make([]*ackClient, cfg.clients)
		p       pinger
	)
	reader := newReadEngine(cfg.engine, func(c *conn, err error) { clients[c.id].fail(err) }, log)
	pctx, pcancel := context.WithCancel(ctx)
	var pwg sync.WaitGroup
	pwg.Go(func() { p.run(pctx) })
	cctx, ccancel := context.WithCancel(ctx)
	stopConnect := context.AfterFunc(stop, ccancel)
	log.Info("connecting", "clients", cfg.clients, "eio", cfg.eio, "engine", fmt.Sprintf("%T", reader))
	ok, _, _ := connectAll(cctx, e, cfg.clients, cfg.concurrency, 0, nil, errs, reader.keep(), func(c *conn) {
		conns[c.id] = c
	})
	stopConnect()
	ccancel()

	finish := func() {
		r.stopped.Store(true)
		r.closing.Store(true)
		pcancel()
		pwg.Wait()
		reader.stop()
		closeAll(conns)
		reader.wait()
	}
	if ok < int64(cfg.clients) {
		finish()
		res.Error = fmt.Sprintf("%d of %d clients connected", ok, cfg.clients)
		return res
	}
	for i, c := range conns {
		clients[i] = newAckClient(r, c, payload)
		if err := reader.add(c, clients[i].onPacket); err != nil {
			finish()
			res.Error = err.Error()
			return res
		}
		p.add(c)
	}
	reader.start()

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
	for _, cl := range clients {
		cl.first()
	}

	// Wait for every client to see its last ack, and a little more for
	// late ones.
	grace := time.NewTimer(time.Until(r.end) + 5*time.Second)
	select {
	case <-r.allDone:
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

	var stuck int
	for _, cl := range clients {
		cl.mu.Lock()
		res.Acks += cl.acks
		if !cl.done {
			stuck++
		}
		cl.mu.Unlock()
	}
	if stuck > 0 && ctx.Err() == nil {
		errs.add(fmt.Errorf("%d clients failed or got no last ack", stuck))
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
