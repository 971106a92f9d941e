'use strict';
// The harness of test/cluster.test.js: a Redis-backed socket.io cluster of Go fixtures
// (`-profile cluster -redis ADDR -node NAME`) and Node socket.io 4.8 servers (lib/cluster-node.js,
// @socket.io/redis-adapter 8.x), all on one real redis-server (lib/redis.js), and clients on its
// members.
//
//   const { startCluster, connectClient } = require('../lib/cluster');
//   const cluster = await startCluster({ goNodes: 2, nodeNodes: 1 });   // go1, go2, node
//   const c = await connectClient(cluster.member('go1'));              // sio4, websocket
//   await c.emitAck('join', 'room');                                   // the ack's first argument
//   const got = c.collect('bcast');                                    // every 'bcast', as arg lists
//   await cluster.stop();
//
// CLUSTER_ALL_NODE=1 runs lib/cluster-node.js for the go* members too (same names, kind
// 'node'): the scenarios then run against Node's adapter alone, which proves the tests right.
//
// Members are started through helpers.js's Fixture (its process group, readiness wait on
// "listening on 127.0.0.1:PORT" or /healthz, SIGTERM then SIGKILL, kill on exit), the Node ones
// by handing it lib/cluster-node.js as its command. Every wait here is bounded.

const path = require('node:path');
const h = require('./helpers');
const { startRedis } = require('./redis');

const WAIT = 3000;
const CLUSTER_NODE = path.join(__dirname, 'cluster-node.js');
const ALL_NODE = process.env.CLUSTER_ALL_NODE === '1';
// The channel every member subscribes to for requests on "/" (redis-adapter's requestChannel).
const REQUEST_CHANNEL = 'socket.io-request#/#';

// ---------------------------------------------------------------------------------------------
// Members

// A Node member: helpers.js's Fixture running `node lib/cluster-node.js -addr … -profile
// cluster -redis … -node …`. Fixture.start() reads its command from EXPRESSIO_FIXTURE_CMD
// synchronously before its first await once the port is known, so the variable is set around
// that call only; the spawned command line is then checked, in case helpers.js changes.
class NodeMember extends h.Fixture {
  constructor(flags) {
    super('cluster', flags);
  }

  async start() {
    if (!this.port) this.port = await h.freePort();
    const command = `${process.execPath} ${CLUSTER_NODE}`;
    if (/\s/.test(process.execPath) || /\s/.test(CLUSTER_NODE)) {
      throw new Error(`cannot start ${command}: EXPRESSIO_FIXTURE_CMD is split on whitespace`);
    }
    const saved = process.env.EXPRESSIO_FIXTURE_CMD;
    process.env.EXPRESSIO_FIXTURE_CMD = command;
    let started;
    try {
      started = super.start();
    } finally {
      if (saved === undefined) delete process.env.EXPRESSIO_FIXTURE_CMD;
      else process.env.EXPRESSIO_FIXTURE_CMD = saved;
    }
    const spawned = this.proc && this.proc.spawnargs;
    if (!spawned || !spawned.includes(CLUSTER_NODE)) {
      started.catch(() => {});
      await this.stop();
      throw new Error(`helpers.Fixture did not run ${CLUSTER_NODE} (it ran ${JSON.stringify(spawned)})`);
    }
    return started;
  }
}

function memberNames(n, prefix) {
  if (n === 1 && prefix === 'node') return ['node'];
  return Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
}

