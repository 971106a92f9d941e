// Command backbonejs ports express.io's examples/backbonejs: REST calls in
// Backbone.js's conventions are forwarded to the io routes of
// "collection" (expressio.RouteForward with expressio.Backbone()), whose
// Respond writes the JSON response. The original never ran (see the
// README); this one keeps its routes and makes them work, with an
// in-memory store and a page that makes Backbone's calls with fetch.
//
//	go run ./examples/backbonejs   # open http://127.0.0.1:7076 (-addr or PORT to change)
package main

import (
	_ "embed"
	"log"
	"net/http"

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

	// POST /collection, GET /collection[/id], PUT and DELETE /collection/id
	// go to the io routes collection:create, :read, :update and :delete.
	app.Use(expressio.RouteForward(expressio.Backbone()...))

	cache := newCache()
	notFound := map[string]string{"error": "not found"}

	app.IO.Route("collection", expressio.Routes{
		"read": func(req *expressio.SocketRequest) {
			if id, ok := modelID(req); ok {
				if m, found := cache.get(id); found {
					req.IO.Respond(m)
				} else {
					req.IO.Respond(http.StatusNotFound, notFound)
				}
			} else {
				req.IO.Respond(cache.all())
			}
		},
		"create": func(req *expressio.SocketRequest) {
			var m model
			if err := req.Bind(&m); err != nil || m == nil {
				req.IO.Respond(http.StatusBadRequest, map[string]string{"error": "a model is a JSON object"})
				return
			}
			req.IO.Respond(cache.create(m))
		},
		"update": func(req *expressio.SocketRequest) {
			var m model
			id, ok := modelID(req)
			if err := req.Bind(&m); err != nil || m == nil || !ok {
				req.IO.Respond(http.StatusBadRequest, map[string]string{"error": "a model is a JSON object with an id"})
				return
			}
			if m, found := cache.update(id, m); found {
				req.IO.Respond(m)
			} else {
				req.IO.Respond(http.StatusNotFound, notFound)
			}
		},
		"delete": func(req *expressio.SocketRequest) {
			if id, ok := modelID(req); ok && cache.delete(id) {
				req.IO.Respond()
			} else {
				req.IO.Respond(http.StatusNotFound, notFound)
			}
		},
	})

	// Send the client html.
	app.GET("/", run.Page(page))

	run.Main(app)
}
