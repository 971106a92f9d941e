package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
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
	url            string
	path           string
	scenario       string
	eio            eioMode
	sourceIPs      []net.IP
	timeout        time.Duration
	connectTimeout time.Duration
	concurrency    int
	engine         string

	// connect
	n         int
	rate      float64
	hold      time.Duration
	readyFile string

	// ack and broadcast
	duration time.Duration
	warmup   time.Duration

	// ack
	clients int
	payload int

	// broadcast
	receivers    int
	window       int
	bcastTimeout time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	var (
		cfg       config
		eio       string
		sourceIPs string
	)
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.url, "url", "", "server base URL, http://HOST:PORT (required)")
	fs.StringVar(&cfg.path, "path", "/socket.io/", "socket.io path, used when -url has none")
	fs.StringVar(&cfg.scenario, "scenario", "", "connect, ack or broadcast (required)")
	fs.StringVar(&eio, "eio", "4", "Engine.IO revision: 4 (socket.io v5), 3 (socket.io v4) or mixed")
	fs.StringVar(&sourceIPs, "source-ips", "", "comma-separated local source addresses to spread connections over")
	fs.DurationVar(&cfg.timeout, "timeout", 2*time.Minute, "bound on the whole run; past it, print what there is and exit 1")
	fs.DurationVar(&cfg.connectTimeout, "connect-timeout", 10*time.Second, "bound on one connection's handshake")
	fs.IntVar(&cfg.concurrency, "concurrency", 200, "handshakes in flight at most")
	fs.StringVar(&cfg.engine, "engine", "epoll", "how to read: epoll (one goroutine for all, on the raw sockets; Linux) or goroutine (one per connection, through gorilla/websocket)")
	fs.IntVar(&cfg.n, "n", 10000, "connect: connections to open")
	fs.Float64Var(&cfg.rate, "rate", 0, "connect: new connections per second at most (0: as fast as possible)")
	fs.DurationVar(&cfg.hold, "hold", 0, "connect: how long to keep the connections open and idle (SIGTERM ends it)")
	fs.StringVar(&cfg.readyFile, "ready-file", "", "connect: file written when every connection is done, before the hold")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "ack, broadcast: measured time")
	fs.DurationVar(&cfg.warmup, "warmup", 0, "ack, broadcast: unmeasured run before -duration")
	fs.IntVar(&cfg.clients, "clients", 100, "ack: clients, each with one echo in flight")
	fs.IntVar(&cfg.payload, "payload", 16, "ack: bytes of the echoed string")
	fs.IntVar(&cfg.receivers, "receivers", 1000, "broadcast: receiving clients")
	fs.IntVar(&cfg.window, "window", 1, "broadcast: broadcasts not yet received by everybody, at most")
	fs.DurationVar(&cfg.bcastTimeout, "bcast-timeout", 5*time.Second, "broadcast: when to give up on a broadcast some receiver did not get")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.engine != "epoll" && cfg.engine != "goroutine" {
		return nil, fmt.Errorf("-engine %q: want epoll or goroutine", cfg.engine)
	}
	cfg.eio = eioMode(eio)
	if cfg.eio != eio3 && cfg.eio != eio4 && cfg.eio != eioMixed {
		return nil, fmt.Errorf("-eio %q: want 4, 3 or mixed", eio)
	}
	if sourceIPs != "" {
		for s := range strings.SplitSeq(sourceIPs, ",") {
			ip := net.ParseIP(strings.TrimSpace(s))
			if ip == nil {
				return nil, fmt.Errorf("-source-ips: bad address %q", s)
			}
			cfg.sourceIPs = append(cfg.sourceIPs, ip)
		}
	}
	positive := []struct {
		name string
		v    int64
	}{
		{"timeout", int64(cfg.timeout)}, {"connect-timeout", int64(cfg.connectTimeout)},
		{"concurrency", int64(cfg.concurrency)},
	}
	switch cfg.scenario {
	case "connect":
		positive = append(positive, struct {
			name string
			v    int64
		}{"n", int64(cfg.n)})
	case "ack":
		positive = append(positive, []struct {
			name string
			v    int64
		}{{"clients", int64(cfg.clients)}, {"duration", int64(cfg.duration)}}...)
	case "broadcast":
		positive = append(positive, []struct {
			name string
			v    int64
		}{{"receivers", int64(cfg.receivers)}, {"duration", int64(cfg.duration)},
			{"window", int64(cfg.window)}, {"bcast-timeout", int64(cfg.bcastTimeout)}}...)
	case "":
		return nil, errors.New("-scenario is required")
	default:
		return nil, fmt.Errorf("-scenario %q: want connect, ack or broadcast", cfg.scenario)
	}
	for _, p := range positive {
		if p.v <= 0 {
			return nil, fmt.Errorf("-%s must be positive", p.name)
		}
	}
	if cfg.url == "" {
		return nil, errors.New("-url is required")
	}
	if cfg.payload < 0 || cfg.rate < 0 || cfg.hold < 0 || cfg.warmup < 0 {
		return nil, errors.New("-payload, -rate, -hold and -warmup must not be negative")
	}
	return &cfg, nil
}

