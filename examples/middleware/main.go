// Command middleware ports express.io's examples/middleware: handshake
// middleware (app.IO.Use) that denies every socket, so the page can never
// connect and shows the error in an alert instead.
//
//	go run ./examples/middleware   # open http://127.0.0.1:7076 (-addr or PORT to change)
package main

import (
	_ "embed"
	"errors"
	"log"

	"github.com/expressio-go/expressio/examples/internal/run"
	"github.com/expressio-go/expressio/expressio"
)

//go:embed index.html
var page string

func main() {
	app := expressio.New().HTTP()

	// express.io apps serve socket.io 0.9 and its client.
	if err := app.IO.Enable("legacy"); err != nil {
		log.Fatal(err)
	}

	app.IO.Use(func(h *expressio.Handshake) error {
		return errors.New("denied")
	})

	app.GET("/", run.Page(page))

	run.Main(app)
}
