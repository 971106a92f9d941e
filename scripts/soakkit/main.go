// Command soakkit is scripts/soak: it runs the server (compat/fixture
// -profile soak, with socket.io 0.9 on) as its own process on loopback,
// connects mixed clients of every generation, lets them join and leave
// rooms, emit with acks and receive room broadcasts for a while, and
// compares the server's own figures (goroutines, heap in use, RSS, sockets)
// at the start and at the end of the load.
//
//	scripts/soak                          # 5000 clients, 10 minutes
//	scripts/soak -clients 500 -duration 1m
//
// The clients speak the raw wire protocols: per 20 clients, 7 Engine.IO 4
// and 7 Engine.IO 3 over WebSocket, 2 Engine.IO 4 and 1 Engine.IO 3 over
// long-polling, 2 socket.io 0.9 over WebSocket and 1 over xhr-polling.
// Each takes one action at a time, about every -interval: emit "work" and
// wait for its ack, join a room, leave one, or say something to a room it
// is in (the server broadcasts it to the room, the sender included).
//
// The phases: figures with no client; connect every client; wait -settle;
// "start" figures; a warm-up load (a fifth of -duration, 2 minutes at
// most); quiet again (the acks in flight, then -settle) and "warm-up"
// figures; the rest of the load; quiet again and "end" figures; close
// every client; "clients gone" figures once the server has no socket
// left; stop the server with SIGTERM. Figures are read after forced
// garbage collections that hand freed memory back to the OS, so that the
// heap and RSS are what the server needs.
//
// It exits 1 when any of these fails: every client connects and none is
// dropped; every ack arrives; every "say" comes back to its sender; at the
// end, goroutines and the live heap are within -tolerance of the start,
// heap in use and RSS within -tolerance of the warm-up's end (a server
// that has served load keeps some memory it did not need before: spans
// left fragmented, grown stacks), each plus a fixed slack of 50 goroutines
// or 16 MiB; once the clients are gone the server has no socket left and
// at most 50 goroutines more than before they came. Everything runs on
// loopback and stops by itself (-timeout).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	stop, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(stop, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

// config is the command line.
type config struct {
	clients   int
	duration  time.Duration
	settle    time.Duration
	interval  time.Duration
	rooms     int
	tolerance float64
	fixture   string
	timeout   time.Duration
	progress  time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	var cfg config
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.clients, "clients", 5000, "clients to connect")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Minute, "how long the load runs")
	fs.DurationVar(&cfg.settle, "settle", 10*time.Second, "quiet time before the start and the end figures")
	fs.DurationVar(&cfg.interval, "interval", 2*time.Second, "mean pause of a client between two actions")
	fs.IntVar(&cfg.rooms, "rooms", 100, "rooms the clients join and leave")
	fs.Float64Var(&cfg.tolerance, "tolerance", 0.10, "growth allowed from start to end, as a fraction, plus a fixed slack")
	fs.StringVar(&cfg.fixture, "fixture", "", "a built compat/fixture binary (default: build one)")
	fs.DurationVar(&cfg.timeout, "timeout", 0, "bound on the whole run (0: -duration plus 10 minutes)")
	fs.DurationVar(&cfg.progress, "progress", 30*time.Second, "how often to log progress during the load")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case cfg.clients < 1:
		return nil, errors.New("-clients must be at least 1")
	case cfg.duration <= 0 || cfg.settle < 0 || cfg.interval <= 0 || cfg.progress <= 0:
		return nil, errors.New("-duration, -interval and -progress must be positive, -settle not negative")
	case cfg.rooms < 1:
		return nil, errors.New("-rooms must be at least 1")
	case cfg.tolerance < 0:
		return nil, errors.New("-tolerance must not be negative")
	}
	if cfg.timeout <= 0 {
		cfg.timeout = cfg.duration + 10*time.Minute
	}
	return &cfg, nil
}

// run is the command with its arguments; it returns the exit status.
func run(stop context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "soak:", err)
		}
		return 2
	}
	ctx, cancel := context.WithTimeout(stop, cfg.timeout)
	defer cancel()
	// The server's log goes to stderr too, from another goroutine.
	log := &lockedWriter{w: stderr}
	rep, err := soak(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(log, "soak:", err)
		return 1
	}
	rep.print(stdout)
	if len(rep.failures) > 0 {
		return 1
	}
	return 0
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
