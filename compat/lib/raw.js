'use strict';
// Raw Engine.IO / Socket.IO wire helpers (fetch + ws), for protocol-level tests.

const WebSocket = require('ws');
const { withTimeout, sleep, DEFAULT_WAIT } = require('./helpers');

const SEP = '\x1e'; // EIO4 polling packet separator

const openWs = new Set();

// A WebSocket that queues incoming frames. Text frames arrive as strings, binary frames as
// Buffers. With autoPong (default), EIO4 server pings ("2") are answered with "3" and not queued.
class RawWS {
  constructor(url, { autoPong = true } = {}) {
    this.url = url;
    this.autoPong = autoPong;
    this.queue = [];
    this.waiters = [];
    this.pings = 0;
    this.closeInfo = null;
    this.ws = new WebSocket(url);
    openWs.add(this);
    this.ws.on('error', (err) => {
      this.error = err;
    });
    let markClosed;
    this.closed = new Promise((resolve) => {
      markClosed = (code, reason, httpStatus) => {
        if (this.closeInfo) return;
        this.closeInfo = { code, reason, httpStatus, at: Date.now() };
        openWs.delete(this);
        resolve(this.closeInfo);
        for (const w of this.waiters.splice(0)) w.reject(new Error(`websocket closed (code ${code}) while waiting for ${w.what}`));
      };
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      // The upgrade was answered with a plain HTTP response (e.g. 400): treat it as closed.
      this.ws.once('unexpected-response', (req, res) => {
        this.httpStatus = res.statusCode;
        res.resume();
        req.destroy();
        markClosed(1006, '', res.statusCode);
        reject(new Error(`websocket upgrade refused: HTTP ${res.statusCode}`));
      });
      this.ws.once('close', () => reject(new Error(`websocket closed before opening${this.error ? ': ' + this.error.message : ''}`)));
    });
    this.opened.catch(() => {});
    this.ws.once('close', (code, reason) => markClosed(code, reason.toString()));
    this.ws.on('message', (data, isBinary) => {
      const msg = isBinary ? Buffer.from(data) : data.toString();
      if (this.autoPong && msg === '2') {
        this.pings++;
        this.ws.send('3');
        return;
      }
      const w = this.waiters.shift();
      if (w) w.resolve(msg);
      else this.queue.push(msg);
    });
  }

  open(timeout = DEFAULT_WAIT) {
    return withTimeout(this.opened, timeout, `websocket open (${this.url})`);
  }

  // Next queued frame.
  next(what = 'a websocket frame', timeout = DEFAULT_WAIT) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closeInfo) return Promise.reject(new Error(`websocket closed (code ${this.closeInfo.code}) while waiting for ${what}`));
    let waiter;
    const p = new Promise((resolve, reject) => {
      waiter = { resolve, reject, what };
      this.waiters.push(waiter);
    });
    return withTimeout(p, timeout, what).catch((err) => {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) this.waiters.splice(i, 1);
      throw err;
    });
  }

  async nextN(n, what = 'websocket frames', timeout = DEFAULT_WAIT) {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await this.next(`${what} (#${i + 1} of ${n})`, timeout));
    return out;
  }

  send(data) {
    this.ws.send(data);
  }

  waitClose(timeout = DEFAULT_WAIT, what = 'the server to close the websocket') {
    return withTimeout(this.closed, timeout, what);
  }

  close() {
    try {
      this.ws.terminate();
    } catch {
      // ignore
    }
    openWs.delete(this);
  }
}

function closeAllWs() {
  for (const w of [...openWs]) w.close();
}

async function http(url, { method = 'GET', body, headers, timeout = DEFAULT_WAIT } = {}) {
  const res = await fetch(url, { method, body, headers, signal: AbortSignal.timeout(timeout) });
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, text: buf.toString('utf8'), body: buf };
}

// EIO3 text payload "<len>:<packet><len>:<packet>..." (length in UTF-16 code units).
function decodeEio3Payload(text) {
  const packets = [];
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) throw new Error(`bad EIO3 payload ${JSON.stringify(text)}`);
    const n = Number(text.slice(i, colon));
    if (!Number.isInteger(n)) throw new Error(`bad EIO3 length in ${JSON.stringify(text)}`);
    packets.push(text.slice(colon + 1, colon + 1 + n));
    i = colon + 1 + n;
  }
  return packets;
}

function encodeEio3Payload(packets) {
  return packets.map((p) => `${p.length}:${p}`).join('');
}

// An EIO4 polling session on `base` (e.g. http://host:port/engine.io/).
class Polling {
  constructor(base) {
    this.base = base;
    this.sid = null;
  }

  url(extra = '') {
    return `${this.base}?EIO=4&transport=polling${this.sid ? '&sid=' + encodeURIComponent(this.sid) : ''}${extra}`;
  }

  async handshake() {
    const res = await http(this.url());
    if (res.status !== 200) throw new Error(`polling handshake: HTTP ${res.status} ${res.text}`);
    if (!res.text.startsWith('0')) throw new Error(`polling handshake: unexpected body ${JSON.stringify(res.text)}`);
    const hs = JSON.parse(res.text.slice(1));
    this.sid = hs.sid;
    return hs;
  }

  get(opts) {
    return http(this.url(), opts);
  }

  post(body, opts = {}) {
    return http(this.url(), { ...opts, method: 'POST', body });
  }

  // Polls until `n` non-ping packets arrived (answering pings), or the timeout.
  async packets(n, timeout = DEFAULT_WAIT) {
    const deadline = Date.now() + timeout;
    const out = [];
    while (out.length < n) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} polling packets, got ${JSON.stringify(out)}`);
      const res = await this.get({ timeout: Math.max(100, deadline - Date.now()) });
      if (res.status !== 200) throw new Error(`poll: HTTP ${res.status} ${res.text} (packets so far ${JSON.stringify(out)})`);
      for (const p of res.text.split(SEP)) {
        if (p === '2') {
          await this.post('3');
          continue;
        }
        out.push(p);
      }
    }
    return out;
  }
}

module.exports = { RawWS, closeAllWs, http, Polling, SEP, decodeEio3Payload, encodeEio3Payload, sleep };
