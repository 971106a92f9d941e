'use strict';
// One Node member of the Redis cluster that test/cluster.test.js builds: socket.io 4.8.1
// (allowEIO3, no CORS, path /socket.io/) with @socket.io/redis-adapter 8.3.0 on two node-redis
// v4 clients (pub and sub). It serves the same route contract as the Go fixture's `cluster`
// profile, so a scenario can run through any member of the cluster.
//
//   node lib/cluster-node.js --port P --redis 127.0.0.1:RPORT --node NAME
//   node lib/cluster-node.js -addr 127.0.0.1:P -profile cluster -redis 127.0.0.1:RPORT -node NAME
//
// The second form is the fixture's own command line, so lib/cluster.js starts this program
// through helpers.js's Fixture like a Go fixture (flags take one or two dashes). When it listens
// it prints "listening on 127.0.0.1:P" on stdout and answers GET /healthz with 200, as the
// fixture contract asks. It logs nothing else on stdout; Redis client errors go to stderr
// (each distinct message once per outage) and never crash it, nor do the rejected PUBLISH
// promises the adapter leaves unhandled while Redis is down. On SIGTERM or SIGINT it closes
// the sockets and the Redis clients and exits 0 within 1.5 s.
//
// Routes on namespace "/" (nothing is sent on connection):
//   whoami(ack)                          ack({node, id})
//   join(room, ack) / leave(room, ack)   socket.join / socket.leave; ack(true)
//   bcast(...args)                       io.emit('bcast', ...args)      (the sender gets it too)
//   to({rooms, except, event, args}, ack)  io[.to(rooms)][.except(except)].emit(event, ...args); ack(true)
//   bin(buf, ack)                        io.emit('bin', buf, {nested: buf}); ack(true)
//   remote-join({target, room}, ack)     io.in(target).socketsJoin(room); ack(true)
//   remote-leave({target, room}, ack)    io.in(target).socketsLeave(room); ack(true)
//   remote-disconnect({target, close}, ack)  io.in(target).disconnectSockets(close); ack(true)
//   fetch({rooms}, ack)                  ack([{id, rooms (sorted), data}] sorted by id) from io.in(rooms).fetchSockets()
//   set-data(obj, ack)                   socket.data = obj; ack(true)
//   server-count(ack)                    ack(await adapter.serverCount())
//   all-rooms(ack)                       ack([...await adapter.allRooms()].sort())
//   ssemit(...args)                      io.serverSideEmit('hello', ...args); every member answers
//                                        'hello' with io.local.emit('ss-received', {node, args})
//   ssemit-ack(ack)                      io.serverSideEmitWithAck('ping') → ack({ok, responses (sorted)});
//                                        every member answers 'ping' with cb('pong-' + NAME)
//   emit-ack({rooms}, ack)               io.timeout(3000).to(rooms).emit('question', NAME, cb) →
//                                        ack({err: !!err, responses (sorted)})

const http = require('node:http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');

function usage(msg) {
  process.stderr.write(`cluster-node: ${msg}\nusage: node lib/cluster-node.js --port P --redis HOST:PORT --node NAME\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { host: '127.0.0.1', port: 0, redis: '', node: '' };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) usage(`unexpected argument ${JSON.stringify(argv[i])}`);
    const name = m[1];
    const value = m[2] !== undefined ? m[2] : argv[++i];
    if (value === undefined) usage(`flag -${name} needs a value`);
    switch (name) {
      case 'port':
        o.port = Number(value);
        break;
      case 'addr': {
        const at = value.lastIndexOf(':');
        if (at < 0) usage(`-addr ${value}: want HOST:PORT`);
        o.host = value.slice(0, at) || '127.0.0.1';
        o.port = Number(value.slice(at + 1));
        break;
      }
      case 'redis':
        o.redis = value;
        break;
      case 'node':
        o.node = value;
        break;
      case 'profile':
        if (value !== 'cluster') usage(`only -profile cluster is served here, not ${value}`);
        break;
      default:
        usage(`unknown flag -${name}`);
    }
  }
  if (!Number.isInteger(o.port) || o.port <= 0 || o.port > 65535) usage('a port is needed (--port P or -addr HOST:P)');
  if (!o.redis) usage('--redis HOST:PORT is needed');
  if (!o.node) usage('--node NAME is needed');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const NAME = opts.node;

// @socket.io/redis-adapter does not catch the promise of its PUBLISH: with Redis gone, a
// broadcast would end the process with an unhandled rejection (EPIPE, "The client is closed").
// Such errors are reported on stderr instead; the member keeps serving its local sockets.
process.on('unhandledRejection', (err) => {
  process.stderr.write(`cluster-node ${NAME}: unhandled rejection: ${(err && err.message) || err}\n`);
});

// A Redis client whose errors are reported on stderr, once per distinct message until it is
// ready again (node-redis retries by itself, every 50…500 ms).
function redisClient(role) {
  const client = createClient({
    url: `redis://${opts.redis}`,
    socket: { reconnectStrategy: (retries) => Math.min(50 + retries * 50, 500) },
  });
  let seen = new Set();
  client.on('error', (err) => {
    const msg = (err && err.message) || String(err);
    if (seen.has(msg)) return;
    seen.add(msg);
    process.stderr.write(`cluster-node ${NAME}: redis ${role}: ${msg}\n`);
  });
  client.on('ready', () => {
    if (seen.size) process.stderr.write(`cluster-node ${NAME}: redis ${role}: ready again\n`);
    seen = new Set();
  });
  return client;
}

