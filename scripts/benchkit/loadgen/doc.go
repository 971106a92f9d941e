// Command loadgen drives a socket.io server for scripts/bench. It speaks
// the raw wire protocol over WebSocket (transport=websocket from the first
// request, no polling) so that the client is not the bottleneck:
//
//   - Engine.IO 4 + Socket.IO v5 (-eio 4): the server sends the open packet
//     0{...}, the client sends 40 and waits for 40{"sid":...}; the server
//     pings (2) and the client answers (3).
//   - Engine.IO 3 + Socket.IO v4 (-eio 3): the server sends 0{...} and then
//     40 by itself; the client pings (2) every pingInterval of the open
//     packet and the server answers (3).
//   - -eio mixed: even connections use revision 4, odd ones revision 3.
//
// # Usage
//
//	loadgen -url http://127.0.0.1:3000 -scenario connect -n 10000 [-rate 0] [-concurrency 200] [-hold 30s]
//	loadgen -url http://127.0.0.1:3000 -scenario ack -clients 100 -duration 10s [-payload 16] [-warmup 0]
//	loadgen -url http://127.0.0.1:3000 -scenario broadcast -receivers 1000 -duration 10s [-window 1]
//
// Common flags: -eio 4|3|mixed, -source-ips 127.0.0.1,127.0.0.2 (spread
// connections over local source addresses), -timeout 2m (global bound),
// -connect-timeout 10s (one handshake), -concurrency 200 (handshakes in
// flight), -engine epoll|goroutine, -path /socket.io/.
//
// # Engines
//
// gorilla/websocket always performs the handshakes. With -engine goroutine
// every connection then has a reader goroutine that reads through
// gorilla/websocket. With -engine epoll (the default; Linux only, else it
// falls back) the generator takes a duplicate of each socket, closes
// gorilla's, and one goroutine reads every socket from an epoll set that
// sits in Go's netpoller, doing the WebSocket framing itself (wsframe.go).
// Bytes gorilla/websocket had buffered past the handshake are recovered
// from a record of what it read. A receiver with data then costs one
// read(2), where the netpoller costs a second one that fails with EAGAIN;
// idle connections cost no goroutine.
//
// The server must serve, on the root namespace, "echo" (ack its arguments)
// and "bcast" (broadcast its arguments as "bcast" to every socket; acking
// the sender is optional), as compat/fixture's bench profile does.
//
// # Scenarios
//
// connect opens -n connections, at most -concurrency handshakes in flight
// and, when -rate > 0, at most -rate new connections per second. A
// connection counts once its namespace connect (40) arrived. When all are
// done it logs "msg=ready" on stderr (and writes -ready-file if set), then
// keeps them open and idle, answering pings, for -hold or until SIGINT or
// SIGTERM, and closes them all.
//
// ack runs -clients clients that each keep exactly one
// 42<id>["echo","<payload>"] in flight and time each 43<id>["<payload>"].
// Acks of events sent during -warmup are not counted.
//
// broadcast connects -receivers listeners and one sender, which emits
// 42<seq>["bcast",{"t":<unix nanos>,"seq":<seq>}] with at most -window
// broadcasts not yet received by every receiver. Latency is delivery time
// minus t, both read in this process. A broadcast some receiver never gets
// is given up after -bcast-timeout.
//
// # Output
//
// One JSON object on stdout at the end; logs go to stderr. Durations are in
// seconds, latencies in milliseconds:
//
//	{"scenario":"connect","eio":"4","errors":0,"n":10000,"concurrency":200,
//	 "rate":0 (omitted when 0),"source_ips":0 (omitted when 0),
//	 "connected":10000,"failed":0,"connect_seconds":1.8,"conns_per_sec":5555.6,
//	 "connect_p50_ms":..,"connect_p99_ms":..,"hold_seconds":30,"dropped":0}
//	{"scenario":"ack","eio":"4","errors":0,"clients":100,"payload":16,"duration_seconds":10,
//	 "acks":..,"acks_per_sec":..,"p50_ms":..,"p90_ms":..,"p99_ms":..,"p999_ms":..,"max_ms":..,"mean_ms":..}
//	{"scenario":"broadcast","eio":"mixed","errors":0,"receivers":1000,"window":1,"duration_seconds":10,
//	 "broadcasts_sent":..,"broadcasts_completed":..,"broadcasts_incomplete":0,
//	 "deliveries":..,"deliveries_per_sec":..,"p50_ms":..,"p90_ms":..,"p99_ms":..,"p999_ms":..,"max_ms":..,"mean_ms":..,
//	 "receivers_missing":0,"missed_deliveries":0,"missing_sample":[receiver numbers],"sender_acks":..}
//
// connect_p50_ms/connect_p99_ms time one connection's handshake (WebSocket
// and namespace); dropped counts connections lost during the hold. In
// broadcast, deliveries (and the latencies) count only the broadcasts sent
// after -warmup; receivers_missing is how many receivers missed some
// broadcast, missed_deliveries how many deliveries are missing in all, and
// sender_acks how many acks the sender got (0 from a server that does not
// ack bcast).
//
// Every object also has "errors" (count), and when they apply
// "error_samples" (the first few), "timed_out", "interrupted" and "error"
// (why the run could not finish). The exit status is 1 when the run timed
// out, was interrupted before its measurement ended (an interrupted hold
// is normal), or could not set up; 2 for bad flags; 0 otherwise.
package main
