// Command route-forwarding ports express.io's examples/route-forwarding:
// GET / is forwarded to the io route "hello", which forwards it to
// "hello-again", whose Respond writes the HTTP response as JSON.
//
//	go run ./examples/route-forwarding   # open http://127.0.0.1:7076 (-addr or PORT to change)
package main

import (
	"log"

	"github.com/gin-gonic/gin"

	"github.com/expressio-go/expressio/examples/internal/run"
	"github.com/expressio-go/expressio/expressio"
)

func main() {
	app := expressio.New().HTTP()

	// express.io apps serve socket.io 0.9 and its client.
	if err := app.IO.Enable("legacy"); err != nil {
		log.Fatal(err)
	}

	// Initial web request.
	app.GET("/", func(c *gin.Context) {
		// Forward to an io route.
		expressio.IO(c).Route("hello")
	})

	// Forward io route to another io route.
	app.IO.Route("hello", func(req *expressio.SocketRequest) {
		req.IO.Route("hello-again")
	})

	// Sends response from io route.
	app.IO.Route("hello-again", func(req *expressio.SocketRequest) {
		req.IO.Respond(map[string]string{"hello": "from io route"})
	})

	run.Main(app)
}
