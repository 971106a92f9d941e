// Command realtime-canvas ports express.io's examples/realtime-canvas:
// what you draw on the page's canvas is sent as "drawClick" events, which
// the io route rebroadcasts to every other page as "draw". Open two
// windows, draw in one and watch the other.
//
//	go run ./examples/realtime-canvas   # open http://127.0.0.1:7076 twice (-addr or PORT to change)
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

	// Broadcast all draw clicks.
	app.IO.Route("drawClick", func(req *expressio.SocketRequest) {
		req.IO.Broadcast("draw", req.Data)
	})

	// Send client html.
	app.GET("/", run.Page(page))

	run.Main(app)
}
