'use strict';
// One session for HTTP and sockets: examples/sessions (gin-contrib/sessions' memstore) and
// examples/sessions-redis (its redis store, on a real redis-server started here), driven by
// socket.io-client 2.x and 4.x in each transport mode, as express.io's sessions example is
// driven by its page:
//   GET / (login: loginDate, Set-Cookie connect.sid) → connect with the cookie →
//   emit 'ready'(name) → 'get-feelings' → emit 'send-feelings'(feelings) → 'session'(values).
// Checked for each example × client × mode:
//   (a) the socket sees the session HTTP made; (b) HTTP sees what the socket saved;
//   (c) HTTP changes it, the socket's 'reload' sees it; (d) forged, expired (after /logout)
//   and missing cookies give an empty session, never another user's; (e) two users at once
//   never see each other's session. GET /session, /touch, /logout and the 'reload' route are
//   the examples' "beyond the original" routes.
// The cookie goes in the Cookie header (extraHeaders), which every client and mode here can
// send from Node: engine.io-client 3.x sets it on its xhr (header check disabled) and on its
// ws handshake, 6.x likewise. express.io's ?cookie= query, which its own test used, is checked
// separately: accepted by sessions (SessionOptions.CookieQuery), ignored by sessions-redis.
// Every wait is bounded by 3 s; the examples and redis-server are killed at the end.

const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const h = require('../lib/helpers');
const ex = require('../lib/examples');
const { startRedis, requireRedisServer } = require('../lib/redis');

const WAIT = 3000; // every wait for an event, a response or a process
const REQ = { timeout: WAIT - 500 }; // ex.request adds 500 ms of slack
const TEST = { timeout: 15000 };
const GENS = [2, 4].map((gen) => h.client(gen));
const FAIL_ON = ['connect_error', 'connect_timeout', 'error', 'disconnect'];

before(() => ex.buildExamples(), { timeout: 310000 });
after(async () => {
  closeAll();
  await ex.cleanup();
});

// ---------------------------------------------------------------------------------------------
// Clients and HTTP

const sockets = new Set();

// Opens a socket like the page's io.connect(), in `mode`, sending `cookie` as the Cookie
// header, or `cookieQuery` as express.io's ?cookie= query parameter. Not awaited: what the
// caller emits next is buffered until it connects, as on the page.
function open(url, c, mode, { cookie, cookieQuery } = {}) {
  const io = require(c.pkg);
  const o = { forceNew: true, reconnection: false, timeout: WAIT };
  o.transports = mode === 'polling' ? ['polling'] : mode === 'websocket' ? ['websocket'] : ['polling', 'websocket'];
  if (cookie !== undefined) o.extraHeaders = { cookie };
  if (cookieQuery !== undefined) o.query = { cookie: cookieQuery };
  const socket = io(url, o);
  socket.compat = { client: c, mode, events: [] };
  for (const ev of ['connect', 'disconnect', 'connect_error', 'connect_timeout', 'error']) {
    socket.on(ev, (...args) => socket.compat.events.push({ ev, args, at: Date.now() }));
  }
  sockets.add(socket);
  return socket;
}

function closeAll() {
  for (const s of [...sockets]) {
    sockets.delete(s);
    h.closeSocket(s);
  }
}

function next(socket, event) {
  return h.waitEvent(socket, event, { timeout: WAIT, failOn: FAIL_ON, what: `'${event}' on ${socket.compat.client.label} (${socket.compat.mode})` });
}

// What the page does: ready(name) → get-feelings → send-feelings(feelings) → session.
async function pageFlow(socket, name, feelings) {
  const asked = next(socket, 'get-feelings');
  socket.emit('ready', name);
  await asked;
  const session = next(socket, 'session');
  socket.emit('send-feelings', feelings);
  const [values] = await session;
  return values;
}

// The socket's 'reload' route: the session as the store has it now.
async function reload(socket) {
  const session = next(socket, 'session');
  socket.emit('reload');
  const [values] = await session;
  return values;
}

// GET / as a browser's first visit: returns the cookie to send back ("connect.sid=…"), the
// whole Set-Cookie line, and the login date the session holds.
async function login(url) {
  const res = await ex.request(url + '/', REQ);
  assert.equal(res.status, 200);
  const line = (res.headers['set-cookie'] || []).find((c) => c.startsWith('connect.sid='));
  assert.ok(line, `GET / set no connect.sid cookie: ${JSON.stringify(res.headers['set-cookie'])}`);
  const cookie = line.split(';')[0];
  const { loginDate } = await httpSession(url, cookie);
  assert.equal(typeof loginDate, 'string', 'GET / stored no loginDate');
  return { cookie, line, loginDate };
}

