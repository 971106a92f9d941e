package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

type broadcastResult struct {
	common
	Receivers            int     `json:"receivers"`
	Window               int     `json:"window"`
	DurationSeconds      float64 `json:"duration_seconds"`
	BroadcastsSent       int64   `json:"broadcasts_sent"`
	BroadcastsCompleted  int64   `json:"broadcasts_completed"`
	BroadcastsIncomplete int64   `json:"broadcasts_incomplete"`
	Deliveries           int64   `json:"deliveries"`
	DeliveriesPerSec     float64 `json:"deliveries_per_sec"`
	P50                  float64 `json:"p50_ms"`
	P90                  float64 `json:"p90_ms"`
	P99                  float64 `json:"p99_ms"`
	P999                 float64 `json:"p999_ms"`
	Max                  float64 `json:"max_ms"`
	Mean                 float64 `json:"mean_ms"`
	ReceiversMissing     int     `json:"receivers_missing"`
	MissedDeliveries     int64   `json:"missed_deliveries"`
	MissingSample        []int   `json:"missing_sample,omitempty"` // receiver numbers, the first few
	SenderAcks           int64   `json:"sender_acks"`
}

// ringSize bounds -window: completions are counted in a ring of slots,
// one per broadcast in flight.
const ringSize = 1 << 12

type bcastSlot struct {
	seq atomic.Int64
	n   atomic.Int64
	_   [48]byte
}

// bcastRun is what the receivers of one broadcast run share.
type bcastRun struct {
	receivers   int64
	ring        [ringSize]bcastSlot
	done        chan int64   // broadcasts every receiver got
	measureFrom atomic.Int64 // first measured seq
	hist        histogram
	closing     atomic.Bool
	errs        *errLog
}

// receiver's fields belong to its reader until the reading ends.
type receiver struct {
	r          *bcastRun
	c          *conn
	last       int64 // last seq received
	missed     int64 // seqs skipped
	deliveries int64 // measured deliveries
}

// onPacket counts a bcast delivery and its latency.
func (rc *receiver) onPacket(p []byte) bool {
	r := rc.r
	if !bytes.HasPrefix(p, bcastPrefix) {
		if len(p) > 0 && (p[0] == '1' || p[0] == '4') {
			r.errs.add(fmt.Errorf("receiver %d: server sent %q", rc.c.id, truncate(p)))
			return false
		}
		return true
	}
	now := time.Now().UnixNano()
	t, seq, ok := parseBcast(p[len(bcastPrefix):])
	if !ok {
		r.errs.add(fmt.Errorf("receiver %d: bad bcast %q", rc.c.id, truncate(p)))
		return true
	}
	if seq <= rc.last {
		r.errs.add(fmt.Errorf("receiver %d: bcast %d after %d", rc.c.id, seq, rc.last))
		return true
	}
	rc.missed += seq - rc.last - 1
	rc.last = seq
	if seq >= r.measureFrom.Load() {
		r.hist.record(rc.c.id, now-t)
		rc.deliveries++
	}
	s := &r.ring[seq&(ringSize-1)]
	if s.seq.Load() == seq && s.n.Add(1) == r.receivers {
		select {
		case r.done <- seq:
		default:
		}
	}
	return true
}