// Starts redis-server, then `goNodes` Go fixtures (go1, go2…) and `nodeNodes` Node servers
// ('node', or node1, node2… when more than one), all at once. Resolves with
//   { redis, members: [{name, kind: 'go'|'node', url, port, fixture}], member(name),
//     settled: {ok, numsub}, stop() }
// `settled` tells whether Redis saw every member subscribe to the request channel of "/"
// within 5 s (it is not an error here: the server-count test says what is wrong).
async function startCluster({ goNodes = 2, nodeNodes = 1, allNode = ALL_NODE, startTimeout } = {}) {
  const redis = await startRedis();
  const members = [];
  const stop = async () => {
    await Promise.allSettled(members.map((m) => m.fixture.stop()));
    await redis.stop();
  };
  try {
    const specs = [...memberNames(goNodes, 'go').map((name) => ({ name, kind: allNode ? 'node' : 'go' })), ...memberNames(nodeNodes, 'node').map((name) => ({ name, kind: 'node' }))];
    for (const s of specs) {
      const flags = ['-redis', redis.addr, '-node', s.name];
      const fixture = s.kind === 'go' ? new h.Fixture('cluster', flags) : new NodeMember(flags);
      members.push({
        name: s.name,
        kind: s.kind,
        fixture,
        get url() {
          return fixture.url;
        },
        get port() {
          return fixture.port;
        },
      });
    }
    const results = await Promise.allSettled(members.map((m) => (startTimeout ? h.withTimeout(m.fixture.start(), startTimeout, `${m.name} to start`) : m.fixture.start())));
    const failed = results.map((r, i) => (r.status === 'rejected' ? `${members[i].name}: ${r.reason && r.reason.message}` : null)).filter(Boolean);
    if (failed.length) throw new Error(`cluster members failed to start:\n${failed.join('\n')}`);
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  const cluster = {
    redis,
    members,
    allNode,
    member(name) {
      const m = members.find((x) => x.name === name);
      if (!m) throw new Error(`no cluster member ${name} (have ${members.map((x) => x.name).join(', ')})`);
      return m;
    },
    // The output of every member, for failure messages.
    logs() {
      return members.map((m) => `--- ${m.name} (${m.kind}) ---\n${m.fixture.log.slice(-3000)}`).join('\n');
    },
    stop,
    settled: null,
  };
  cluster.settled = await waitSubscribed(redis, members.length);
  return cluster;
}

// Polls PUBSUB NUMSUB on the request channel of "/" until `n` subscribers are counted (5 s).
async function waitSubscribed(redis, n, timeout = 5000) {
  let numsub = null;
  const ok = await h.poll(
    async () => {
      try {
        const reply = await redis.command('PUBSUB', 'NUMSUB', REQUEST_CHANNEL);
        numsub = Array.isArray(reply) ? Number(reply[1]) : null;
      } catch {
        numsub = null;
      }
      return numsub === n;
    },
    { timeout, interval: 50 },
  );
  return { ok: !!ok, numsub };
}

// ---------------------------------------------------------------------------------------------
// Clients

// Retries `fn` until it returns a truthy value; throws after `timeout` ms, naming `what` and
// adding `detail()` (when given) to the message.
async function waitUntil(fn, { timeout = WAIT, interval = 20, what = 'a condition', detail } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${detail ? `: ${detail()}` : ''}`);
    }
    await h.sleep(interval);
  }
}

const clients = new Set();

// A connected socket.io client on one cluster member, with promise-friendly helpers.
//   id      the server-side socket id (from 'whoami'; a 2.x client's own socket.id differs)
//   label   what it answers to the 'question' broadcast-with-ack
class Client {
  constructor(socket, member, label) {
    this.socket = socket;
    this.member = member;
    this.label = label;
    this.id = null;
    this.disconnects = [];
    socket.on('disconnect', (reason) => this.disconnects.push(reason));
    socket.on('question', (from, cb) => {
      if (typeof cb === 'function') cb(this.label);
    });
  }

  get name() {
    return `${this.label} (${this.socket.compat.client.label} ${this.socket.compat.mode} on ${this.member.name})`;
  }

  get connected() {
    return this.socket.connected;
  }

  emit(event, ...args) {
    this.socket.emit(event, ...args);
  }

  // Emits and resolves with the ack's first argument, within `WAIT` ms.
  async emitAck(event, ...args) {
    return this.emitAckWithin(WAIT, event, ...args);
  }

  // Fails at once if the client is or gets disconnected meanwhile.
  async emitAckWithin(ms, event, ...args) {
    const socket = this.socket;
    if (!socket.connected) throw new Error(`${this.name} is disconnected (${this.disconnects.join(', ')}); cannot emit '${event}'`);
    let onDisconnect;
    const p = new Promise((resolve, reject) => {
      onDisconnect = (reason) => reject(new Error(`${this.name} was disconnected (${reason}) while waiting for the ack of '${event}'`));
      socket.on('disconnect', onDisconnect);
      socket.emit(event, ...args, (first) => resolve(first));
    });
    try {
      return await h.withTimeout(p, ms, `the ack of '${event}' from ${this.member.name} to ${this.name}`);
    } finally {
      socket.off('disconnect', onDisconnect);
    }
  }

  // The argument list of the next `event` (that `match` accepts, when given), within `timeout`.
  waitFor(event, { timeout = WAIT, match } = {}) {
    const socket = this.socket;
    let onEvent;
    const p = new Promise((resolve) => {
      onEvent = (...args) => {
        if (match && !match(...args)) return;
        socket.off(event, onEvent);
        resolve(args);
      };
      socket.on(event, onEvent);
    });
    return h.handled(
      h.withTimeout(p, timeout, `'${event}' on ${this.name}`).catch((err) => {
        socket.off(event, onEvent);
        throw err;
      }),
    );
  }

  // A live array of the argument lists of every `event` from now on.
  collect(event) {
    const got = [];
    this.socket.on(event, (...args) => got.push(args));
    return got;
  }

  close() {
    clients.delete(this);
    h.closeSocket(this.socket);
  }
}

// Connects a client to `member` and asks it 'whoami' (which must name the member).
//   version: 4 (default), 2, or anything helpers.client() takes; mode: websocket (default),
//   polling or upgrade; label: what it answers to 'question' (default: a unique name).
let seq = 0;
async function connectClient(member, { version = 4, mode = 'websocket', label } = {}) {
  seq++;
  const socket = await h.connect(member.url, version, mode, { reconnection: false, timeout: WAIT });
  const c = new Client(socket, member, label || `c${seq}-${member.name}`);
  clients.add(c);
  try {
    const who = await c.emitAck('whoami');
    if (!who || who.node !== member.name || typeof who.id !== 'string' || !who.id) {
      throw new Error(`whoami on ${member.name} answered ${JSON.stringify(who)}`);
    }
    c.id = who.id;
  } catch (err) {
    c.close();
    throw err;
  }
  return c;
}

function closeAllClients() {
  for (const c of [...clients]) c.close();
}

module.exports = {
  WAIT,
  ALL_NODE,
  CLUSTER_NODE,
  REQUEST_CHANNEL,
  NodeMember,
  startCluster,
  connectClient,
  closeAllClients,
  waitUntil,
  Client,
};
