// Command broadcasting ports express.io's examples/broadcasting: every page
// emits "ready" when it loads, and every other open page is told about the
// "new visitor" (req.IO.Broadcast skips the sender). Open two windows and
// reload one of them a few times while watching the other.
//
//	go run ./examples/broadcasting   # open http://127.0.0.1:7076 twice (-addr or PORT to change)
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

	// Broadcast the new visitor event on ready route.
	app.IO.Route("ready", func(req *expressio.SocketRequest) {
		req.IO.Broadcast("new visitor")
	})

	// Send client html.
	app.GET("/", run.Page(page))

	run.Main(app)
}
