package expressio_test

import (
	"errors"
	"fmt"

	"github.com/expressio-go/expressio/expressio"
)

// An express.io app configured its realtime side with socket.io 0.9's
// names; Node socket.io 4's option names work too. Each setting writes
// into the server's Options, so it must come before the server serves.
func ExampleServer_Set() {
	io := expressio.NewServer(nil)

	err := errors.Join(
		// express.io: app.io.set('heartbeat interval', 10) and friends.
		io.Set("heartbeat interval", 10), // seconds
		io.Set("transports", []string{"websocket", "xhr-polling"}),
		io.Set("origins", "example.com:*"),
		io.Set("resource", "/realtime"),
		// Node: new Server({pingTimeout: 5000, maxHttpBufferSize: 1e5}).
		io.Set("pingTimeout", 5000), // milliseconds
		io.Set("maxHttpBufferSize", 1e5),
		// express.io: app.io.enable('browser client minification').
		io.Enable("browser client minification"),
	)
	if err != nil {
		fmt.Println(err)
	}

	interval, _ := io.Get("heartbeat interval")
	timeout, _ := io.Get("pingTimeout")
	transports, _ := io.Get("transports")
	fmt.Println(interval, timeout, transports, io.Path())
	fmt.Println(io.Enabled("browser client minification"))

	err = io.Set("transports", []string{"flashsocket"})
	fmt.Println(errors.Is(err, expressio.ErrUnsupportedSetting))
	err = io.Set("heartbeat interval", "10")
	fmt.Println(err)
	// Output:
	// 10s 5s [websocket polling] /realtime/
	// true
	// true
	// expressio: bad setting value: "heartbeat interval" wants seconds (int, int64 or float64) or a time.Duration, got string
}

// Configure runs settings for one environment only: GO_ENV, else
// NODE_ENV, else "development".
func ExampleServer_Configure() {
	io := expressio.NewServer(nil)
	io.Configure("production", func(io *expressio.Server) error {
		return io.Set("log level", 1) // warnings and errors
	})
	io.Configure("", func(io *expressio.Server) error { // every environment
		return io.Set("close timeout", 30)
	})
}
