// Command scaling-with-redis ports express.io's
// examples/scaling-with-redis: several server processes share their
// broadcasts and rooms through Redis. The original forked one cluster
// worker per CPU, each giving socket.io 0.9 a RedisStore; here each worker
// puts its socket.io namespaces on Redis with expressio/redisadapter,
// which speaks the protocol of Node's @socket.io/redis-adapter, so Node
// socket.io 4 servers can join the same cluster.
//
// The original left the app itself empty ("build realtime-web app"); this
// one adds what shows the cluster working: each page emits "ready", and
// every page on every worker hears about the "new visitor" and the
// worker that took it.
//
//	redis-server &                                         # or an existing one
//	go run ./examples/scaling-with-redis                   # one worker per CPU on 7076, 7077, ...
//	go run ./examples/scaling-with-redis -workers 2 -redis HOST:PORT
//
// Node's cluster module lets workers share one port; Go processes do not,
// so worker i listens on the port of -addr plus i. Put a load balancer
// with sticky sessions in front of them (see the README's "Scaling out")
// for polling clients; websocket-only clients need none. It exits with
// an error when Redis does not answer at start.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/expressio-go/expressio/examples/internal/run"
	"github.com/expressio-go/expressio/expressio"
	"github.com/expressio-go/expressio/expressio/redisadapter"
)

//go:embed index.html
var page string

// workerEnv tells a process it is a worker, and which.
const workerEnv = "EXPRESSIO_EXAMPLE_WORKER"

func main() {
	if n := os.Getenv(workerEnv); n != "" {
		worker(n)
		return
	}
	if err := master(); err != nil {
		fmt.Fprintln(os.Stderr, "scaling-with-redis:", err)
		os.Exit(1)
	}
}

// worker is one server of the cluster: the original's workers().
func worker(name string) {
	app := expressio.New().HTTP()

	// express.io apps serve socket.io 0.9 and its client.
	if err := app.IO.Enable("legacy"); err != nil {
		fail(err)
	}

	// Setup the redis adapter for scalable io.
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR")})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	adapter, err := redisadapter.New(ctx, rdb, nil)
	cancel()
	if err != nil {
		fail(err)
	}
	if err := app.IO.SetAdapter(adapter); err != nil {
		fail(err)
	}

	// build realtime-web app
	app.IO.Route("ready", func(req *expressio.SocketRequest) {
		req.IO.Respond(name)
		app.IO.Broadcast("new visitor", map[string]string{"worker": name})
	})
	app.GET("/", run.Page(page))

	run.Main(app)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "scaling-with-redis worker:", err)
	os.Exit(1)
}

// master starts the workers, each on its own port, and stops them on
// SIGINT or SIGTERM: the original's cluster.fork() per CPU.
func master() error {
	def := "127.0.0.1:" + run.DefaultPort
	if port := os.Getenv("PORT"); port != "" {
		def = "127.0.0.1:" + port
	}
	redisDef := os.Getenv("REDIS_ADDR")
	if redisDef == "" {
		redisDef = "127.0.0.1:6379"
	}
	addr := flag.String("addr", def, "address of the first worker, HOST:PORT; worker i listens on PORT+i")
	workers := flag.Int("workers", runtime.NumCPU(), "number of worker processes")
	redisAddr := flag.String("redis", redisDef, "Redis address, HOST:PORT (default from REDIS_ADDR)")
	flag.Parse()

	host, portText, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || *workers < 1 {
		return fmt.Errorf("-addr needs a numeric port and -workers at least 1")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	var wg sync.WaitGroup
	procs := make([]*exec.Cmd, 0, *workers)
	errc := make(chan error, *workers)
	for i := range *workers {
		cmd := exec.Command(self, "-addr", net.JoinHostPort(host, strconv.Itoa(port+i)))
		cmd.Env = append(os.Environ(), workerEnv+"="+strconv.Itoa(i+1), "REDIS_ADDR="+*redisAddr)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			stopAll(procs)
			return fmt.Errorf("start worker %d: %w", i+1, err)
		}
		procs = append(procs, cmd)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Wait(); err != nil {
				errc <- fmt.Errorf("worker %d: %w", i+1, err)
			}
		}()
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	var result error
	select {
	case <-stop:
	case result = <-errc: // a worker died: stop the others
	}
	stopAll(procs)
	wg.Wait()
	return result
}

func stopAll(procs []*exec.Cmd) {
	for _, p := range procs {
		p.Process.Signal(syscall.SIGTERM)
	}
}