// GET /session: the session HTTP sees with `cookie`.
async function httpSession(url, cookie) {
  const res = await ex.request(url + '/session', { ...REQ, headers: cookie ? { cookie } : {} });
  assert.equal(res.status, 200);
  return JSON.parse(res.body);
}

async function httpGet(url, pathname, cookie) {
  const res = await ex.request(url + pathname, { ...REQ, headers: { cookie } });
  assert.equal(res.status, 200, `GET ${pathname}: ${res.status} ${res.body}`);
  return res;
}

// The cookie with its signed value altered in the middle: still well formed, no longer signed.
function tamper(cookie) {
  const eq = cookie.indexOf('=');
  const value = cookie.slice(eq + 1);
  const i = Math.floor(value.length / 2);
  const ch = value[i] === 'A' ? 'B' : 'A';
  return cookie.slice(0, eq + 1) + value.slice(0, i) + ch + value.slice(i + 1);
}

let uniq = 0;
function unique(what) {
  uniq++;
  return `${what}-${process.pid}-${uniq}`;
}

// ---------------------------------------------------------------------------------------------
// The tests, for each example

// `redis()` returns the redis-server of sessions-redis, undefined for sessions.
function sessionTests(name, { cookieQuery, redis = () => undefined }) {
  describe(name, () => {
    let running;
    const url = () => running.url;
    before(async () => {
      running = await ex.startExample(name);
    }, { timeout: 20000 });
    after(async () => {
      closeAll();
      if (running) await running.kill();
    });
    afterEach(() => closeAll());

    it('serves its page and sets the session cookie', TEST, async () => {
      const res = await ex.request(url() + '/', REQ);
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'], /^text\/html/);
      for (const n of ['<script src="/socket.io/socket.io.js"></script>', 'io.connect()', "socket.emit('ready'", "socket.on('get-feelings'", "socket.emit('send-feelings'", "socket.on('session'"]) {
        assert.ok(res.body.includes(n), `the page does not contain ${n}`);
      }
      const line = (res.headers['set-cookie'] || []).find((c) => c.startsWith('connect.sid='));
      assert.ok(line, 'no connect.sid cookie');
      assert.match(line, /; Path=\//);
      assert.match(line, /; HttpOnly/);
    });

    for (const c of GENS) {
      for (const mode of h.MODES) {
        const label = `${c.label} (${mode})`;

        it(`${label}: (a) the socket sees the HTTP login, (b) HTTP sees what the socket saved`, TEST, async () => {
          const user = await login(url());
          const who = unique('brad');
          const socket = open(url(), c, mode, { cookie: user.cookie });
          const values = await pageFlow(socket, who, 'good');
          assert.deepStrictEqual(values, { loginDate: user.loginDate, name: who, feelings: 'good' });
          assert.deepStrictEqual(await httpSession(url(), user.cookie), { loginDate: user.loginDate, name: who, feelings: 'good' });
          if (redis()) {
            // The socket's Save reached the redis-server this file started.
            const keys = (await redis().command('KEYS', 'session_*')).map(String);
            assert.ok(keys.length > 0, 'redis holds no session_* key');
            const values = await Promise.all(keys.map((k) => redis().command('GET', k)));
            assert.ok(values.some((v) => Buffer.isBuffer(v) && v.includes(who)), `no session key in redis holds ${who}`);
          }
          assert.deepEqual(socket.compat.events.filter((e) => e.ev !== 'connect').map((e) => e.ev), [], 'unexpected disconnect or error');
        });

        it(`${label}: (c) HTTP changes the session, the socket's reload sees it`, TEST, async () => {
          const user = await login(url());
          const who = unique('carol');
          const socket = open(url(), c, mode, { cookie: user.cookie });
          await pageFlow(socket, who, 'curious');
          if (mode === 'upgrade') await h.waitUpgraded(socket, { timeout: WAIT });
          const value = unique('touched');
          await httpGet(url(), `/touch?value=${encodeURIComponent(value)}`, user.cookie);
          assert.deepStrictEqual(await reload(socket), { loginDate: user.loginDate, name: who, feelings: 'curious', touched: value });
          // The reloaded copy stays: the next save keeps HTTP's change.
          const values = await pageFlow(socket, who, 'reloaded');
          assert.deepStrictEqual(values, { loginDate: user.loginDate, name: who, feelings: 'reloaded', touched: value });
          assert.deepStrictEqual(await httpSession(url(), user.cookie), values);
        });

        it(`${label}: (d) forged, expired and missing cookies give an empty session, never another user's`, TEST, async () => {
          // A user with a saved session, whose data nobody else may see or change.
          const victim = await login(url());
          const victimName = unique('victim');
          await pageFlow(open(url(), c, mode, { cookie: victim.cookie }), victimName, 'fine');
          const victimSession = { loginDate: victim.loginDate, name: victimName, feelings: 'fine' };

          // Forged: the victim's cookie with its signature broken.
          const forged = tamper(victim.cookie);
          assert.notEqual(forged, victim.cookie);
          const mallory = open(url(), c, mode, { cookie: forged });
          assert.deepStrictEqual(await pageFlow(mallory, 'mallory', 'sneaky'), { name: 'mallory', feelings: 'sneaky' });
          const reloaded = await reload(mallory);
          assert.ok(!('loginDate' in reloaded) && reloaded.name !== victimName, `reload with a forged cookie gave ${JSON.stringify(reloaded)}`);
          assert.deepStrictEqual(await httpSession(url(), forged), {});

          // Expired: a session destroyed by GET /logout, its old cookie reused.
          const gone = await login(url());
          const goneName = unique('gone');
          await pageFlow(open(url(), c, mode, { cookie: gone.cookie }), goneName, 'tired');
          await httpGet(url(), '/logout', gone.cookie);
          assert.deepStrictEqual(await httpSession(url(), gone.cookie), {});
          const late = open(url(), c, mode, { cookie: gone.cookie });
          assert.deepStrictEqual(await pageFlow(late, 'late', 'lost'), { name: 'late', feelings: 'lost' });
          assert.deepStrictEqual(await httpSession(url(), gone.cookie), {}, 'a socket brought a destroyed session back');
          if (redis()) {
            const keys = (await redis().command('KEYS', 'session_*')).map(String);
            const values = await Promise.all(keys.map((k) => redis().command('GET', k)));
            assert.ok(!values.some((v) => Buffer.isBuffer(v) && v.includes(goneName)), 'the destroyed session is still in redis');
          }

          // Missing: no cookie at all.
          const stranger = open(url(), c, mode);
          assert.deepStrictEqual(await pageFlow(stranger, 'stranger', 'new'), { name: 'stranger', feelings: 'new' });

          // None of them reached the victim's session.
          assert.deepStrictEqual(await httpSession(url(), victim.cookie), victimSession);
        });

        it(`${label}: (e) two users at once never see each other's session`, TEST, async () => {
          const [alice, bob] = await Promise.all([login(url()), login(url())]);
          assert.notEqual(alice.cookie, bob.cookie);
          const [aliceName, bobName] = [unique('alice'), unique('bob')];
          const a = open(url(), c, mode, { cookie: alice.cookie });
          const b = open(url(), c, mode, { cookie: bob.cookie });
          const [gotA, gotB] = await Promise.all([pageFlow(a, aliceName, 'happy'), pageFlow(b, bobName, 'grumpy')]);
          assert.deepStrictEqual(gotA, { loginDate: alice.loginDate, name: aliceName, feelings: 'happy' });
          assert.deepStrictEqual(gotB, { loginDate: bob.loginDate, name: bobName, feelings: 'grumpy' });
          const [reA, reB] = await Promise.all([reload(a), reload(b)]);
          assert.deepStrictEqual(reA, gotA);
          assert.deepStrictEqual(reB, gotB);
          assert.deepStrictEqual(await httpSession(url(), alice.cookie), gotA);
          assert.deepStrictEqual(await httpSession(url(), bob.cookie), gotB);
        });
      }

      it(`${c.label}: express.io's ?cookie= query (its test of this example) is ${cookieQuery ? 'accepted' : 'ignored'}`, TEST, async () => {
        // As express.io's test: io.connect(url + '?cookie=' + encodeURIComponent(setCookie)).
        const user = await login(url());
        const socket = open(url(), c, 'upgrade', { cookieQuery: user.line });
        const values = await pageFlow(socket, 'brad', 'good');
        if (cookieQuery) {
          assert.deepStrictEqual(values, { loginDate: user.loginDate, name: 'brad', feelings: 'good' });
          assert.deepStrictEqual(await httpSession(url(), user.cookie), values);
        } else {
          assert.deepStrictEqual(values, { name: 'brad', feelings: 'good' });
          assert.deepStrictEqual(await httpSession(url(), user.cookie), { loginDate: user.loginDate });
        }
      });
    }

    it('shuts down gracefully on SIGTERM', TEST, async () => {
      const socket = open(url(), h.client(4), 'upgrade');
      await h.waitConnected(socket, { timeout: WAIT });
      const disconnected = h.waitEvent(socket, 'disconnect', { timeout: WAIT });
      const { code, signal } = await running.terminate('SIGTERM', WAIT);
      assert.equal(signal, null, `killed by ${signal}\n${running.log}`);
      assert.equal(code, 0, `exit code ${code}\n${running.log}`);
      await disconnected;
    });
  });
}

describe('sessions', () => {
  sessionTests('sessions', { cookieQuery: true });

  // A failing test of its own (the hook below then cancels the rest): never a silent skip.
  it('redis-server is on PATH', () => {
    requireRedisServer();
  });

  describe('with redis-server', () => {
    let redis;
    before(async () => {
      redis = await startRedis();
      // The example gets our environment: REDIS_ADDR points it at this redis-server.
      process.env.REDIS_ADDR = redis.addr;
    }, { timeout: 10000 });
    after(async () => {
      if (redis) await redis.stop();
    });

    sessionTests('sessions-redis', { cookieQuery: false, redis: () => redis });

    it('sessions-redis: -redis HOST:PORT overrides REDIS_ADDR', TEST, async () => {
      const run = await runBinary(['-redis', redis.addr], { REDIS_ADDR: '127.0.0.1:1' });
      try {
        const user = await login(run.url);
        const socket = open(run.url, h.client(4), 'websocket', { cookie: user.cookie });
        const values = await pageFlow(socket, 'flag', 'set');
        assert.deepStrictEqual(values, { loginDate: user.loginDate, name: 'flag', feelings: 'set' });
      } finally {
        closeAll();
        await run.kill();
      }
    });

    it('sessions-redis: exits with a clear error, not a panic, when Redis is unreachable', TEST, async () => {
      const closed = await h.freePort(); // nothing listens there
      const run = await runBinary(['-redis', `127.0.0.1:${closed}`], {}, { expectExit: true });
      assert.equal(run.code, 1, `exit code ${run.code}\n${run.log}`);
      assert.match(run.log, new RegExp(`no Redis at 127\\.0\\.0\\.1:${closed}`));
      assert.match(run.log, /redis-server|-redis/);
      assert.doesNotMatch(run.log, /panic|goroutine/);
    });
  });
});

// Runs the sessions-redis binary with `args` (and -addr on a free port) and `env` added to ours.
// Without expectExit, resolves once it listens, with {url, kill()}; with it, resolves with
// {code, log} once it exits. Both within WAIT.
async function runBinary(args, env, { expectExit = false } = {}) {
  const { dir } = await ex.buildExamples();
  const port = await h.freePort();
  const proc = spawn(path.join(dir, 'sessions-redis'), ['-addr', `127.0.0.1:${port}`, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
    proc.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  const listening = new Promise((resolve) => {
    const onData = (chunk) => {
      log += chunk;
      if (log.includes(`listening on 127.0.0.1:${port}`)) resolve();
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
  });
  const kill = async () => {
    proc.kill('SIGKILL');
    await h.withTimeout(exited, WAIT, 'sessions-redis to die');
  };
  try {
    if (expectExit) {
      const { code } = await h.withTimeout(exited, WAIT, 'sessions-redis to exit');
      return { code, log };
    }
    await h.withTimeout(
      Promise.race([listening, exited.then(({ code }) => Promise.reject(new Error(`sessions-redis exited (code=${code})\n${log}`)))]),
      WAIT,
      'sessions-redis to listen',
    );
    return { url: `http://127.0.0.1:${port}`, kill };
  } catch (err) {
    await kill().catch(() => {});
    throw err;
  }
}
