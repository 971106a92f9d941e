#!/usr/bin/env node
// The Node socket.io 4.8 server scripts/bench compares expressio with. It
// has the routes of the Go fixture's bench profile (compat/fixture,
// -profile bench):
//
//   - "echo" acks its arguments back;
//   - "bcast" sends its arguments to every socket of "/" (the sender too)
//     as a "bcast" event, and acks the sender, with no arguments, when it
//     asked for an ack.
//
// Usage: node server.js --addr 127.0.0.1:PORT
//
// Options are socket.io's defaults (pingInterval 25 s, pingTimeout 20 s,
// maxHttpBufferSize 1e6, no perMessageDeflate) except allowEIO3: true, so
// that socket.io-client 1.x/2.x (Engine.IO 3) clients connect too, and
// serveClient: false. It prints "listening on HOST:PORT" once it accepts
// connections and exits 0 on SIGINT or SIGTERM. Nothing is logged per
// event.
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

function parseArgs(argv) {
  let addr = "127.0.0.1:3000";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--addr" || a === "-addr") {
      if (i + 1 >= argv.length) usage("--addr needs a value");
      addr = argv[++i];
    } else if (a.startsWith("--addr=") || a.startsWith("-addr=")) {
      addr = a.slice(a.indexOf("=") + 1);
    } else {
      usage(`unknown argument ${a}`);
    }
  }
  const colon = addr.lastIndexOf(":");
  if (colon < 0) usage(`--addr ${addr}: want HOST:PORT`);
  let host = addr.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = Number(addr.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--addr ${addr}: bad port`);
  return { host: host || "0.0.0.0", port };
}

function usage(msg) {
  process.stderr.write(`server.js: ${msg}\nusage: node server.js --addr HOST:PORT\n`);
  process.exit(2);
}

const { host, port } = parseArgs(process.argv.slice(2));

const httpServer = http.createServer();
const io = new Server(httpServer, { allowEIO3: true, serveClient: false });

io.on("connection", (socket) => {
  socket.on("echo", (...args) => {
    const ack = args[args.length - 1];
    if (typeof ack === "function") {
      args.pop();
      ack(...args);
    }
  });
  socket.on("bcast", (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    io.emit("bcast", ...args);
    if (ack) ack();
  });
});

httpServer.on("error", (err) => {
  process.stderr.write(`server.js: ${err.message}\n`);
  process.exit(1);
});

httpServer.listen(port, host, () => {
  const a = httpServer.address();
  const h = a.family === "IPv6" || a.family === 6 ? `[${a.address}]` : a.address;
  process.stdout.write(`listening on ${h}:${a.port}\n`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  // Bounded, like the Go servers' 3 s graceful shutdown.
  setTimeout(() => process.exit(0), 3000).unref();
  io.close(() => process.exit(0));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
