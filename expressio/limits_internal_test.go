package expressio

import (
	"fmt"
	"testing"
	"time"
)

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func newFakeClock() *fakeClock           { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }
func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }

// sprayed is the i-th address of a spray (i < 1<<24).
func sprayed(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&0xff, i>>8&0xff, i&0xff) }

// allowN tries a hundred handshakes from addr at once and returns how
// many were allowed.
func allowN(l *rateLimiter, addr string) int {
	n := 0
	for range 100 {
		if l.allow(addr) {
			n++
		}
	}
	return n
}

func TestRateLimiterBucket(t *testing.T) {
	clock := newFakeClock()
	l := newRateLimiter(4, clock.now)
	if n := allowN(l, "a"); n != 4 {
		t.Fatalf("burst: %d handshakes allowed, want 4", n)
	}
	if n := allowN(l, "b"); n != 4 {
		t.Fatalf("another address has its own bucket: %d allowed, want 4", n)
	}
	clock.add(249 * time.Millisecond)
	if l.allow("a") {
		t.Fatal("a token came back before a quarter second")
	}
	clock.add(time.Millisecond)
	if !l.allow("a") || l.allow("a") {
		t.Fatal("want exactly one token back after a quarter second")
	}
	// Across generations: a bucket moves to the new one with its tokens.
	clock.add(1100 * time.Millisecond)
	if n := allowN(l, "a"); n != 4 {
		t.Fatalf("after 1.1s idle: %d allowed, want a full burst of 4", n)
	}
	clock.add(900 * time.Millisecond) // a new generation starts
	if n := allowN(l, "a"); n != 3 {
		t.Fatalf("0.9s after a burst: %d allowed, want 3", n)
	}
	clock.add(100 * time.Millisecond) // the 0.6 token left and 0.4 more
	if n := allowN(l, "a"); n != 1 {
		t.Fatalf("0.1s later: %d allowed, want 1", n)
	}
}

// TestRateLimiterSpray: a flood of distinct addresses never makes the
// limiter keep more than two generations of at most maxRateAddresses, all
// forgotten two seconds later, and a tracked address stays limited.
func TestRateLimiterSpray(t *testing.T) {
	clock := newFakeClock()
	l := newRateLimiter(2, clock.now)
	allowN(l, "victim") // tracked, bucket empty
	for round := range 2 {
		for i := range 2 * maxRateAddresses {
			l.allow(sprayed(round*2*maxRateAddresses + i))
			if i%1000 == 0 {
				clock.add(time.Millisecond) // the spray takes its time
			}
		}
		if n := l.len(); n > 2*maxRateAddresses {
			t.Fatalf("round %d: %d buckets kept, want at most %d", round, n, 2*maxRateAddresses)
		}
	}
	clock.add(2 * rateWindow)
	l.allow("one")
	if n := l.len(); n != 1 {
		t.Fatalf("two seconds after the spray: %d buckets kept, want 1", n)
	}

	// An address already tracked stays limited while a spray fills the
	// generation.
	allowN(l, "victim")
	for i := range 2 * maxRateAddresses {
		l.allow(sprayed(i))
	}
	if l.allow("victim") {
		t.Fatal("a limited address got a handshake during a spray")
	}
}

func TestConnLimiter(t *testing.T) {
	l := &connLimiter{max: 2, held: make(map[string]int), pending: make(map[string][]*slot)}
	a := l.acquire("10.0.0.1", "10.0.0.1:1000", "/socket.io/?EIO=4&t=a", true)
	b := l.acquire("10.0.0.1", "10.0.0.1:1000", "/socket.io/?EIO=4&t=b", true) // HTTP/2: same connection
	if a == nil || b == nil || l.acquire("10.0.0.1", "10.0.0.1:1001", "/", true) != nil {
		t.Fatal("want two places, then none")
	}
	if l.acquire("10.0.0.2", "10.0.0.2:1000", "/", true) == nil {
		t.Fatal("another address is refused")
	}
	// The session of b's request claims b's slot, not a's.
	if got := l.claim("10.0.0.1:1000", "/socket.io/?EIO=4&t=b"); got != b {
		t.Fatal("claim took the wrong slot")
	}
	b.done() // claimed: kept
	a.done() // not claimed: released
	if l.held["10.0.0.1"] != 1 {
		t.Fatalf("held %d, want 1 (b's session)", l.held["10.0.0.1"])
	}
	b.release()
	b.release() // only the first counts
	if l.claim("10.0.0.1:1000", "/") != nil {
		t.Fatal("a slot is left to claim")
	}
	if _, ok := l.held["10.0.0.1"]; ok {
		t.Fatal("an address without connections is still tracked")
	}

	// A 0.9 handshake's slot outlives its request until it expires.
	c := l.acquire("10.0.0.3", "10.0.0.3:1000", "/socket.io/1/", false)
	c.claimUntil(20 * time.Millisecond)
	c.done()
	if l.held["10.0.0.3"] != 1 {
		t.Fatal("an authorized 0.9 handshake released its place with its request")
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		l.mu.Lock()
		_, held := l.held["10.0.0.3"]
		l.mu.Unlock()
		if !held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an expired 0.9 handshake kept its place")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if addrs, conns := l.len(); addrs != 1 || conns != 1 { // 10.0.0.2's pending handshake
		t.Fatalf("tracked %d addresses, %d connections; want 1, 1", addrs, conns)
	}
}

func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":                "192.0.2.1",
		"::ffff:192.0.2.1":         "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":     "2001:db8:1:2::/64",
		"2001:db8:1:2::9":          "2001:db8:1:2::/64",
		"fe80::1%eth0":             "fe80::/64",
		"@":                        "@",
		"":                         "",
		string(make([]byte, 1000)): string(make([]byte, maxAddressLen)),
	} {
		if got := addressKey(in); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLegacyHandshakePath(t *testing.T) {
	for rest, want := range map[string]bool{
		"/1": true, "/1/": true, "/01/": true, "/1/xhr-polling": true, "/1/websocket/": true, "/1//": true, "/1///": true,
		"/1/websocket/abc": false, "/1/websocket/abc/": false, "/1////": false, "/2/": false, "/": false, "": false,
		"1/": false, "/1x/": false, "/0000000001/": false, "/000000001/": true, "/1/a/b/c": false,
	} {
		if got := legacyHandshake(rest); got != want {
			t.Errorf("legacyHandshake(%q) = %v, want %v", rest, got, want)
		}
	}
}
