// Command http-io ports express.io's examples/http-io: the canonical
// express.io app, an HTTP server and an io server together on one port.
// It adds a page at / that connects, so there is something to open.
//
//	go run ./examples/http-io    # http://127.0.0.1:7076, -addr or PORT to change
package main

import (
	_ "embed"
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

	// build realtime-web app
	app.GET("/", run.Page(page))

	run.Main(app)
}
