package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type connectResult struct {
	common
	N              int     `json:"n"`
	Concurrency    int     `json:"concurrency"`
	Rate           float64 `json:"rate,omitempty"`
	SourceIPs      int     `json:"source_ips,omitempty"`
	Connected      int64   `json:"connected"`
	Failed         int64   `json:"failed"`
	ConnectSeconds float64 `json:"connect_seconds"`
	ConnsPerSec    float64 `json:"conns_per_sec"`
	ConnectP50     float64 `json:"connect_p50_ms"`
	ConnectP99     float64 `json:"connect_p99_ms"`
	HoldSeconds    float64 `json:"hold_seconds"`
	Dropped        int64   `json:"dropped"`
}

// runConnect opens the connections, holds them idle and closes them.
func runConnect(ctx, stop context.Context, cfg *config, e *engine, errs *errLog, log *slog.Logger) result {
	res := &connectResult{N: cfg.n, Concurrency: cfg.concurrency, Rate: cfg.rate, SourceIPs: len(cfg.sourceIPs)}
	var (
		conns   = make([]*conn, cfg.n)
		closing atomic.Bool
		dropped atomic.Int64
		p       pinger
		lat     histogram
	)
	readers := newReadEngine(cfg.engine, func(c *conn, err error) {
		if !closing.Load() {
			dropped.Add(1)
			errs.add(fmt.Errorf("connection %d dropped: %w", c.id, err))
		}
	}, log)
	readers.start()
	pctx, pcancel := context.WithCancel(ctx)
	var pwg sync.WaitGroup
	pwg.Go(func() { p.run(pctx) })
	// Connecting stops at a signal too.
	cctx, ccancel := context.WithCancel(ctx)
	stopConnect := context.AfterFunc(stop, ccancel)

	onConn := func(c *conn) {
		conns[c.id] = c
		p.add(c)
		if err := readers.add(c, nil); err != nil {
			dropped.Add(1)
			errs.add(err)
		}
	}
	log.Info("connecting", "n", cfg.n, "eio", cfg.eio, "concurrency", cfg.concurrency, "rate", cfg.rate)
	ok, failed, elapsed := connectAll(cctx, e, cfg.n, cfg.concurrency, cfg.rate, &lat, errs, readers.keep(), onConn)
	stopConnect()
	ccancel()
	res.Connected, res.Failed = ok, failed
	res.ConnectSeconds = round3(elapsed.Seconds())
	if elapsed > 0 {
		res.ConnsPerSec = round1(float64(ok) / elapsed.Seconds())
	}
	s := lat.summary()
	res.ConnectP50, res.ConnectP99 = s.P50, s.P99
	log.Info("ready", "connected", ok, "failed", failed, "seconds", res.ConnectSeconds, "conns_per_sec", res.ConnsPerSec)

	if ctx.Err() == nil && stop.Err() == nil {
		if cfg.readyFile != "" {
			if err := os.WriteFile(cfg.readyFile, fmt.Appendf(nil, "%d\n", ok), 0o644); err != nil {
				errs.add(fmt.Errorf("-ready-file: %w", err))
			}
		}
		holdStart := time.Now()
		if cfg.hold > 0 {
			t := time.NewTimer(cfg.hold)
			select {
			case <-t.C:
			case <-stop.Done():
			case <-ctx.Done():
			}
			t.Stop()
		}
		res.HoldSeconds = round3(time.Since(holdStart).Seconds())
	} else if stop.Err() != nil {
		res.Error = "interrupted while connecting"
	}

	closing.Store(true)
	pcancel()
	pwg.Wait()
	readers.stop()
	closeAll(conns)
	readers.wait()
	res.Dropped = dropped.Load()
	return res
}
