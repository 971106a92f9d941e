// Command runner is scripts/bench: it runs the same load against this
// project's server, Node socket.io 4.8.1 and go-socket.io 1.7.0, one after
// the other on loopback, each server pinned to one core and the load
// generator to another where taskset exists, and prints one table with the
// medians of the runs and the ratios us/Node and us/go-socket.io.
//
//	scripts/bench           # full: 3 runs of every figure
//	scripts/bench -short    # one run of smaller loads, under 2 minutes
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// server is one implementation under test.
type server struct {
	name string
	cmd  []string // the command; -addr HOST:PORT is appended
	eio3 bool     // speaks Engine.IO 3 only (go-socket.io)
}

// figure is one measured number of one scenario.
type figure struct {
	label      string
	key        string // field of the load generator's JSON
	higherWins bool
}

// scenario is one load, run against every server.
type scenario struct {
	name    string
	args    []string // load generator arguments
	mixed   bool     // needs EIO3 and EIO4 clients together
	rss     bool     // measure the server's RSS per connection after connecting
	figures []figure
}

func run() error {
	var (
		short   = flag.Bool("short", false, "one run of smaller loads (under 2 minutes)")
		runs    = flag.Int("runs", 3, "runs per figure (the median is shown)")
		only    = flag.String("only", "", "comma-separated servers to run (expressio,node,go-socket.io)")
		workDir = flag.String("work", "", "directory for the built binaries (default: a temporary one)")
	)
	flag.Parse()
	if *short {
		*runs = 1
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	dir := *workDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "expressio-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	bins, err := build(root, dir)
	if err != nil {
		return err
	}
	servers := []server{
		{name: "expressio", cmd: []string{bins["fixture"], "-profile", "bench", "-log", "error"}},
		{name: "node", cmd: []string{"node", filepath.Join(root, "scripts/benchkit/node/server.js")}},
		{name: "go-socket.io", cmd: []string{bins["gosocketio"]}, eio3: true},
	}
	if *only != "" {
		keep := strings.Split(*only, ",")
		servers = slices.DeleteFunc(servers, func(s server) bool { return !slices.Contains(keep, s.name) })
	}

	conns, dur, big := "10000", "10s", "10000"
	if *short {
		conns, dur, big = "2000", "3s", ""
	}
	latency := []figure{{"p50 ms", "p50_ms", false}, {"p99 ms", "p99_ms", false}}
	scenarios := []scenario{
		{name: "connect " + conns, args: []string{"-scenario", "connect", "-n", conns}, rss: true, figures: []figure{
			{"seconds", "connect_seconds", false}, {"connections/s", "conns_per_sec", true}, {"RSS KB/conn", "rss_kb_per_conn", false}}},
		{name: "ack, 1 client", args: []string{"-scenario", "ack", "-clients", "1", "-duration", dur},
			figures: append([]figure{{"acks/s", "acks_per_sec", true}}, latency...)},
		{name: "ack, 100 clients", args: []string{"-scenario", "ack", "-clients", "100", "-duration", dur},
			figures: append([]figure{{"acks/s", "acks_per_sec", true}}, latency...)},
		{name: "broadcast to 1000", args: []string{"-scenario", "broadcast", "-receivers", "1000", "-duration", dur},
			figures: append([]figure{{"deliveries/s", "deliveries_per_sec", true}}, latency...)},
	}
	if big != "" {
		scenarios = append(scenarios, scenario{name: "broadcast to " + big, args: []string{"-scenario", "broadcast", "-receivers", big, "-duration", dur},
			figures: append([]figure{{"deliveries/s", "deliveries_per_sec", true}}, latency...)})
	}
	scenarios = append(scenarios, scenario{name: "broadcast to 1000, EIO3+EIO4 mixed", mixed: true,
		args:    []string{"-scenario", "broadcast", "-receivers", "1000", "-duration", dur, "-eio", "mixed"},
		figures: append([]figure{{"deliveries/s", "deliveries_per_sec", true}}, latency...)})

	pin := hasTaskset()
	results := map[string]map[string]float64{} // "scenario/figure" -> server -> median
	for _, sc := range scenarios {
		for _, srv := range servers {
			if sc.mixed && srv.eio3 {
				continue
			}
			var samples []map[string]float64
			for i := range *runs {
				fmt.Fprintf(os.Stderr, "== %s: %s (run %d of %d)\n", srv.name, sc.name, i+1, *runs)
				res, err := runOnce(bins["loadgen"], srv, sc, pin)
				if err != nil {
					fmt.Fprintf(os.Stderr, "   failed: %v\n", err)
					continue
				}
				samples = append(samples, res)
			}
			for _, f := range sc.figures {
				var vals []float64
				for _, s := range samples {
					if v, ok := s[f.key]; ok {
						vals = append(vals, v)
					}
				}
				if len(vals) == 0 {
					continue
				}
				k := sc.name + "/" + f.label
				if results[k] == nil {
					results[k] = map[string]float64{}
				}
				results[k][srv.name] = median(vals)
			}
		}
	}
	printTable(os.Stdout, scenarios, servers, results, *runs, pin)
	return nil
}

// runOnce starts a fresh server, runs the load generator against it and
// returns the generator's figures (plus the server's RSS per connection
// for a connect scenario).
func runOnce(loadgen string, srv server, sc scenario, pin bool) (map[string]float64, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srvCmd := command(ctx, pin, "0", append(slices.Clone(srv.cmd), "-addr", addr)...)
	srvOut, _ := srvCmd.StdoutPipe()
	srvCmd.Stderr = os.Stderr
	if err := srvCmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", srv.name, err)
	}
	defer func() {
		srvCmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { srvCmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			srvCmd.Process.Kill()
			<-done
		}
	}()
	if err := waitListening(srvOut, 20*time.Second); err != nil {
		return nil, fmt.Errorf("%s: %w", srv.name, err)
	}
	go io.Copy(io.Discard, srvOut)
	time.Sleep(500 * time.Millisecond) // let the runtime settle before the baseline
	baseline, _ := rssKB(srvCmd.Process.Pid)

	args := append([]string{"-url", "http://" + addr}, sc.args...)
	if srv.eio3 && !slices.Contains(args, "-eio") {
		args = append(args, "-eio", "3")
	}
	if sc.rss {
		args = append(args, "-hold", "8s")
	}
	gen := command(ctx, pin, "1", append([]string{loadgen}, args...)...)
	genErr, _ := gen.StderrPipe()
	var out strings.Builder
	gen.Stdout = &out
	if err := gen.Start(); err != nil {
		return nil, err
	}
	rss := make(chan float64, 1)
	go func() {
		// The generator logs "msg=ready connected=N" once every
		// connection is up; the server's memory is read after settling,
		// while it holds them.
		sc := bufio.NewScanner(genErr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if !strings.Contains(line, "msg=ready") || sent {
				continue
			}
			if conns := fieldInt(line, "connected"); conns > 0 {
				sent = true
				go func() {
					time.Sleep(5 * time.Second)
					if kb, err := rssKB(srvCmd.Process.Pid); err == nil {
						rss <- float64(kb-baseline) / float64(conns)
					}
				}()
			}
		}
	}()
	if err := gen.Wait(); err != nil {
		return nil, fmt.Errorf("load generator: %w", err)
	}
	res := map[string]float64{}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out.String()), &raw); err != nil {
		return nil, fmt.Errorf("load generator output %q: %w", out.String(), err)
	}
	for k, v := range raw {
		if f, ok := v.(float64); ok {
			res[k] = f
		}
	}
	if sc.rss {
		select {
		case v := <-rss:
			res["rss_kb_per_conn"] = v
		default:
		}
	}
	return res, nil
}

