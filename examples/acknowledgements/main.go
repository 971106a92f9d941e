// Command acknowledgements ports express.io's examples/acknowledgements:
// the page emits "ready" with an ack callback, and the io route answers
// through it with req.IO.Respond; the page shows the answer in an alert.
//
//	go run ./examples/acknowledgements   # open http://127.0.0.1:7076 (-addr or PORT to change)
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

	// Setup the ready route.
	app.IO.Route("ready", func(req *expressio.SocketRequest) {
		req.IO.Respond(map[string]string{
			"success": "here is your acknowledegment for the ready event",
		})
	})

	app.GET("/", run.Page(page))

	run.Main(app)
}
