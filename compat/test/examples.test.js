'use strict';
// The ported express.io examples (examples/NAME), each run as its own process and driven by
// real socket.io clients exactly as its page drives it: same events, same payloads, same
// order, emitted right after io.connect() as the page does. Asserts what the page would show.
// The binaries are built once (see lib/examples.js; EXPRESSIO_EXAMPLES reuses prebuilt ones).

const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const h = require('../lib/helpers');
const ex = require('../lib/examples');
const { startRedis, requireRedisServer } = require('../lib/redis');

const TEST = { timeout: 20000 };
// A client generation per protocol pair: v4 (1.x, 2.x) and v5 (3.x, 4.x); and socket.io-client
// 0.9.16, express.io's own client (protocol 1: every example enables the "legacy" setting).
const GENS = [ex.LEGACY, ...[1, 2, 3, 4].map((gen) => h.client(gen))];
// How long we listen for an event that must not come.
const QUIET = 300;
// Gives a handler that was sent an event a moment to run before the next client comes.
const SETTLE = 100;

before(() => ex.buildExamples(), { timeout: 310000 });
after(() => ex.cleanup());

// Runs the example `name` for the tests defined by `fn(get)`, where get() returns the
// running Example; closes the clients after each test. The last test stops the example with
// `sig` and checks it exits cleanly, disconnecting its clients (when they can connect).
function example(name, fn, { tls = false, sig = 'SIGTERM', connects = true, args = [] } = {}) {
  describe(name, () => {
    let running;
    before(async () => {
      running = await ex.startExample(name, { tls, args });
    }, { timeout: 20000 });
    after(async () => {
      ex.closeAll();
      if (running) await running.kill();
    });
    afterEach(() => ex.closeAll());

    fn(() => running);

    it(`shuts down gracefully on ${sig}`, TEST, async () => {
      let disconnected;
      if (connects) {
        const socket = ex.open(running.url, 4);
        await h.waitConnected(socket);
        disconnected = h.waitEvent(socket, 'disconnect');
      }
      const { code, signal } = await running.terminate(sig);
      assert.equal(signal, null, `killed by ${signal}\n${running.log}`);
      assert.equal(code, 0, `exit code ${code}\n${running.log}`);
      if (disconnected) await disconnected;
    });
  });
}

// GET / answers the example's page, which contains `needles` and (unless `socketio` is false)
// loads the socket.io client and calls io.connect().
async function assertPage(url, needles = [], { socketio = true } = {}) {
  const res = await ex.request(url + '/');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /^text\/html/);
  if (socketio) {
    assert.ok(res.body.includes('<script src="/socket.io/socket.io.js"></script>'), 'the page does not load /socket.io/socket.io.js');
    assert.ok(res.body.includes('io.connect()'), 'the page does not call io.connect()');
    // express.io served socket.io 0.9's client there; so do the examples (setting "legacy").
    const script = await ex.request(url + '/socket.io/socket.io.js');
    assert.equal(script.status, 200, script.body.slice(0, 300));
    assert.match(script.body, /io\.version = '0\.9\.16'/, '/socket.io/socket.io.js is not socket.io-client 0.9.16');
  }
  for (const n of needles) assert.ok(res.body.includes(n), `the page does not contain ${n}`);
}

