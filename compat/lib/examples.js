'use strict';
// Helpers for test/examples.test.js: builds the example programs of examples/, runs one as a
// child process on a free port, and opens socket.io clients the way the examples' pages do
// (`io.connect()`: default transports, polling then the upgrade to websocket).
//
// Binaries (first match wins):
//   EXPRESSIO_EXAMPLES   a directory holding prebuilt binaries, one per example, named after
//                        it (e.g. `go build -o DIR/ ./examples/...` from the repository root).
//   (fallback)           `go build -o <tmp>/ ./examples/...`, run once from the repository root;
//                        the directory is removed by cleanup().
// EXPRESSIO_FIXTURE_VERBOSE=1 copies the examples' stdout/stderr to our stderr.
//
// Every wait is bounded, and every process started here is killed on exit.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const h = require('./helpers');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const BUILD_TIMEOUT = 300000;
const START_TIMEOUT = 15000;

// ---------------------------------------------------------------------------------------------
// Building

let built = null; // Promise<{dir, temporary}>

// Resolves with the directory holding the example binaries, building them at most once.
function buildExamples() {
  if (!built) {
    built = (async () => {
      if (process.env.EXPRESSIO_EXAMPLES) {
        const dir = path.resolve(process.env.EXPRESSIO_EXAMPLES);
        if (!fs.existsSync(dir)) throw new Error(`EXPRESSIO_EXAMPLES=${dir} does not exist`);
        return { dir, temporary: false };
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'expressio-examples-'));
      try {
        await runCommand('go', ['build', '-o', dir + path.sep, './examples/...'], BUILD_TIMEOUT);
      } catch (err) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      return { dir, temporary: true };
    })();
    h.handled(built);
  }
  return built;
}

