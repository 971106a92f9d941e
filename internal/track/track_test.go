package track

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestGroupWaitsWhileGoroutinesStart(t *testing.T) {
	var g Group
	var ran atomic.Int32
	for range 10 {
		g.Go(func() {
			time.Sleep(10 * time.Millisecond)
			g.Go(func() { ran.Add(1) }) // started during Wait
			ran.Add(1)
		})
	}
	if err := g.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ran.Load() != 20 {
		t.Fatalf("Wait returned with %d of 20 done", ran.Load())
	}
}

func TestGroupWaitHonoursContext(t *testing.T) {
	var g Group
	release := make(chan struct{})
	g.Go(func() { <-release })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := g.Wait(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Wait = %v, want the deadline", err)
	}
	close(release)
	if err := g.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}
