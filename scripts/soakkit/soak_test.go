package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A short soak with a few clients of every kind against a real fixture
// process passes, and its report shows every kind and the figures.
func TestSoakShort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var log bytes.Buffer
	bin, err := buildFixture(ctx, t.TempDir(), &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"-fixture", bin, "-clients", "20", "-duration", "3s", "-settle", "500ms",
		"-interval", "100ms", "-rooms", "4", "-progress", "1s"}, &stdout, &stderr)
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	if code != 0 {
		t.Fatalf("exit status %d", code)
	}
	out := stdout.String()
	for _, want := range []string{
		"7 eio4-websocket", "7 eio3-websocket", "2 eio4-polling", "1 eio3-polling", "2 0.9-websocket", "1 0.9-xhr-polling",
		"| goroutines |", "| heap in use MiB |", "| RSS MiB |", "| sockets | 0 | 20 | 20 | 20 |",
		" 0 lost;", "0 clients dropped", "server shutdown (SIGTERM): clean", "PASS",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-clients", "0"},
		{"-duration", "0s"},
		{"-tolerance", "-1"},
		{"extra"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, &bytes.Buffer{}, &stderr); code != 2 {
			t.Errorf("%q: exit status %d, want 2 (%s)", args, code, stderr.String())
		}
	}
}

// The verdict: what fails a soak and what does not.
func TestJudge(t *testing.T) {
	mb := int64(1 << 20)
	start := figures{Goroutines: 10000, HeapInuse: uint64(200 * mb), HeapAlloc: uint64(150 * mb), RSS: 300 * mb, Sockets: 5000}
	warm := figures{Goroutines: 10000, HeapInuse: uint64(250 * mb), HeapAlloc: uint64(150 * mb), RSS: 350 * mb, Sockets: 5000}
	before := figures{Goroutines: 6, HeapInuse: uint64(2 * mb), RSS: 20 * mb}
	tests := []struct {
		name string
		edit func(r *report)
		want string // a failure that must be reported; "" for none
	}{
		{"flat", func(r *report) {}, ""},
		{"within tolerance", func(r *report) {
			r.end.Goroutines = 11000 + goroutineSlack
			r.end.HeapAlloc = uint64(165*mb + memorySlack)
			r.end.HeapInuse = uint64(275*mb + memorySlack)
			r.end.RSS = 385*mb + memorySlack
		}, ""},
		{"goroutines grew", func(r *report) { r.end.Goroutines = 11000 + goroutineSlack + 1 }, "goroutines grew"},
		{"live heap grew", func(r *report) { r.end.HeapAlloc = uint64(165*mb + memorySlack + 1) }, "live heap grew"},
		{"heap grew", func(r *report) { r.end.HeapInuse = uint64(275*mb + memorySlack + 1) }, "heap in use grew"},
		{"RSS grew", func(r *report) { r.end.RSS = 385*mb + memorySlack + 1 }, "RSS grew"},
		{"ack lost", func(r *report) { r.acksLost = 1 }, "1 acks lost"},
		{"broadcast lost", func(r *report) { r.copiesLost = 2 }, "2 room broadcasts"},
		{"client dropped", func(r *report) { r.dropped, r.firstDrop = 1, errors.New("ping timeout") }, "1 clients dropped"},
		{"sockets left", func(r *report) { r.after.Sockets = 3 }, "3 sockets left"},
		{"goroutines left", func(r *report) { r.after.Goroutines = before.Goroutines + goroutineSlack + 1 }, "goroutines after every client closed"},
	}
	for _, tt := range tests {
		r := &report{cfg: &config{tolerance: 0.10}, before: before, start: start, warm: warm, end: warm, after: before, acksReceived: 100}
		tt.edit(r)
		r.judge()
		got := strings.Join(r.failures, "; ")
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("%s: failures %q, want %q", tt.name, got, tt.want)
		}
	}
}