function runCommand(cmd, args, timeout) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (c) => (out += c));
    proc.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} took longer than ${timeout} ms\n${out}`));
    }, timeout);
    proc.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}`));
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (code=${code} signal=${signal})\n${out}`));
    });
  });
}

// Removes the binaries when they were built into a temporary directory.
async function cleanup() {
  if (!built) return;
  let b;
  try {
    b = await built;
  } catch {
    return;
  }
  if (b.temporary) fs.rmSync(b.dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Running

const live = new Set();
process.on('exit', () => {
  for (const ex of live) ex.signal('SIGKILL');
});

class Example {
  // name: the directory under examples/; tls: whether it serves HTTPS; args: more
  // command-line arguments after -addr.
  constructor(name, { tls = false, args = [] } = {}) {
    this.name = name;
    this.tls = tls;
    this.args = args;
    this.port = 0;
    this.proc = null;
    this.log = '';
  }

  get url() {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async start() {
    if (this.proc) throw new Error(`example ${this.name} already running`);
    const { dir } = await buildExamples();
    const bin = path.join(dir, this.name + (process.platform === 'win32' ? '.exe' : ''));
    if (!fs.existsSync(bin)) throw new Error(`no binary for example ${this.name} in ${dir}`);
    this.port = await h.freePort();
    const verbose = process.env.EXPRESSIO_FIXTURE_VERBOSE === '1';
    const args = ['-addr', `127.0.0.1:${this.port}`, ...this.args];
    const proc = spawn(bin, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.proc = proc;
    live.add(this);
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => resolve({ code, signal }));
      proc.once('error', (error) => resolve({ code: null, signal: null, error }));
    });
    this.exited.then(() => {
      if (this.proc === proc) this.proc = null;
      live.delete(this);
    });
    const want = `listening on 127.0.0.1:${this.port}`;
    const ready = new Promise((resolve) => {
      let buf = '';
      const onData = (stream) => (chunk) => {
        const s = chunk.toString();
        this.appendLog(s);
        if (verbose) process.stderr.write(`[${this.name}] ${s}`);
        if (stream === 'stdout') {
          buf += s;
          if (buf.includes(want)) resolve();
        }
      };
      proc.stdout.on('data', onData('stdout'));
      proc.stderr.on('data', onData('stderr'));
    });
    const died = this.exited.then(({ code, signal, error }) => {
      throw new Error(`example ${this.name} exited before listening: ${error ? error.message : `code=${code} signal=${signal}`}\n--- output ---\n${this.log.slice(-4000)}`);
    });
    try {
      await h.withTimeout(Promise.race([ready, died]), START_TIMEOUT, `example ${this.name} to print "${want}"`);
    } catch (err) {
      await this.kill();
      throw err;
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

  // Sends `sig` and resolves with {code, signal} once the process has exited; rejects after
  // `timeout` ms (the process is then killed).
  async terminate(sig = 'SIGTERM', timeout = 5000) {
    if (!this.proc) throw new Error(`example ${this.name} is not running`);
    const exited = this.exited;
    this.signal(sig);
    try {
      return await h.withTimeout(exited, timeout, `example ${this.name} to exit after ${sig}`);
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  // SIGKILL; resolves once the process has exited.
  async kill() {
    if (!this.proc) return;
    const exited = this.exited;
    this.signal('SIGKILL');
    await h.withTimeout(exited, 5000, `example ${this.name} to die after SIGKILL`);
  }
}

async function startExample(name, opts) {
  const ex = new Example(name, opts);
  await ex.start();
  return ex;
}

// ---------------------------------------------------------------------------------------------
// Clients

const sockets = new Set();

// Opens a socket the way an example's page does with `io.connect()`: default transports
// (polling, then the upgrade to websocket), without waiting for the connection, so that what
// the caller emits next is buffered until it connects, as on the page. reconnection is off so
// a test never outlives its server. HTTPS URLs accept the examples' self-signed certificate.
// gen 0 (LEGACY) opens socket.io-client 0.9.16 with openLegacy(url).
// The socket carries `socket.compat` like helpers.createSocket's, so helpers.waitConnected
// and helpers.unexpectedEvents work on it.
function open(url, gen) {
  if (gen === LEGACY.gen || gen === LEGACY.pkg || gen === LEGACY.label) return openLegacy(url);
  const c = h.client(gen);
  const io = require(c.pkg);
  const opts = { forceNew: true, reconnection: false, timeout: 3000 };
  if (url.startsWith('https:')) opts.rejectUnauthorized = false;
  const socket = io(url, opts);
  const events = [];
  socket.compat = { client: c, mode: 'upgrade', events };
  for (const ev of ['connect', 'disconnect', 'connect_error', 'connect_timeout', 'error']) {
    socket.on(ev, (...args) => events.push({ ev, args, at: Date.now() }));
  }
  sockets.add(socket);
  return socket;
}

// socket.io-client 0.9.16, express.io's own client (npm alias sio09), as a client entry like
// helpers.CLIENTS' (gen 0: older than every Engine.IO generation).
const LEGACY = (() => {
  const { version } = JSON.parse(fs.readFileSync(require.resolve('sio09/package.json'), 'utf8'));
  return { gen: 0, pkg: 'sio09', version, eio: null, label: `socket.io-client@${version}` };
})();

let io09 = null;
let io09Defaults = null;

// The 0.9 module, and the transports it offers in Node (websocket, xhr-polling: jsonp-polling
// and htmlfile need a document), in its order of preference.
function legacyModule() {
  if (!io09) {
    io09 = require(LEGACY.pkg);
    io09Defaults = [...new Set(io09.transports)];
  }
  return { io: io09, transports: io09Defaults };
}

// Opens a socket.io 0.9 socket like the page's `io.connect()`, without waiting for it to
// connect (what the caller emits is buffered until it does). `transports` limits the
// transports (0.9 reads the module's io.transports, not a connect option; default: all that
// work in Node, websocket first, as on a page); `query` is an object or a query string.
// 'force new connection' gives every call its own connection; reconnect is off. HTTPS URLs
// accept the examples' self-signed certificate: the 0.9 client (xmlhttprequest, ws 0.4) uses
// https.globalAgent, whose rejectUnauthorized is turned off for the rest of the process.
// The returned namespace also answers `connected` and `id` (the session id, the server's
// socket id) and carries `compat` like helpers.createSocket's sockets, so helpers.waitConnected,
// emitAck, waitEvent, unexpectedEvents and closeSocket work on it; disconnect() is safe at
// any time, even before the handshake finished.
function openLegacy(url, { transports, query } = {}) {
  const { io, transports: defaults } = legacyModule();
  if (url.startsWith('https:')) https.globalAgent.options.rejectUnauthorized = false;
  io.transports = [...(transports || defaults)];
  const opts = { 'force new connection': true, reconnect: false, 'connect timeout': 3000 };
  if (query !== undefined) {
    opts.query = typeof query === 'string' ? query : new URLSearchParams(query).toString().replace(/\+/g, '%20');
  }
  const socket = io.connect(url, opts);
  const conn = socket.socket;
  Object.defineProperty(socket, 'connected', { get: () => conn.connected, configurable: true });
  Object.defineProperty(socket, 'id', { get: () => conn.sessionid, configurable: true });
  socket.nsp = '/';
  const events = [];
  socket.compat = { client: LEGACY, mode: transports ? transports.join('+') : 'default', events };
  for (const ev of ['connect', 'disconnect', 'error', 'connect_failed', 'reconnect_failed']) {
    socket.on(ev, (...args) => events.push({ ev, args, at: Date.now() }));
  }
  // 0.9's disconnect() throws before a transport exists, and a handshake still in flight
  // would connect afterwards and keep the process alive: close it as soon as it connects.
  let closed = false;
  socket.on('connect', () => {
    if (closed) conn.disconnect();
  });
  socket.disconnect = () => {
    closed = true;
    if (conn.transport) conn.disconnect();
    else conn.connecting = false;
    clearTimeout(conn.heartbeatTimeoutTimer);
    clearTimeout(conn.connectTimeoutTimer);
    return socket;
  };
  sockets.add(socket);
  return socket;
}

// The transport a socket runs on: 0.9's or the Engine.IO client's.
function transportName(socket) {
  if (socket.compat && socket.compat.client === LEGACY) return socket.socket.transport && socket.socket.transport.name;
  return socket.io.engine.transport.name;
}

function closeAll() {
  for (const s of [...sockets]) {
    sockets.delete(s);
    h.closeSocket(s);
  }
}

// Records every `event` a socket receives, as argument lists.
function record(socket, event) {
  const got = [];
  socket.on(event, (...args) => got.push(args));
  return got;
}

// ---------------------------------------------------------------------------------------------
// HTTP

// GET (or another method) over HTTP or HTTPS (self-signed certificates accepted); resolves
// with {status, headers, body}.
function request(url, { method = 'GET', body, headers = {}, timeout = h.DEFAULT_WAIT } = {}) {
  const mod = url.startsWith('https:') ? https : http;
  const p = new Promise((resolve, reject) => {
    const req = mod.request(url, { method, headers, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeout, () => req.destroy(new Error(`${method} ${url}: no answer within ${timeout} ms`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
  return h.handled(h.withTimeout(p, timeout + 500, `${method} ${url}`));
}

module.exports = {
  REPO_ROOT,
  buildExamples,
  cleanup,
  Example,
  startExample,
  open,
  LEGACY,
  legacyModule,
  openLegacy,
  transportName,
  closeAll,
  record,
  request,
};