// runBroadcast measures the fan-out of one sender's broadcasts.
func runBroadcast(ctx, stop context.Context, cfg *config, e *engine, errs *errLog, log *slog.Logger) result {
	res := &broadcastResult{Receivers: cfg.receivers, Window: min(cfg.window, ringSize/2)}
	r := &bcastRun{receivers: int64(cfg.receivers), done: make(chan int64, ringSize), errs: errs}
	var (
		conns     = make([]*conn, cfg.receivers+1) // the sender is the last one
		receivers = make([]*receiver, cfg.receivers)
		p         pinger
		acks      atomic.Int64
	)
	onErr := func(c *conn, err error) {
		if !r.closing.Load() {
			who := fmt.Sprintf("receiver %d", c.id)
			if c.id == cfg.receivers {
				who = "sender"
			}
			errs.add(fmt.Errorf("%s: %w", who, err))
		}
	}
	reader := newReadEngine(cfg.engine, onErr, log)
	senderReader := &goEngine{onErr: onErr}
	pctx, pcancel := context.WithCancel(ctx)
	var pwg sync.WaitGroup
	pwg.Go(func() { p.run(pctx) })
	finish := func() {
		r.closing.Store(true)
		pcancel()
		pwg.Wait()
		reader.stop()
		closeAll(conns)
		reader.wait()
		senderReader.wait()
	}

	cctx, ccancel := context.WithCancel(ctx)
	stopConnect := context.AfterFunc(stop, ccancel)
	log.Info("connecting", "receivers", cfg.receivers, "eio", cfg.eio, "engine", fmt.Sprintf("%T", reader))
	ok, _, _ := connectAll(cctx, e, cfg.receivers, cfg.concurrency, 0, nil, errs, reader.keep(), func(c *conn) {
		conns[c.id] = c
	})
	var sender *conn
	if ok == int64(cfg.receivers) {
		var err error
		sender, err = e.dial(cctx, cfg.receivers, false)
		if err != nil {
			errs.add(fmt.Errorf("sender: %w", err))
		}
	}
	stopConnect()
	ccancel()
	if sender == nil {
		finish()
		res.Error = fmt.Sprintf("%d of %d receivers and no sender connected", ok, cfg.receivers)
		return res
	}
	conns[cfg.receivers] = sender
	for i, c := range conns[:cfg.receivers] {
		receivers[i] = &receiver{r: r, c: c}
		if err := reader.add(c, receivers[i].onPacket); err != nil {
			finish()
			res.Error = err.Error()
			return res
		}
		p.add(c)
	}
	reader.start()
	p.add(sender)
	senderReader.add(sender, func(pk []byte) bool {
		switch {
		case len(pk) > 0 && pk[0] == '3':
			acks.Add(1)
		case len(pk) > 0 && (pk[0] == '1' || pk[0] == '4'):
			errs.add(fmt.Errorf("sender: server sent %q", truncate(pk)))
			return false
		}
		return true
	})

	type pending struct {
		seq int64
		at  time.Time
	}
	var (
		out          = make([]pending, 0, res.Window)
		seq          int64
		frame        = make([]byte, 0, 96)
		timer        = time.NewTimer(time.Hour)
		start        = time.Now()
		warmEnd      = start.Add(cfg.warmup)
		end          = warmEnd.Add(cfg.duration)
		measureStart = start
		measuring    = cfg.warmup == 0
		sendErr      error
	)
	timer.Stop()
	if measuring {
		r.measureFrom.Store(1)
	} else {
		r.measureFrom.Store(math.MaxInt64)
	}
	// wait takes one completion or gives up on the oldest broadcast; false
	// when the run must stop.
	wait := func() bool {
		timer.Reset(time.Until(out[0].at.Add(cfg.bcastTimeout)))
		select {
		case s := <-r.done:
			if i := slices.IndexFunc(out, func(p pending) bool { return p.seq == s }); i >= 0 {
				out = slices.Delete(out, i, i+1)
				res.BroadcastsCompleted++
			}
		case <-timer.C:
			res.BroadcastsIncomplete++
			errs.add(fmt.Errorf("bcast %d: not every receiver got it within %s", out[0].seq, cfg.bcastTimeout))
			out = slices.Delete(out, 0, 1)
		case <-ctx.Done():
			return false
		case <-stop.Done():
			return false
		}
		return true
	}
	log.Info("running", "receivers", cfg.receivers, "window", res.Window, "warmup", cfg.warmup, "duration", cfg.duration)
	for {
		now := time.Now()
		if !measuring && !now.Before(warmEnd) {
			measuring, measureStart = true, now
			r.measureFrom.Store(seq + 1)
		}
		if !now.Before(end) || ctx.Err() != nil || stop.Err() != nil {
			break
		}
		if len(out) < res.Window {
			seq++
			s := &r.ring[seq&(ringSize-1)]
			s.n.Store(0)
			s.seq.Store(seq)
			frame = appendBcast(frame[:0], seq, time.Now().UnixNano())
			if sendErr = sender.write(frame); sendErr != nil {
				errs.add(fmt.Errorf("sender: %w", sendErr))
				break
			}
			out = append(out, pending{seq, now})
			continue
		}
		if !wait() {
			break
		}
	}
	for len(out) > 0 && sendErr == nil && wait() {
	}
	endAt := time.Now()
	timer.Stop()
	// A server that acks the sender does so after the broadcast: give the
	// last acks a moment.
	for acked := time.Now().Add(time.Second); acks.Load() > 0 && acks.Load() < seq && time.Now().Before(acked) && ctx.Err() == nil; {
		time.Sleep(time.Millisecond)
	}
	finish()

	res.BroadcastsSent = seq
	res.SenderAcks = acks.Load()
	for i, rc := range receivers {
		res.Deliveries += rc.deliveries
		if missed := rc.missed + seq - rc.last; missed > 0 {
			res.MissedDeliveries += missed
			res.ReceiversMissing++
			if len(res.MissingSample) < 20 {
				res.MissingSample = append(res.MissingSample, i)
			}
		}
	}
	elapsed := endAt.Sub(measureStart)
	if !measuring {
		elapsed = 0
	}
	res.DurationSeconds = round3(elapsed.Seconds())
	if elapsed > 0 {
		res.DeliveriesPerSec = round1(float64(res.Deliveries) / elapsed.Seconds())
	}
	s := r.hist.summary()
	res.P50, res.P90, res.P99, res.P999, res.Max, res.Mean = s.P50, s.P90, s.P99, s.P999, s.Max, s.Mean
	switch {
	case sendErr != nil:
		res.Error = "sender failed: " + sendErr.Error()
	case stop.Err() != nil:
		res.Error = "interrupted"
	}
	log.Info("done", "broadcasts", res.BroadcastsCompleted, "deliveries_per_sec", res.DeliveriesPerSec,
		"p50_ms", res.P50, "p99_ms", res.P99, "receivers_missing", res.ReceiversMissing)
	return res
}