describe('examples', () => {
  example(
    'http-io',
    (get) => {
      it('serves its page', TEST, () => assertPage(get().url));
      for (const c of GENS) {
        it(`${c.label} connects`, TEST, async () => {
          const socket = ex.open(get().url, c.gen);
          await h.waitConnected(socket);
          assert.equal(ex.transportName(socket), 'websocket');
          assert.deepEqual(h.unexpectedEvents(socket), []);
        });
      }
    },
    { sig: 'SIGINT' },
  );

  example(
    'https-io',
    (get) => {
      it('serves its page over TLS with a self-signed certificate', TEST, async () => {
        assert.match(get().url, /^https:/);
        await assertPage(get().url);
      });
      for (const c of GENS) {
        it(`${c.label} connects over TLS (rejectUnauthorized: false)`, TEST, async () => {
          const socket = ex.open(get().url, c.gen);
          await h.waitConnected(socket);
          assert.equal(ex.transportName(socket), 'websocket');
          assert.deepEqual(h.unexpectedEvents(socket), []);
        });
      }
    },
    { tls: true },
  );

  example('routing', (get) => {
    it('serves its page', TEST, () => assertPage(get().url, ["io.emit('ready')", "io.on('talk'"]));
    for (const c of GENS) {
      it(`${c.label}: 'ready' gets 'talk' with the message`, TEST, async () => {
        const io = ex.open(get().url, c.gen);
        io.emit('ready');
        const [data] = await h.waitEvent(io, 'talk', { failOn: ['connect_error', 'error', 'disconnect'] });
        assert.deepStrictEqual(data, { message: 'io event from an io route on the server' });
      });
    }
  });

  example('route-forwarding', (get) => {
    it('GET / goes through hello and hello-again and answers JSON', TEST, async () => {
      const res = await ex.request(get().url + '/');
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'], /^application\/json/);
      assert.deepStrictEqual(JSON.parse(res.body), { hello: 'from io route' });
    });
    for (const c of GENS) {
      it(`${c.label}: the same io routes ack a socket's 'hello'`, TEST, async () => {
        const io = ex.open(get().url, c.gen);
        const got = await h.emitAck(io, 'hello');
        assert.deepStrictEqual(got, [{ hello: 'from io route' }]);
      });
    }
  });

  example('broadcasting', (get) => {
    it('serves its page', TEST, () => assertPage(get().url, ["io.emit('ready')", "io.on('new visitor'"]));
    for (const c of GENS) {
      it(`${c.label}: a visitor's 'ready' reaches the other page as 'new visitor', not itself`, TEST, async () => {
        const first = ex.open(get().url, c.gen);
        const firstGot = ex.record(first, 'new visitor');
        first.emit('ready');
        await h.waitConnected(first);
        await h.sleep(SETTLE);

        const second = ex.open(get().url, c.gen);
        const secondGot = ex.record(second, 'new visitor');
        const visitor = h.waitEvent(first, 'new visitor', { failOn: ['disconnect'] });
        second.emit('ready');
        await visitor;
        await h.sleep(QUIET);
        assert.equal(firstGot.length, 1, "the first page did not get exactly one 'new visitor'");
        assert.equal(secondGot.length, 0, "the sender got its own 'new visitor'");
        assert.deepEqual(h.unexpectedEvents(second), []);
      });
    }
  });

  example('rooms', (get) => {
    it('serves its page', TEST, () => assertPage(get().url, ["io.emit('ready', room)", "io.on('announce'"]));
    for (const c of GENS) {
      it(`${c.label}: a newcomer is announced to the room's members only, not to itself`, TEST, async () => {
        const room = `lobby-${c.gen}`;
        const other = `kitchen-${c.gen}`;
        const member = ex.open(get().url, c.gen);
        const memberGot = ex.record(member, 'announce');
        member.emit('ready', room);
        await h.waitConnected(member);

        const outsider = ex.open(get().url, c.gen);
        const outsiderGot = ex.record(outsider, 'announce');
        outsider.emit('ready', other);
        await h.waitConnected(outsider);
        await h.sleep(SETTLE);
        assert.equal(memberGot.length, 0, "a newcomer in another room was announced to the member");

        const newcomer = ex.open(get().url, c.gen);
        const newcomerGot = ex.record(newcomer, 'announce');
        const announced = h.waitEvent(member, 'announce', { failOn: ['disconnect'] });
        newcomer.emit('ready', room);
        const [data] = await announced;
        assert.deepStrictEqual(data, { message: `New client in the ${room} room. ` });
        await h.sleep(QUIET);
        assert.equal(memberGot.length, 1);
        assert.equal(newcomerGot.length, 0, 'the newcomer got its own announcement');
        assert.equal(outsiderGot.length, 0, 'a socket in another room got the announcement');
      });
    }
  });

  example('acknowledgements', (get) => {
    it('serves its page', TEST, () => assertPage(get().url, ["io.emit('ready', {hey: 'server'}, function(data)"]));
    for (const c of GENS) {
      it(`${c.label}: the ack callback of 'ready' gets the success message`, TEST, async () => {
        const io = ex.open(get().url, c.gen);
        const got = await h.emitAck(io, 'ready', { hey: 'server' });
        assert.deepStrictEqual(got, [{ success: 'here is your acknowledegment for the ready event' }]);
      });
    }
  });

  example('realtime-canvas', (get) => {
    it('serves its page', TEST, () => assertPage(get().url, ["App.socket.emit('drawClick', data)", "App.socket.on('draw', App.draw)", '<canvas']));
    for (const c of GENS) {
      it(`${c.label}: drawClick from one page reaches the other as draw, not the drawer`, TEST, async () => {
        const a = ex.open(get().url, c.gen);
        const b = ex.open(get().url, c.gen);
        const aGot = ex.record(a, 'draw');
        const bGot = ex.record(b, 'draw');
        await Promise.all([h.waitConnected(a), h.waitConnected(b)]);
        const stroke = [
          { x: 10, y: 20.5, type: 'dragstart' },
          { x: 11.25, y: 22, type: 'drag' },
          { x: 15, y: 30, type: 'drag' },
          { x: 15, y: 30, type: 'dragend' },
        ];
        for (const data of stroke) a.emit('drawClick', data);
        await h.poll(() => bGot.length >= stroke.length, { timeout: h.DEFAULT_WAIT, interval: 20 });
        await h.sleep(QUIET);
        assert.deepStrictEqual(bGot, stroke.map((d) => [d]));
        assert.equal(aGot.length, 0, 'the drawer got its own draw events');
      });
    }
  });

  example('advanced-routing', (get) => {
    it('serves its page', TEST, () => assertPage(get().url, ["io.emit('posts:create', data)", "io.emit('posts:remove', {id:", "io.on('posts:create'", "io.on('posts:remove'"]));
    for (const c of GENS) {
      it(`${c.label}: posts:create and posts:remove reach every page, the sender included`, TEST, async () => {
        const a = ex.open(get().url, c.gen);
        const b = ex.open(get().url, c.gen);
        await Promise.all([h.waitConnected(a), h.waitConnected(b)]);

        // The create button: data = {post: prompt('Type a post!')}.
        const createdA = h.waitEvent(a, 'posts:create');
        const createdB = h.waitEvent(b, 'posts:create');
        a.emit('posts:create', { post: `hello from ${c.label}` });
        const [[postA], [postB]] = await Promise.all([createdA, createdB]);
        assert.deepStrictEqual(postA, postB);
        assert.equal(postA.post, `hello from ${c.label}`);
        assert.ok(Number.isInteger(postA.id) && postA.id > 0, `bad id ${postA.id}`);
        assert.deepStrictEqual(Object.keys(postA).sort(), ['id', 'post']);

        // A second post gets the next id.
        const again = h.waitEvent(b, 'posts:create');
        b.emit('posts:create', { post: 'another one' });
        const [post2] = await again;
        assert.deepStrictEqual(post2, { post: 'another one', id: postA.id + 1 });

        // The delete link: {id: $(a).attr('id')}, a string.
        const removedA = h.waitEvent(a, 'posts:remove');
        const removedB = h.waitEvent(b, 'posts:remove');
        b.emit('posts:remove', { id: String(postA.id) });
        const [[gotA], [gotB]] = await Promise.all([removedA, removedB]);
        assert.deepStrictEqual(gotA, { id: String(postA.id) });
        assert.deepStrictEqual(gotB, { id: String(postA.id) });
      });
    }
  });

  example('middleware', (get) => {
    it('serves its page', TEST, () => assertPage(get().url, ["io.on('error'"]));
    for (const c of GENS) {
      it(`${c.label}: every handshake is denied`, TEST, async () => {
        const io = ex.open(get().url, c.gen);
        if (c.gen === 0) {
          // 0.9 gets no reason: a refused handshake is 'handshake error' (HTTP 500) or
          // 'handshake unauthorized' (403); express.io's page alerted 'handshake error'.
          const [error] = await h.waitEvent(io, 'error', { failOn: ['connect'] });
          assert.ok(['handshake error', 'handshake unauthorized'].includes(error), `error ${JSON.stringify(error)}`);
        } else if (c.gen >= 3) {
          const [err] = await h.waitEvent(io, 'connect_error', { failOn: ['connect'] });
          assert.ok(err instanceof Error, `connect_error payload is not an Error: ${h.describeArgs([err])}`);
          assert.equal(err.message, 'denied');
        } else {
          const [error] = await h.waitEvent(io, 'error', { failOn: ['connect', 'connect_error'] });
          assert.equal(error, 'denied');
        }
        await h.sleep(QUIET);
        assert.equal(io.connected, false);
        assert.ok(!io.compat.events.some((e) => e.ev === 'connect'), 'the denied socket connected');
      });
    }
  }, { sig: 'SIGINT', connects: false });

  example('backbonejs', (get) => {
    const json = { 'Content-Type': 'application/json', Accept: 'application/json' };
    const call = async (method, path, model) => {
      const res = await ex.request(get().url + path, { method, headers: json, body: model === undefined ? undefined : JSON.stringify(model) });
      return { status: res.status, type: res.headers['content-type'], body: res.body === '' ? undefined : JSON.parse(res.body) };
    };

    it('serves its page', TEST, () => assertPage(get().url, ["var url = '/collection'", "sync('POST', url"], { socketio: false }));

    it("Backbone.sync's REST calls reach the collection io routes", TEST, async () => {
      assert.deepStrictEqual(await call('GET', '/collection'), { status: 200, type: 'application/json; charset=utf-8', body: [] });
      const created = await call('POST', '/collection', { text: 'first' });
      assert.equal(created.status, 200);
      const { id } = created.body;
      assert.ok(Number.isInteger(id), `bad id ${id}`);
      assert.deepStrictEqual(created.body, { id, text: 'first' });
      assert.deepStrictEqual((await call('GET', `/collection/${id}`)).body, { id, text: 'first' });
      assert.deepStrictEqual((await call('PUT', `/collection/${id}`, { id, text: 'edited' })).body, { id, text: 'edited' });
      assert.deepStrictEqual((await call('GET', '/collection')).body, [{ id, text: 'edited' }]);
      assert.deepStrictEqual(await call('DELETE', `/collection/${id}`), { status: 204, type: undefined, body: undefined });
      assert.equal((await call('GET', `/collection/${id}`)).status, 404);
      assert.equal((await call('PUT', `/collection/${id}`, { text: 'gone' })).status, 404);
      assert.equal((await call('DELETE', `/collection/${id}`)).status, 404);
      assert.deepStrictEqual((await call('GET', '/collection')).body, []);
    });

    for (const c of GENS) {
      it(`${c.label}: sockets reach the same routes with an ack`, TEST, async () => {
        const io = ex.open(get().url, c.gen);
        const [model] = await h.emitAck(io, 'collection:create', { text: c.label });
        assert.deepStrictEqual(model, { id: model.id, text: c.label });
        assert.deepStrictEqual(await h.emitAck(io, 'collection:read', { id: model.id }), [model]);
        const rest = await call('GET', `/collection/${model.id}`);
        assert.deepStrictEqual(rest.body, model, 'REST and sockets share one store');
        assert.deepStrictEqual(await h.emitAck(io, 'collection:delete', { id: model.id }), []);
        assert.equal((await call('GET', `/collection/${model.id}`)).status, 404);
      });
    }
  });

  // The sessions examples with socket.io-client 0.9.16 (sessions.test.js drives 1.x..4.x, which
  // send the Cookie header). 0.9 in Node cannot send a cookie: its handshake goes through
  // xmlhttprequest 1.4.2, which forbids the Cookie header, and its websocket sends no headers.
  // So, as express.io's own test of this example did, it passes GET /'s Set-Cookie line as
  // ?cookie=, which sessions accepts (SessionOptions.CookieQuery) and sessions-redis ignores:
  // there a 0.9 socket in Node can only run the page's flow on a session of its own, and
  // whether it shares the browser's HTTP session is out of Node's reach.
  const legacySessions = (name, { cookieQuery }) =>
    example(name, (get) => {
      const label = ex.LEGACY.label;
      const login = async () => {
        const res = await ex.request(get().url + '/');
        assert.equal(res.status, 200);
        const line = (res.headers['set-cookie'] || []).find((c) => c.startsWith('connect.sid='));
        assert.ok(line, 'GET / set no connect.sid cookie');
        const cookie = line.split(';')[0];
        const { loginDate } = await httpSession(cookie);
        assert.equal(typeof loginDate, 'string', 'GET / stored no loginDate');
        return { line, cookie, loginDate };
      };
      const httpSession = async (cookie) => {
        const res = await ex.request(get().url + '/session', { headers: { cookie } });
        assert.equal(res.status, 200);
        return JSON.parse(res.body);
      };
      const failOn = ['error', 'connect_failed', 'disconnect'];

      it('serves its page', TEST, () => assertPage(get().url, ["socket.emit('ready'", "socket.on('get-feelings'", "socket.emit('send-feelings'", "socket.on('session'"]));

      it(`${label}: the page's ready -> get-feelings -> send-feelings -> session, with ?cookie=`, TEST, async () => {
        const user = await login();
        const socket = ex.openLegacy(get().url, { query: { cookie: user.line } });
        const asked = h.waitEvent(socket, 'get-feelings', { failOn });
        socket.emit('ready', 'brad');
        await asked;
        const session = h.waitEvent(socket, 'session', { failOn });
        socket.emit('send-feelings', 'good');
        const [values] = await session;
        if (cookieQuery) {
          assert.deepStrictEqual(values, { loginDate: user.loginDate, name: 'brad', feelings: 'good' });
          assert.deepStrictEqual(await httpSession(user.cookie), values);
        } else {
          assert.deepStrictEqual(values, { name: 'brad', feelings: 'good' });
          assert.deepStrictEqual(await httpSession(user.cookie), { loginDate: user.loginDate });
        }
      });

      it(`${label}: send-feelings writes the session ${cookieQuery ? 'of ?cookie=, which HTTP sees' : 'of the socket alone (?cookie= is ignored)'}`, TEST, async () => {
        const user = await login();
        const socket = ex.openLegacy(get().url, { query: { cookie: user.line } });
        const session = h.waitEvent(socket, 'session', { failOn });
        socket.emit('send-feelings', 'fine');
        const [values] = await session;
        if (cookieQuery) {
          assert.deepStrictEqual(values, { loginDate: user.loginDate, feelings: 'fine' });
          assert.deepStrictEqual(await httpSession(user.cookie), values);
        } else {
          assert.deepStrictEqual(values, { feelings: 'fine' });
          assert.deepStrictEqual(await httpSession(user.cookie), { loginDate: user.loginDate });
        }
      });

      it(`${label}: without a cookie the socket gets an empty session of its own`, TEST, async () => {
        const socket = ex.openLegacy(get().url);
        const session = h.waitEvent(socket, 'session', { failOn });
        socket.emit('send-feelings', 'new');
        assert.deepStrictEqual(await session, [{ feelings: 'new' }]);
      });
    });

  legacySessions('sessions', { cookieQuery: true });

  // A failing test of its own when redis-server is missing: never a silent skip.
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

    legacySessions('sessions-redis', { cookieQuery: false });

    // Two worker processes on one Redis: worker i listens on the port of -addr plus i-1.
    example(
      'scaling-with-redis',
      (get) => {
        it('serves its page', TEST, () => assertPage(get().url, ["io.emit('ready'", "io.on('new visitor'"]));
        it("a visitor on either worker reaches every page on both, every generation", TEST, async () => {
          const workers = [get().url, get().url.replace(/:(\d+)$/, (_, p) => `:${Number(p) + 1}`)];
          const up = await h.poll(async () => (await ex.request(workers[1] + '/').catch(() => ({}))).status === 200, { timeout: 5000 });
          assert.ok(up, 'the second worker does not answer');
          const pages = [];
          for (const [i, c] of GENS.entries()) {
            const socket = ex.open(workers[i % 2], c.gen);
            await h.waitConnected(socket);
            pages.push({ socket, worker: String((i % 2) + 1), got: ex.record(socket, 'new visitor') });
          }
          await h.sleep(SETTLE);
          for (const origin of pages.slice(0, 2)) {
            const before = pages.map((p) => p.got.length);
            const worker = await new Promise((resolve) => origin.socket.emit('ready', resolve));
            assert.equal(worker, origin.worker, 'ready was not answered by the worker the page is on');
            const heard = await h.poll(() => pages.every((p, i) => p.got.length === before[i] + 1), { timeout: 3000 });
            assert.ok(heard, `not every page heard of the visitor exactly once: ${pages.map((p) => p.got.length)}`);
            for (const p of pages) assert.deepEqual(p.got[p.got.length - 1], [{ worker: origin.worker }]);
          }
        });
      },
      { args: ['-workers', '2'] },
    );
  });
});
