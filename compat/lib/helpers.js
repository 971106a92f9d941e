'use strict';
// Shared helpers for the expressio JS client compatibility suite.
//
// Fixture selection (first match wins):
//   EXPRESSIO_FIXTURE_CMD  a command line, split on whitespace (no shell quoting), e.g.
//                          "node /tmp/ref/server.js"; used to run the suite against another
//                          implementation of the fixture contract (such as a Node socket.io
//                          reference server) to prove the tests themselves are right.
//   EXPRESSIO_FIXTURE      path to a prebuilt fixture binary (scripts/compat sets it).
//   (fallback)             `go run ./compat/fixture`, run from the repository root.
// The helper appends `-addr 127.0.0.1:PORT -profile NAME` and any extra flags, then waits for
// a stdout line "listening on 127.0.0.1:PORT" (or GET /healthz answering 200).
//
// Other knobs:
//   EXPRESSIO_FIXTURE_VERBOSE=1        copy the fixture's stdout/stderr to our stderr.
//   EXPRESSIO_FIXTURE_START_TIMEOUT    ms to wait for the fixture to listen (default 15000,
//                                      180000 for the `go run` fallback).
//
// Every wait in here is bounded, so a broken server fails a test quickly instead of hanging.

const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const fs = require('node:fs');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const DEFAULT_WAIT = 5000;

// ---------------------------------------------------------------------------------------------
// Promise helpers

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Races `promise` against a timer; the error names what we were waiting for.
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Resolves with the argument list of the next `event` on an emitter (component-emitter,
// Node EventEmitter or the socket.io 3/4 emitters). Rejects after `ms`, or at once when one of
// `failOn` fires first (e.g. 'disconnect', 'connect_error').
function waitEvent(emitter, event, { timeout = DEFAULT_WAIT, failOn = [], what } = {}) {
  const label = what || `'${event}'`;
  const handlers = [];
  const off = () => {
    for (const [ev, fn] of handlers) removeListener(emitter, ev, fn);
  };
  const p = new Promise((resolve, reject) => {
    const onEvent = (...args) => {
      off();
      resolve(args);
    };
    handlers.push([event, onEvent]);
    emitter.on(event, onEvent);
    for (const ev of failOn) {
      const onFail = (...args) => {
        off();
        reject(new Error(`got '${ev}' (${describeArgs(args)}) while waiting for ${label}`));
      };
      handlers.push([ev, onFail]);
      emitter.on(ev, onFail);
    }
  });
  return handled(
    withTimeout(p, timeout, label).catch((err) => {
      off();
      throw err;
    }),
  );
}

// Marks a promise as handled so that it may be awaited later without an unhandled-rejection
// warning in between; awaiting it still throws.
function handled(promise) {
  promise.catch(() => {});
  return promise;
}

function removeListener(emitter, ev, fn) {
  if (typeof emitter.off === 'function') emitter.off(ev, fn);
  else if (typeof emitter.removeListener === 'function') emitter.removeListener(ev, fn);
}

function describeArgs(args) {
  return args
    .map((a) => {
      if (a instanceof Error) return `${a.name}: ${a.message}${a.data !== undefined ? ' data=' + safeJSON(a.data) : ''}${a.description ? ' description=' + safeJSON(String(a.description)) : ''}`;
      return safeJSON(a);
    })
    .join(', ');
}

function safeJSON(v) {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

// Emits `event` with `args` and resolves with the ack's argument list.
function emitAck(socket, event, ...args) {
  return emitAckWithin(DEFAULT_WAIT, socket, event, ...args);
}

function emitAckWithin(ms, socket, event, ...args) {
  const p = new Promise((resolve) => {
    socket.emit(event, ...args, (...ackArgs) => resolve(ackArgs));
  });
  return handled(withTimeout(p, ms, `the ack of '${event}' on ${socket.nsp || '?'}`));
}

// Retries `fn` until it returns a truthy value or `ms` elapses; returns the last value.
async function poll(fn, { timeout = 2000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() >= deadline) return last;
    await sleep(interval);
  }
}

// Converts every Buffer/ArrayBuffer/typed array inside `v` to a Buffer, so payloads decoded by
// different client generations compare with assert.deepStrictEqual.
function normalizeBinary(v) {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (v instanceof ArrayBuffer) return Buffer.from(new Uint8Array(v));
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(normalizeBinary);
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v)) out[k] = normalizeBinary(v[k]);
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Fixture process

