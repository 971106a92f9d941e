// Command advanced-routing ports express.io's examples/advanced-routing:
// one nested route, "posts", answers "posts:create" and "posts:remove".
// create numbers the post and both broadcast to every page, the sender
// included (app.IO.Broadcast). Open two windows, create and delete posts.
//
//	go run ./examples/advanced-routing   # open http://127.0.0.1:7076 (-addr or PORT to change)
package main

import (
	_ "embed"
	"log"
	"sync/atomic"

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

	var count atomic.Int64

	app.IO.Route("posts", expressio.Routes{
		"create": func(req *expressio.SocketRequest) {
			var post map[string]any
			if err := req.Bind(&post); err != nil || post == nil {
				return // not an object
			}
			post["id"] = count.Add(1)
			app.IO.Broadcast("posts:create", post)
		},
		"remove": func(req *expressio.SocketRequest) {
			app.IO.Broadcast("posts:remove", req.Data)
		},
	})

	// Send the client html.
	app.GET("/", run.Page(page))

	run.Main(app)
}
