'use strict';
// A real redis-server for the tests that need one (test/sessions.test.js): started as a child
// process on a free loopback port, with persistence off, and stopped at the end.
//
//   const { startRedis } = require('../lib/redis');
//   const redis = await startRedis();   // redis.addr is '127.0.0.1:PORT'
//   await redis.command('DBSIZE');      // a raw RESP command over TCP
//   await redis.kill();                 // SIGKILL, as a crash (test/cluster.test.js)
//   await redis.restart();              // a fresh, empty redis-server on the same port
//   await redis.stop();
//
// A missing redis-server fails the test (scripts/setup installs it); it is never skipped.
// Every wait is bounded, and a server still running when node exits is killed.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const h = require('./helpers');

const WAIT = 3000;

const live = new Set();
process.on('exit', () => {
  for (const r of live) r.killNow();
});

// The path of redis-server on PATH, or null.
function findRedisServer() {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, 'redis-server');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

function missingError() {
  const where = process.env.CI ? ' (CI: the image must provide it)' : '';
  return new Error(`redis-server missing: run scripts/setup${where}; these tests need a real Redis and are never skipped`);
}

// Sends one command in RESP and resolves with the parsed reply (a string, number, null, array,
// or an Error for a Redis error reply). Bounded by `timeout`.
function command(port, args, { timeout = WAIT } = {}) {
  const p = new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    sock.on('connect', () => {
      let out = `*${args.length}\r\n`;
      for (const a of args) {
        const s = String(a);
        out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
      }
      sock.write(out);
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const parsed = parseReply(buf, 0);
      if (parsed) {
        sock.destroy();
        resolve(parsed.value);
      }
    });
    sock.on('error', (err) => reject(err));
    sock.on('close', () => reject(new Error(`redis on port ${port} closed the connection before replying to ${args[0]}`)));
  });
  return h.handled(h.withTimeout(p, timeout, `redis ${args[0]} on port ${port}`));
}

// Parses one RESP reply at `at`; returns {value, end} or null when `buf` holds only part of it.
function parseReply(buf, at) {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new Error(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.subarray(next, next + n), end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, pos);
        if (!item) return null;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      return { value: new Error(`unexpected RESP reply ${JSON.stringify(buf.toString('utf8', at, eol))}`), end: next };
  }
}

// Resolves once redis on `port` answers PING with +PONG, through a raw "PING\r\n".
async function waitPong(port, exited, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const reply = await h.withTimeout(
        new Promise((resolve, reject) => {
          const sock = net.connect(port, '127.0.0.1');
          let got = '';
          sock.on('connect', () => sock.write('PING\r\n'));
          sock.on('data', (c) => {
            got += c;
            if (got.includes('\r\n')) {
              sock.destroy();
              resolve(got);
            }
          });
          sock.on('error', reject);
          sock.on('close', () => reject(new Error(`connection closed after ${JSON.stringify(got)}`)));
        }),
        500,
        'PONG',
      );
      if (reply.startsWith('+PONG')) return;
      last = new Error(`PING answered ${JSON.stringify(reply)}`);
    } catch (err) {
      last = err;
    }
    if (exited.done) throw new Error(`redis-server exited (code=${exited.code} signal=${exited.signal})`);
    if (Date.now() >= deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeout} ms: ${last && last.message}`);
    await h.sleep(50);
  }
}

class Redis {
  constructor() {
    this.port = 0;
    this.proc = null;
    this.log = '';
  }

  get addr() {
    return `127.0.0.1:${this.port}`;
  }

  async start() {
    const bin = requireRedisServer();
    let lastErr;
    // The free port may be taken between freePort() and redis binding it: try a few.
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = await h.freePort();
      try {
        await this.spawn(bin);
        return this;
      } catch (err) {
        lastErr = err;
        await this.stop().catch(() => {});
      }
    }
    throw lastErr;
  }

  async spawn(bin) {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const proc = spawn(bin, args, { cwd: require('node:os').tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    live.add(this);
    const state = { done: false };
    this.exited = new Promise((resolve) => {
      const done = (code, signal, error) => {
        if (state.done) return;
        Object.assign(state, { done: true, code, signal, error });
        live.delete(this);
        if (this.proc === proc) this.proc = null;
        resolve(state);
      };
      proc.once('exit', (code, signal) => done(code, signal));
      proc.once('error', (err) => done(null, null, err));
    });
    const onData = (c) => {
      this.log += c;
      if (this.log.length > 20000) this.log = this.log.slice(-10000);
      if (process.env.EXPRESSIO_FIXTURE_VERBOSE === '1') process.stderr.write(`[redis] ${c}`);
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    try {
      await waitPong(this.port, state);
    } catch (err) {
      if (state.error && state.error.code === 'ENOENT') throw missingError();
      err.message += `\n--- redis-server output ---\n${this.log.slice(-3000)}`;
      throw err;
    }
  }

  // A raw RESP command, e.g. command('KEYS', 'session_*').
  command(...args) {
    return command(this.port, args);
  }

  // SIGTERM, then SIGKILL if it has not exited within the bound.
  async stop() {
    const proc = this.proc;
    if (!proc) return;
    const exited = this.exited;
    try {
      proc.kill('SIGTERM');
    } catch {
      // already gone
    }
    try {
      await h.withTimeout(exited, WAIT, 'redis-server to exit after SIGTERM');
    } catch {
      this.killNow();
      await h.withTimeout(exited, WAIT, 'redis-server to die after SIGKILL');
    }
  }

  // SIGKILL, as a crash: no shutdown, clients see their connections reset. Resolves once it
  // has exited.
  async kill() {
    const proc = this.proc;
    if (!proc) return;
    const exited = this.exited;
    this.killNow();
    await h.withTimeout(exited, WAIT, 'redis-server to die after SIGKILL');
  }

  // Stops redis-server if it runs, then starts a new one on the same port (empty: persistence
  // is off). Retries for a moment, in case the port is not free again yet.
  async restart() {
    if (!this.port) throw new Error('redis-server was never started');
    await this.stop();
    const bin = requireRedisServer();
    let lastErr;
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await this.spawn(bin);
        return this;
      } catch (err) {
        lastErr = err;
        await this.stop().catch(() => {});
        await h.sleep(100);
      }
    }
    throw lastErr;
  }

  killNow() {
    try {
      if (this.proc) this.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

// The path of redis-server; throws the "redis-server missing" error when it is not on PATH.
function requireRedisServer() {
  const bin = findRedisServer();
  if (!bin) throw missingError();
  return bin;
}

async function startRedis() {
  const r = new Redis();
  await r.start();
  return r;
}

module.exports = { Redis, startRedis, findRedisServer, requireRedisServer };
