// Command https-io ports express.io's examples/https-io: the http-io app
// over HTTPS. The original read ./key and ./cert; this one makes a
// self-signed certificate in memory at start-up (see cert.go), so nothing
// secret is committed. Browsers warn about it; accept it to go on.
//
//	go run ./examples/https-io   # https://127.0.0.1:7076, -addr or PORT to change
package main

import (
	_ "embed"
	"fmt"
	"log"
	"os"

	"github.com/expressio-go/expressio/examples/internal/run"
	"github.com/expressio-go/expressio/expressio"
)

//go:embed index.html
var page string

func main() {
	options, err := selfSigned()
	if err != nil {
		fmt.Fprintln(os.Stderr, "https-io:", err)
		os.Exit(1)
	}

	app := expressio.New().HTTPSConfig(options)

	// express.io apps serve socket.io 0.9 and its client.
	if err := app.IO.Enable("legacy"); err != nil {
		log.Fatal(err)
	}

	// build realtime-web app
	app.GET("/", run.Page(page))

	run.Main(app)
}