// fieldInt reads key=N from a log line of slog's text handler.
func fieldInt(line, key string) int {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// command runs argv pinned to a CPU when taskset exists.
func command(ctx context.Context, pin bool, cpu string, argv ...string) *exec.Cmd {
	if pin {
		argv = append([]string{"taskset", "-c", cpu}, argv...)
	}
	return exec.CommandContext(ctx, argv[0], argv[1:]...)
}

func hasTaskset() bool {
	_, err := exec.LookPath("taskset")
	return err == nil && runtime.NumCPU() >= 2
}

func waitListening(r io.Reader, d time.Duration) error {
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			return errors.New("exited before listening")
		}
		return nil
	case <-time.After(d):
		return errors.New("not listening in time")
	}
}

// rssKB reads a process's resident set size.
func rssKB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, errors.New("no VmRSS")
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// build compiles the fixture, the load generator and the go-socket.io
// server, and installs the Node server's npm packages when missing.
func build(root, dir string) (map[string]string, error) {
	bins := map[string]string{
		"fixture":    filepath.Join(dir, "fixture"),
		"loadgen":    filepath.Join(dir, "loadgen"),
		"gosocketio": filepath.Join(dir, "gosocketio"),
	}
	steps := []struct {
		dir  string
		argv []string
	}{
		{root, []string{"go", "build", "-o", bins["fixture"], "./compat/fixture"}},
		{root, []string{"go", "build", "-o", bins["loadgen"], "./scripts/benchkit/loadgen"}},
		{filepath.Join(root, "scripts/benchkit/gosocketio"), []string{"go", "build", "-o", bins["gosocketio"], "."}},
	}
	if _, err := os.Stat(filepath.Join(root, "scripts/benchkit/node/node_modules/socket.io")); err != nil {
		steps = append(steps, struct {
			dir  string
			argv []string
		}{filepath.Join(root, "scripts/benchkit/node"), []string{"npm", "ci", "--no-audit", "--no-fund"}})
	}
	for _, s := range steps {
		cmd := exec.Command(s.argv[0], s.argv[1:]...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = s.dir, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s: %w", strings.Join(s.argv, " "), err)
		}
	}
	return bins, nil
}

// printTable writes the results as a Markdown table.
func printTable(w io.Writer, scenarios []scenario, servers []server, results map[string]map[string]float64, runs int, pinned bool) {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "\n%s, %d CPUs, %s, %s; median of %d run(s); servers pinned to CPU 0 and the load generator to CPU 1: %v\n\n",
		host, runtime.NumCPU(), runtime.Version(), time.Now().Format("2006-01-02"), runs, pinned)
	fmt.Fprint(w, "| scenario | figure |")
	for _, s := range servers {
		fmt.Fprintf(w, " %s |", s.name)
	}
	fmt.Fprintln(w, " us/node | us/go-socket.io |")
	fmt.Fprint(w, "|---|---|")
	for range servers {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w, "---:|---:|")
	for _, sc := range scenarios {
		for _, f := range sc.figures {
			row := results[sc.name+"/"+f.label]
			fmt.Fprintf(w, "| %s | %s |", sc.name, f.label)
			for _, s := range servers {
				if v, ok := row[s.name]; ok {
					fmt.Fprintf(w, " %s |", format(v))
				} else {
					fmt.Fprint(w, " n/a |")
				}
			}
			fmt.Fprintf(w, " %s | %s |\n", ratio(row, "expressio", "node"), ratio(row, "expressio", "go-socket.io"))
		}
	}
}

func ratio(row map[string]float64, a, b string) string {
	x, ok1 := row[a]
	y, ok2 := row[b]
	if !ok1 || !ok2 || y == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", x/y)
}

func format(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}
