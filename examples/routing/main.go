// Command routing ports express.io's examples/routing: the page emits
// "ready" and the io route answers with a "talk" event, shown in an alert.
//
//	go run ./examples/routing    # open http://127.0.0.1:7076 (-addr or PORT to change)
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

	// Setup the ready route, and emit talk event.
	app.IO.Route("ready", func(req *expressio.SocketRequest) {
		req.IO.Emit("talk", map[string]string{
			"message": "io event from an io route on the server",
		})
	})

	// Send the client html.
	app.GET("/", run.Page(page))

	run.Main(app)
}