// common holds the fields of every scenario's output.
type common struct {
	Scenario     string   `json:"scenario"`
	EIO          eioMode  `json:"eio"`
	Errors       int64    `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	TimedOut     bool     `json:"timed_out,omitempty"`
	Interrupted  bool     `json:"interrupted,omitempty"`
	Error        string   `json:"error,omitempty"`
}

func (c *common) base() *common { return c }

// result is a scenario's JSON output.
type result interface{ base() *common }

// run runs the command line args and returns the exit status. stop ends
// the run early (SIGINT, SIGTERM).
func run(stop context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "loadgen:", err)
		}
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()

	resc := make(chan result, 1)
	go func() { resc <- runScenario(ctx, stop, cfg, log) }()
	var res result
	select {
	case res = <-resc:
	case <-time.After(cfg.timeout + 15*time.Second):
		res = &common{Scenario: cfg.scenario, EIO: cfg.eio, TimedOut: true,
			Error: "loadgen: the scenario did not stop after the timeout"}
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	if c := res.base(); c.TimedOut || c.Error != "" {
		return 1
	}
	return 0
}

func runScenario(ctx, stop context.Context, cfg *config, log *slog.Logger) result {
	errs := &errLog{log: log}
	var res result
	if cfg.engine == "epoll" && (strings.HasPrefix(cfg.url, "https:") || strings.HasPrefix(cfg.url, "wss:")) {
		log.Warn("the epoll engine speaks no TLS; using the goroutine engine")
		cfg.engine = "goroutine"
	}
	e, err := newEngine(cfg.url, cfg.path, cfg.eio, cfg.sourceIPs, cfg.connectTimeout, cfg.scenario == "connect")
	if err != nil {
		res = &common{Error: err.Error()}
	} else {
		switch cfg.scenario {
		case "connect":
			res = runConnect(ctx, stop, cfg, e, errs, log)
		case "ack":
			res = runAck(ctx, stop, cfg, e, errs, log)
		case "broadcast":
			res = runBroadcast(ctx, stop, cfg, e, errs, log)
		}
	}
	c := res.base()
	c.Scenario, c.EIO = cfg.scenario, cfg.eio
	c.Errors, c.ErrorSamples = errs.n.Load(), errs.list()
	if ctx.Err() != nil {
		c.TimedOut = true
		if c.Error == "" {
			c.Error = fmt.Sprintf("timed out after %s", cfg.timeout)
		}
	}
	if stop.Err() != nil {
		c.Interrupted = true
	}
	return res
}

// errLog counts errors and keeps the first few.
type errLog struct {
	log     *slog.Logger
	n       atomic.Int64
	mu      sync.Mutex
	samples []string
}

const maxErrorSamples = 5

func (e *errLog) add(err error) {
	n := e.n.Add(1)
	if n > maxErrorSamples {
		if n == maxErrorSamples+1 {
			e.log.Warn("more errors; counting without logging them")
		}
		return
	}
	e.log.Warn("error", "err", err)
	e.mu.Lock()
	e.samples = append(e.samples, err.Error())
	e.mu.Unlock()
}

func (e *errLog) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.samples...)
}

// connectAll opens n connections, at most conc handshakes in flight and,
// when rate > 0, at most rate new ones per second; keep is dial's. onConn
// runs for every connection as it is ready, in the dialing goroutine;
// failures go to errs. It returns when every connection is done or ctx
// ends.
func connectAll(ctx context.Context, e *engine, n, conc int, rate float64, lat *histogram, errs *errLog,
	keep bool, onConn func(*conn)) (ok, failed int64, elapsed time.Duration) {
	var (
		next          atomic.Int64
		okN, failN    atomic.Int64
		wg            sync.WaitGroup
		start         = time.Now()
		lastMu        sync.Mutex
		lastCompleted = start
	)
	for range min(conc, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if rate > 0 {
					at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					if d := time.Until(at); d > 0 {
						t := time.NewTimer(d)
						select {
						case <-ctx.Done():
							t.Stop()
							return
						case <-t.C:
						}
					}
				}
				t0 := time.Now()
				c, err := e.dial(ctx, i, keep)
				done := time.Now()
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					failN.Add(1)
					errs.add(fmt.Errorf("connect %d: %w", i, err))
					continue
				}
				if lat != nil {
					lat.record(i, int64(done.Sub(t0)))
				}
				okN.Add(1)
				lastMu.Lock()
				if done.After(lastCompleted) {
					lastCompleted = done
				}
				lastMu.Unlock()
				onConn(c)
			}
		})
	}
	wg.Wait()
	return okN.Load(), failN.Load(), lastCompleted.Sub(start)
}
