package expressio_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/expressio-go/expressio/expressio"
)

// serveApp runs app.Serve on a loopback listener until the test ends.
func serveApp(t *testing.T, app *expressio.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := app.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return ln.Addr().String()
}

// closedWithin reports whether the server closes conn within d, after
// answering it or not; the answer's status, if any, is returned.
func closedWithin(t *testing.T, conn net.Conn, d time.Duration) (closed bool, status int) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(d))
	br := bufio.NewReader(conn)
	if res, err := http.ReadResponse(br, nil); err == nil {
		status = res.StatusCode
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	_, err := io.Copy(io.Discard, br)
	var ne net.Error
	return err == nil || !errors.As(err, &ne) || !ne.Timeout(), status
}

func TestAppServerBoundsHeadersAndIdleConnections(t *testing.T) {
	app := expressio.New()
	app.ReadHeaderTimeout = 200 * time.Millisecond
	app.IdleTimeout = 200 * time.Millisecond
	app.MaxHeaderBytes = 64 << 10
	app.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "hello") })
	addr := serveApp(t, app)

	dial := func() net.Conn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}

	t.Run("oversized header", func(t *testing.T) {
		// net/http allows 4 KiB over MaxHeaderBytes.
		conn := dial()
		go io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", app.MaxHeaderBytes+8<<10)+"\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to an oversized header: %v", err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("oversized header: %d, want 431", res.StatusCode)
		}
		// A large header within the limit goes through.
		conn = dial()
		go io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", app.MaxHeaderBytes/2)+"\r\n\r\n")
		res, err = http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("half-size header: %v, %v", res, err)
		}
		res.Body.Close()
	})

	t.Run("slow header", func(t *testing.T) {
		conn := dial()
		start := time.Now()
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n") // and never the end of it
		closed, status := closedWithin(t, conn, 3*time.Second)
		if !closed || status == http.StatusOK {
			t.Fatalf("a header left unfinished: closed %v, status %d", closed, status)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Fatalf("closed after %v, before ReadHeaderTimeout", d)
		}
	})

	t.Run("idle connection", func(t *testing.T) {
		conn := dial()
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(conn)
		res, err := http.ReadResponse(br, nil)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("request: %v, %v", res, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("idle keep-alive connection: read %v, want it closed (EOF)", err)
		}
	})
}
