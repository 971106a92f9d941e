// Package run is the boilerplate the example programs share: the listen
// address (-addr HOST:PORT, else 127.0.0.1:$PORT, else 127.0.0.1:7076, the
// port every express.io example uses), the "listening on ADDR" line, and a
// graceful shutdown on SIGINT or SIGTERM.
//
// Importing it also puts gin in release mode unless GIN_MODE says
// otherwise, so the examples print only what the express.io originals
// print.
package run

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

	"github.com/gin-gonic/gin"

	"github.com/expressio-go/expressio/expressio"
)

// DefaultPort is the port of every express.io example.
const DefaultPort = "7076"

// shutdownTimeout bounds the graceful shutdown.
const shutdownTimeout = 5 * time.Second

func init() {
	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
	}
}

// Main serves app on the address given by -addr or PORT until SIGINT or
// SIGTERM, then shuts it down gracefully: the example's app.listen(7076).
// It exits the process with status 1 when serving fails.
func Main(app *expressio.App) {
	if err := serve(app); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func serve(app *expressio.App) error {
	def := "127.0.0.1:" + DefaultPort
	if port := os.Getenv("PORT"); port != "" {
		def = "127.0.0.1:" + port
	}
	addr := flag.String("addr", def, "listen address, HOST:PORT (default from PORT, else port "+DefaultPort+")")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- app.Serve(ln) }()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(stop)
	select {
	case err := <-errc:
		return err
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = app.Shutdown(ctx)
	select {
	case serveErr := <-errc:
		if !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
	case <-ctx.Done():
		err = errors.Join(err, ctx.Err())
	}
	return err
}

// Page answers with an HTML page: the example's
// res.sendfile(__dirname + '/client.html').
func Page(html string) gin.HandlerFunc {
	body := []byte(html)
	return func(c *gin.Context) {
		c.Data(http.StatusOK, "text/html; charset=utf-8", body)
	}
}
