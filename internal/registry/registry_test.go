package registry

import (
	"errors"
	"testing"
)

func TestRegistry(t *testing.T) {
	var r Registry[*int]
	a, b := new(int), new(int)
	if err := r.Add("a", a); err != nil {
		t.Fatal(err)
	}
	if err := r.Add("a", b); !errors.Is(err, ErrTaken) {
		t.Fatalf("second Add under one id: %v", err)
	}
	r.Add("b", b)
	r.Remove("a", b) // not the one registered there: kept
	if got, _ := r.Get("a"); got != a || r.Len() != 2 {
		t.Fatalf("Remove of the wrong session removed %v", got)
	}
	all, idle, ok := r.Close()
	if !ok || len(all) != 2 {
		t.Fatalf("Close: %v %d", ok, len(all))
	}
	if _, _, again := r.Close(); again {
		t.Fatal("second Close reported ok")
	}
	if err := r.Add("c", a); !errors.Is(err, ErrClosing) {
		t.Fatalf("Add while closing: %v", err)
	}
	r.Remove("a", a)
	select {
	case <-idle:
		t.Fatal("idle with a session left")
	default:
	}
	r.Remove("b", b)
	<-idle
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if len(id) != 20 || seen[id] {
			t.Fatalf("id %q (len %d, repeated %v)", id, len(id), seen[id])
		}
		seen[id] = true
	}
}