const live = new Set(); // fixtures whose process may still run; killed on exit

process.on('exit', () => {
  for (const fx of live) fx.killNow();
});

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function fixtureCommand() {
  if (process.env.EXPRESSIO_FIXTURE_CMD) {
    const words = process.env.EXPRESSIO_FIXTURE_CMD.trim().split(/\s+/);
    return { cmd: words[0], args: words.slice(1), cwd: REPO_ROOT, startTimeout: 15000, label: process.env.EXPRESSIO_FIXTURE_CMD };
  }
  if (process.env.EXPRESSIO_FIXTURE) {
    const bin = path.resolve(process.env.EXPRESSIO_FIXTURE);
    if (!fs.existsSync(bin)) throw new Error(`EXPRESSIO_FIXTURE=${bin} does not exist`);
    return { cmd: bin, args: [], cwd: REPO_ROOT, startTimeout: 15000, label: bin };
  }
  return { cmd: 'go', args: ['run', './compat/fixture'], cwd: REPO_ROOT, startTimeout: 180000, label: 'go run ./compat/fixture' };
}

class Fixture {
  // profile: fixture -profile value; flags: extra command-line flags (array of strings).
  constructor(profile, flags = []) {
    this.profile = profile;
    this.flags = flags;
    this.port = 0;
    this.proc = null;
    this.log = '';
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.port}`;
  }

  async start() {
    if (this.proc) throw new Error('fixture already running');
    if (!this.port) this.port = await freePort();
    const c = fixtureCommand();
    const startTimeout = Number(process.env.EXPRESSIO_FIXTURE_START_TIMEOUT) || c.startTimeout;
    const args = [...c.args, '-addr', `127.0.0.1:${this.port}`, '-profile', this.profile, ...this.flags];
    const verbose = process.env.EXPRESSIO_FIXTURE_VERBOSE === '1';
    // A process group of its own, so `go run` and its child die together.
    const proc = spawn(c.cmd, args, { cwd: c.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.proc = proc;
    live.add(this);
    const exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => resolve({ code, signal }));
      proc.once('error', (err) => resolve({ code: null, signal: null, error: err }));
    });
    this.exited = exited;
    exited.then(() => {
      if (this.proc === proc) this.proc = null;
      live.delete(this);
    });

    const ready = new Promise((resolve) => {
      let buf = '';
      const want = `listening on 127.0.0.1:${this.port}`;
      proc.stdout.on('data', (chunk) => {
        const s = chunk.toString();
        this.appendLog(s);
        if (verbose) process.stderr.write(`[fixture ${this.profile}] ${s}`);
        buf += s;
        if (buf.includes(want)) resolve('stdout');
        if (buf.length > 65536) buf = buf.slice(-1024);
      });
      proc.stderr.on('data', (chunk) => {
        const s = chunk.toString();
        this.appendLog(s);
        if (verbose) process.stderr.write(`[fixture ${this.profile}] ${s}`);
      });
    });
    let stopPolling = false;
    const healthy = (async () => {
      while (!stopPolling) {
        await sleep(100);
        try {
          const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
          await res.arrayBuffer().catch(() => {});
          if (res.status === 200) return 'healthz';
        } catch {
          // not up yet
        }
      }
      return new Promise(() => {});
    })();
    const died = exited.then(({ code, signal, error }) => {
      throw new Error(
        `fixture (${c.label} ${args.join(' ')}) exited before listening: ` +
          (error ? error.message : `code=${code} signal=${signal}`) +
          `\n--- fixture output ---\n${this.log.slice(-4000)}`,
      );
    });
    try {
      await withTimeout(Promise.race([ready, healthy, died]), startTimeout, `fixture ${this.profile} to listen on port ${this.port} (${c.label})`);
    } catch (err) {
      await this.stop();
      if (!err.message.includes('fixture output')) err.message += `\n--- fixture output ---\n${this.log.slice(-4000)}`;
      throw err;
    } finally {
      stopPolling = true;
    }
    return this;
  }

  appendLog(s) {
    this.log += s;
    if (this.log.length > 200000) this.log = this.log.slice(-100000);
  }

  signal(sig) {
    const proc = this.proc;
    if (!proc || proc.pid === undefined) return;
    try {
      process.kill(-proc.pid, sig);
    } catch {
      try {
        proc.kill(sig);
      } catch {
        // already gone
      }
    }
  }

  killNow() {
    this.signal('SIGKILL');
  }

  // SIGTERM, then SIGKILL after 2 s; resolves once the process has exited.
  async stop() {
    const proc = this.proc;
    if (!proc) return;
    this.signal('SIGTERM');
    const exited = this.exited;
    const gone = await Promise.race([exited.then(() => true), sleep(2000).then(() => false)]);
    if (!gone) {
      this.signal('SIGKILL');
      await withTimeout(exited, 5000, 'fixture to die after SIGKILL');
    }
    // The group may still hold children (go run): make sure they are gone too.
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      // no such group any more
    }
    this.proc = null;
    live.delete(this);
  }

  // Kills the fixture and starts it again on the same port.
  async restart() {
    await this.stop();
    let lastErr;
    for (let i = 0; i < 5; i++) {
      try {
        return await this.start();
      } catch (err) {
        // The port may take a moment to be free again.
        lastErr = err;
        await sleep(200);
      }
    }
    throw lastErr;
  }
}

async function startFixture(profile, flags = []) {
  const fx = new Fixture(profile, flags);
  await fx.start();
  return fx;
}

// ---------------------------------------------------------------------------------------------
// socket.io clients

// The pinned clients, by generation. `pkg` is the npm alias in package.json.
const CLIENTS = [
  { gen: 1, pkg: 'sio1' },
  { gen: 2, pkg: 'sio2' },
  { gen: 3, pkg: 'sio3' },
  { gen: 4, pkg: 'sio4' },
].map((c) => {
  const pkgJson = JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve(`${c.pkg}/package.json`)), 'package.json'), 'utf8'));
  return { ...c, version: pkgJson.version, eio: c.gen <= 2 ? 3 : 4, label: `socket.io-client@${pkgJson.version}` };
});

const MODES = ['polling', 'websocket', 'upgrade'];

function client(versionOrGen) {
  const c = CLIENTS.find((x) => x.gen === versionOrGen || x.version === versionOrGen || x.pkg === versionOrGen || x.label === versionOrGen);
  if (!c) throw new Error(`unknown client ${versionOrGen}`);
  return c;
}

function loadClient(c) {
  return require(c.pkg);
}

const openSockets = new Set();

// Creates a socket without waiting for it to connect, with the options each generation needs.
//   version: 1..4, '4.8.4', 'sio4'... (see client()); mode: polling | websocket | upgrade
//   opts: { nsp, auth, query, reconnection, reconnectionDelay, reconnectionDelayMax, timeout,
//           manager (an existing Manager: the socket is opened on it with manager.socket()) }
// The returned socket carries `socket.compat = {client, mode, events: [...]}`: a log of
// connect/disconnect/error events and engine heartbeats, for assertions.
function createSocket(url, version, mode, opts = {}) {
  const c = client(version);
  if (!MODES.includes(mode)) throw new Error(`unknown mode ${mode}`);
  if (opts.auth && c.gen < 3) throw new Error(`socket.io-client ${c.version} has no auth option`);
  const io = loadClient(c);
  const o = {
    forceNew: true,
    reconnection: opts.reconnection === true,
    timeout: opts.timeout || 3000,
  };
  if (mode === 'polling') o.transports = ['polling'];
  else if (mode === 'websocket') o.transports = ['websocket'];
  else o.transports = ['polling', 'websocket'];
  if (opts.reconnection) {
    o.reconnectionDelay = opts.reconnectionDelay ?? 100;
    o.reconnectionDelayMax = opts.reconnectionDelayMax ?? 500;
    o.randomizationFactor = opts.randomizationFactor ?? 0.1;
    if (opts.reconnectionAttempts !== undefined) o.reconnectionAttempts = opts.reconnectionAttempts;
  }
  if (opts.query !== undefined) o.query = opts.query;
  if (opts.auth !== undefined) o.auth = opts.auth;

  let socket;
  const nsp = opts.nsp || '/';
  if (opts.manager) {
    const so = {};
    if (opts.query !== undefined) so.query = typeof opts.query === 'object' && c.gen <= 2 ? new URLSearchParams(opts.query).toString().replace(/\+/g, '%20') : opts.query;
    if (opts.auth !== undefined) so.auth = opts.auth;
    socket = opts.manager.socket(nsp, so);
  } else {
    socket = io(url + (nsp === '/' ? '' : nsp), o);
  }
  const events = [];
  socket.compat = { client: c, mode, events, pongs: 0 };
  for (const ev of ['connect', 'disconnect', 'connect_error', 'connect_timeout', 'error']) {
    socket.on(ev, (...args) => events.push({ ev, args, at: Date.now() }));
  }
  const manager = socket.io;
  if (!manager.compatTracked) {
    manager.compatTracked = true;
    const trackEngine = (engine) => {
      if (!engine || engine.compatTracked) return;
      engine.compatTracked = true;
      engine.on('pong', () => {
        manager.compatPongs = (manager.compatPongs || 0) + 1;
      });
      engine.on('upgradeError', (err) => {
        manager.compatUpgradeError = err;
      });
    };
    manager.compatPongs = 0;
    trackEngine(manager.engine);
    manager.on('open', () => trackEngine(manager.engine));
  }
  openSockets.add(socket);
  return socket;
}

// Waits until `socket` is connected; in upgrade mode also until its engine runs on websocket.
async function waitConnected(socket, { timeout = DEFAULT_WAIT } = {}) {
  const { client: c, mode } = socket.compat;
  const what = `${c.label} (${mode}) to connect to ${socket.nsp}`;
  if (!socket.connected) {
    await waitEvent(socket, 'connect', { timeout, failOn: ['connect_error', 'connect_timeout', 'error', 'disconnect'], what });
  }
  if (mode === 'upgrade') await waitUpgraded(socket, { timeout });
  return socket;
}

async function waitUpgraded(socket, { timeout = DEFAULT_WAIT } = {}) {
  const manager = socket.io;
  const deadline = Date.now() + timeout;
  while (!(manager.engine && manager.engine.transport && manager.engine.transport.name === 'websocket')) {
    if (manager.compatUpgradeError) {
      throw new Error(`upgrade to websocket failed: ${describeArgs([manager.compatUpgradeError])}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for the engine to upgrade to websocket (transport: ${manager.engine && manager.engine.transport && manager.engine.transport.name})`);
    }
    await sleep(20);
  }
}

// createSocket + waitConnected.
async function connect(url, version, mode, opts = {}) {
  const socket = createSocket(url, version, mode, opts);
  try {
    await waitConnected(socket, opts);
  } catch (err) {
    closeSocket(socket);
    throw err;
  }
  return socket;
}

// Closes one socket and its whole manager (engine, timers), so node can exit.
function closeSocket(socket) {
  openSockets.delete(socket);
  const m = socket.io;
  try {
    if (m) {
      if (typeof m.reconnection === 'function') m.reconnection(false);
      m.skipReconnect = true;
    }
    socket.disconnect();
  } catch {
    // ignore
  }
  try {
    if (m) {
      if (typeof m.disconnect === 'function') m.disconnect();
      else if (typeof m._close === 'function') m._close();
      if (m.engine && typeof m.engine.close === 'function') m.engine.close();
    }
  } catch {
    // ignore
  }
}

function closeAllSockets() {
  for (const s of [...openSockets]) closeSocket(s);
}

// Disconnect/error events a socket has seen since it was created.
function unexpectedEvents(socket) {
  return socket.compat.events.filter((e) => e.ev !== 'connect').map((e) => `${e.ev}(${describeArgs(e.args)})`);
}

module.exports = {
  CLIENTS,
  MODES,
  DEFAULT_WAIT,
  Fixture,
  startFixture,
  freePort,
  client,
  createSocket,
  connect,
  waitConnected,
  waitUpgraded,
  closeSocket,
  closeAllSockets,
  unexpectedEvents,
  sleep,
  withTimeout,
  handled,
  waitEvent,
  emitAck,
  emitAckWithin,
  poll,
  normalizeBinary,
  describeArgs,
};