// Acks with `value` when the client asked for an ack.
function reply(ack, value) {
  if (typeof ack === 'function') ack(value);
}

// The ack callback, when the last argument is one; the other arguments.
function splitAck(args) {
  if (args.length && typeof args[args.length - 1] === 'function') return [args.slice(0, -1), args[args.length - 1]];
  return [args, undefined];
}

function asList(v) {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function byId(a, b) {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

async function main() {
  const pub = redisClient('pub');
  const sub = redisClient('sub');
  await Promise.all([pub.connect(), sub.connect()]);

  const httpServer = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    res.writeHead(404);
    res.end();
  });
  const io = new Server(httpServer, {
    allowEIO3: true,
    path: '/socket.io/',
    adapter: createAdapter(pub, sub),
  });

  io.on('hello', (...args) => {
    io.local.emit('ss-received', { node: NAME, args });
  });
  io.on('ping', (cb) => {
    if (typeof cb === 'function') cb(`pong-${NAME}`);
  });

  io.on('connection', (socket) => {
    // A handler that turns a thrown error into a stderr line instead of a crash.
    const on = (event, fn) => {
      socket.on(event, async (...args) => {
        try {
          await fn(...args);
        } catch (err) {
          process.stderr.write(`cluster-node ${NAME}: '${event}' failed: ${(err && err.stack) || err}\n`);
        }
      });
    };

    on('whoami', (ack) => reply(ack, { node: NAME, id: socket.id }));
    on('join', (room, ack) => {
      socket.join(room);
      reply(ack, true);
    });
    on('leave', (room, ack) => {
      socket.leave(room);
      reply(ack, true);
    });
    on('bcast', (...all) => {
      const [args] = splitAck(all);
      io.emit('bcast', ...args);
    });
    on('to', (o, ack) => {
      const rooms = asList(o && o.rooms);
      const except = asList(o && o.except);
      let op = io;
      if (rooms.length) op = op.to(rooms);
      if (except.length) op = op.except(except);
      op.emit(o.event, ...asList(o.args));
      reply(ack, true);
    });
    on('bin', (buf, ack) => {
      io.emit('bin', buf, { nested: buf });
      reply(ack, true);
    });
    on('remote-join', (o, ack) => {
      io.in(o.target).socketsJoin(o.room);
      reply(ack, true);
    });
    on('remote-leave', (o, ack) => {
      io.in(o.target).socketsLeave(o.room);
      reply(ack, true);
    });
    on('remote-disconnect', (o, ack) => {
      io.in(o.target).disconnectSockets(!!o.close);
      reply(ack, true);
    });
    on('fetch', async (o, ack) => {
      const sockets = await io.in(asList(o && o.rooms)).fetchSockets();
      reply(ack, sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data })).sort(byId));
    });
    on('set-data', (obj, ack) => {
      socket.data = obj;
      reply(ack, true);
    });
    on('server-count', async (ack) => {
      reply(ack, await io.of('/').adapter.serverCount());
    });
    on('all-rooms', async (ack) => {
      reply(ack, [...(await io.of('/').adapter.allRooms())].sort());
    });
    on('ssemit', (...all) => {
      const [args] = splitAck(all);
      io.serverSideEmit('hello', ...args);
    });
    on('ssemit-ack', (ack) => {
      io.serverSideEmitWithAck('ping').then(
        (responses) => reply(ack, { ok: true, responses: responses.sort() }),
        () => reply(ack, { ok: false }),
      );
    });
    on('emit-ack', (o, ack) => {
      io.timeout(3000)
        .to(asList(o && o.rooms))
        .emit('question', NAME, (err, responses) => reply(ack, { err: !!err, responses: (responses || []).sort() }));
    });
  });

  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), 1500).unref();
    io.close(() => {
      Promise.allSettled([pub.disconnect(), sub.disconnect()]).then(() => process.exit(0));
    });
    httpServer.closeAllConnections();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host, resolve);
  });
  process.stdout.write(`listening on ${opts.host}:${opts.port}\n`);
}

main().catch((err) => {
  process.stderr.write(`cluster-node ${NAME}: ${(err && err.stack) || err}\n`);
  process.exit(1);
});
