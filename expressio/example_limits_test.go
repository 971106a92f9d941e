package expressio_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/expressio-go/expressio/expressio"
)

// Limits bound each client address; a handshake over them is refused
// before any session is made. Here one handshake per second is allowed,
// so a second one right after the first gets 429.
func ExampleLimits() {
	io := expressio.NewServer(&expressio.Options{
		Limits: expressio.Limits{MaxConnectionsPerAddress: 20, MaxHandshakesPerSecond: 1},
	})
	// The same with settings: io.Set("maxConnectionsPerAddress", 20) and
	// io.Set("maxHandshakesPerSecond", 1).
	defer io.Shutdown(context.Background())

	for range 2 {
		rec := httptest.NewRecorder()
		io.ServeHTTP(rec, httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling", nil))
		if retry := rec.Header().Get("Retry-After"); retry != "" {
			fmt.Println(rec.Code, rec.Body, "Retry-After:", retry)
		} else {
			fmt.Println(rec.Code)
		}
	}
	// Output:
	// 200
	// 429 {"code":4,"message":"Too many handshakes from this address"} Retry-After: 1
}
