// Package redisadapter scales an expressio server out over a real Redis:
// an expressio.Adapter that speaks the wire protocol of Node's
// @socket.io/redis-adapter 8.x, so Go and Node socket.io servers can share
// one cluster.
package redisadapter
