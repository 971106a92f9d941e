// Command gosocketio is the go-socket.io 1.7.0 server scripts/bench
// compares expressio with: the Go incumbent, in a module of its own so
// that the main module does not depend on it. It has the routes of the
// Go fixture's bench profile (compat/fixture, -profile bench):
//
//   - "echo" acks its payload;
//   - "bcast" sends its payload to every socket of "/" (the sender too) as
//     a "bcast" event, and acks the sender.
//
// Usage: go run . -addr 127.0.0.1:PORT
//
// go-socket.io 1.7.0 speaks Engine.IO 3 only (socket.io-client 1.x and
// 2.x). Its options are its defaults: pingInterval 20 s and pingTimeout
// 60 s (it uses pingTimeout as the read deadline between two frames, so
// it must exceed pingInterval), polling and websocket at /socket.io/.
//
// What go-socket.io allows, and how it differs from the other two
// servers:
//
//   - A handler has a fixed arity, so "echo" and "bcast" take one argument
//     (decoded as any, like JSON.parse) and drop the rest; a missing one
//     is null.
//   - A handler acks with its return values and always sends that ack
//     frame, with no id if the client asked for none. "bcast" returns
//     nil, so its ack is [null] where Node's is [].
//   - Every frame it encodes ends with "\n" (json.Encoder).
//
// It prints "listening on HOST:PORT" once it accepts connections and
// exits 0 on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	socketio "github.com/googollee/go-socket.io"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gosocketio:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	flag.Parse()

	server := socketio.NewServer(nil)
	// Every socket of "/" is in the room named after its id (go-socket.io
	// joins it on connect), and BroadcastToNamespace sends to every member
	// of every room of the namespace: every socket, once. Joining sockets
	// to another room would deliver each broadcast twice.
	server.OnEvent("/", "echo", func(_ socketio.Conn, payload any) any {
		return payload
	})
	server.OnEvent("/", "bcast", func(_ socketio.Conn, payload any) any {
		server.BroadcastToNamespace("/", "bcast", payload)
		return nil
	})
	// Without an error handler go-socket.io drops errors silently, which
	// is what we want on the hot path.

	go func() {
		// Serve returns when server.Close closes the accept channel.
		_ = server.Serve()
	}()

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", server)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err := <-errc:
		return err
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// Stop accepting HTTP requests first: go-socket.io's handlers send new
	// connections on the channel server.Close closes.
	if err := hs.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	_ = server.Close()
	return nil
}
