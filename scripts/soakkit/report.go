package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// report is what a soak found.
type report struct {
	cfg   *config
	kinds map[string]int // clients per kind

	before, start, warm, end, after figures

	connectTime, loadTime                       time.Duration
	acksSent, acksReceived, acksLost, wrongAcks int64
	says, ownCopies, copiesLost, deliveries     int64
	dropped                                     int64
	firstDrop                                   error

	shutdownTime time.Duration
	shutdownErr  error

	failures []string
}

// collect takes the clients' tallies at the end of the load.
func (r *report) collect(clients []*client, e *env) {
	r.acksSent, r.acksReceived, r.wrongAcks = e.acksSent.Load(), e.acksReceived.Load(), e.wrongAcks.Load()
	r.says, r.ownCopies, r.deliveries = e.says.Load(), e.ownCopies.Load(), e.deliveries.Load()
	r.dropped = e.dropped.Load()
	for _, c := range clients {
		acks, copies := c.lost()
		r.acksLost += int64(acks)
		r.copiesLost += int64(copies)
		if err := c.failure(); err != nil && r.firstDrop == nil {
			r.firstDrop = fmt.Errorf("%s client %d: %w", c.kind, c.id, err)
		}
	}
}

// judge fills in the failures.
func (r *report) judge() {
	fail := func(format string, args ...any) { r.failures = append(r.failures, fmt.Sprintf(format, args...)) }
	if r.dropped > 0 {
		fail("%d clients dropped during the run (first: %v)", r.dropped, r.firstDrop)
	}
	if r.acksLost > 0 || r.wrongAcks > 0 {
		fail("%d acks lost, %d unexpected packets", r.acksLost, r.wrongAcks)
	}
	if r.copiesLost > 0 {
		fail("%d room broadcasts never reached their own sender", r.copiesLost)
	}
	if r.acksReceived == 0 {
		fail("no ack at all")
	}
	r.failures = append(r.failures, growth(r.start, r.warm, r.end, r.cfg.tolerance)...)
	if r.after.Sockets != 0 {
		fail("%d sockets left after every client closed", r.after.Sockets)
	}
	if r.after.Goroutines > r.before.Goroutines+goroutineSlack {
		fail("%d goroutines after every client closed, %d before any came", r.after.Goroutines, r.before.Goroutines)
	}
}

// growth compares the end figures with earlier ones, each of which may
// be exceeded by the tolerance plus a fixed slack: goroutines and the live
// heap with the start, heap in use and RSS with the warm-up's end, since
// a server that has served load keeps some memory it had no need for
// before (fragmented spans, grown stacks).
func growth(start, warm, end figures, tolerance float64) []string {
	var out []string
	check := func(name, since string, from, to, slack int64, unit func(int64) string) {
		if limit := from + int64(float64(from)*tolerance) + slack; to > limit {
			out = append(out, fmt.Sprintf("%s grew from %s (%s) to %s (limit %s)", name, unit(from), since, unit(to), unit(limit)))
		}
	}
	count := func(v int64) string { return fmt.Sprint(v) }
	bytes := func(v int64) string { return fmt.Sprintf("%.1f MiB", mib(v)) }
	check("goroutines", "start", int64(start.Goroutines), int64(end.Goroutines), goroutineSlack, count)
	check("live heap", "start", int64(start.HeapAlloc), int64(end.HeapAlloc), memorySlack, bytes)
	check("heap in use", "warm-up", int64(warm.HeapInuse), int64(end.HeapInuse), memorySlack, bytes)
	check("RSS", "warm-up", warm.RSS, end.RSS, memorySlack, bytes)
	return out
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func (r *report) print(w io.Writer) {
	var kinds []string
	for _, k := range []string{kindEIO4WebSocket, kindEIO3WebSocket, kindEIO4Polling, kindEIO3Polling, kind09WebSocket, kind09Polling} {
		if n := r.kinds[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
		}
	}
	fmt.Fprintf(w, "\nsoak: %d clients (%s), connected in %v; %v of load, settle %v, interval %v, %d rooms\n\n",
		r.cfg.clients, strings.Join(kinds, ", "), r.connectTime.Round(time.Millisecond), r.loadTime.Round(time.Second),
		r.cfg.settle, r.cfg.interval, r.cfg.rooms)
	fmt.Fprintln(w, "| server | no client | start | after warm-up | end | end/start | end/warm-up | clients gone |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	row := func(name string, get func(figures) float64, format string) {
		fmt.Fprintf(w, "| %s | "+format+" | "+format+" | "+format+" | "+format+" | %s | %s | "+format+" |\n",
			name, get(r.before), get(r.start), get(r.warm), get(r.end), ratio(get(r.end), get(r.start)), ratio(get(r.end), get(r.warm)), get(r.after))
	}
	row("goroutines", func(f figures) float64 { return float64(f.Goroutines) }, "%.0f")
	row("heap in use MiB", func(f figures) float64 { return mib(int64(f.HeapInuse)) }, "%.1f")
	row("heap live MiB", func(f figures) float64 { return mib(int64(f.HeapAlloc)) }, "%.1f")
	row("RSS MiB", func(f figures) float64 { return mib(f.RSS) }, "%.1f")
	row("sockets", func(f figures) float64 { return float64(f.Sockets) }, "%.0f")
	secs := r.loadTime.Seconds()
	if secs == 0 {
		secs = 1
	}
	fmt.Fprintf(w, "\nload: %d acks sent, %d received (%.0f/s), %d lost; %d says, %d own copies back, %d lost; %d room deliveries (%.0f/s); %d clients dropped\n",
		r.acksSent, r.acksReceived, float64(r.acksReceived)/secs, r.acksLost, r.says, r.ownCopies, r.copiesLost,
		r.deliveries, float64(r.deliveries)/secs, r.dropped)
	if r.shutdownErr != nil {
		fmt.Fprintf(w, "server shutdown (SIGTERM): %v after %v\n", r.shutdownErr, r.shutdownTime.Round(time.Millisecond))
	} else if r.shutdownTime > 0 {
		fmt.Fprintf(w, "server shutdown (SIGTERM): clean, %v\n", r.shutdownTime.Round(time.Millisecond))
	}
	if len(r.failures) == 0 {
		fmt.Fprintf(w, "\nPASS (tolerance %.0f%% + %d goroutines, %d MiB)\n", 100*r.cfg.tolerance, goroutineSlack, memorySlack>>20)
		return
	}
	fmt.Fprintln(w, "\nFAIL:")
	for _, f := range r.failures {
		fmt.Fprintln(w, "  -", f)
	}
}

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}
