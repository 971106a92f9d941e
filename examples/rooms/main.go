// Command rooms ports express.io's examples/rooms: each page asks for a
// room name, emits "ready" with it, joins that room and announces itself
// to the room's other members (the newcomer does not see its own
// announcement, as in the original). Open two windows with the same room,
// then a third with another room, which hears nothing.
//
//	go run ./examples/rooms   # open http://127.0.0.1:7076 (-addr or PORT to change)
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

	// Setup the ready route, join room and broadcast to room.
	app.IO.Route("ready", func(req *expressio.SocketRequest) {
		var room string
		if err := req.Bind(&room); err != nil {
			return // not a room name
		}
		req.IO.Join(room)
		req.IO.Room(room).Broadcast("announce", map[string]string{
			"message": "New client in the " + room + " room. ",
		})
	})

	// Send the client html.
	app.GET("/", run.Page(page))

	run.Main(app)
}
