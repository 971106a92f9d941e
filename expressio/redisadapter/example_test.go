package redisadapter_test

import (
	"context"
	"log"

	"github.com/redis/go-redis/v9"

	"github.com/expressio-go/expressio/expressio"
	"github.com/expressio-go/expressio/expressio/redisadapter"
)

// Several servers share broadcasts and rooms through one Redis, with each
// other and with Node socket.io servers using @socket.io/redis-adapter.
func Example() {
	app := expressio.New()

	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	adapter, err := redisadapter.New(context.Background(), rdb, nil)
	if err != nil {
		log.Fatal(err) // Redis does not answer
	}
	if err := app.IO.SetAdapter(adapter); err != nil {
		log.Fatal(err)
	}

	app.IO.Route("shout", func(req *expressio.SocketRequest) {
		// Reaches the sockets of every server of the cluster.
		app.IO.Broadcast("shouted", req.Data)
	})
	app.IO.Route("who", func(req *expressio.SocketRequest) {
		sockets, err := app.IO.To("lobby").FetchSockets(req.Context())
		if err != nil {
			log.Print(err)
			return
		}
		req.IO.Respond(len(sockets))
	})
	app.Listen(":7076")
}
