'use strict';
// The express.io API, row by row, driven by real socket.io clients 1.x, 2.x, 3.x and 4.x over
// websocket and polling, against the fixture's `api` profile (compat/fixture/api.go): acks,
// server-to-client acks, rooms and the broadcast scopes, forwarding, nested and late routes,
// the connect hook, disconnect reasons, the handshake and its middleware, panic isolation, and
// the HTTP side (forwarding to io routes, HTTPIO broadcasts/rooms/emit, REST forwarding).
// The upgrade mode is matrix.test.js's business. One fixture for the file, plus one started
// with -route-timeout 300 for the 504 of a silent route.

const { describe, it, before, after, beforeEach, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const h = require('../lib/helpers');

const TEST = { timeout: 10000 };
const GENS = [1, 2, 3, 4];
const MODES = ['websocket', 'polling'];
// The longest we wait for anything that should happen.
const WAIT = 3000;
// How long we listen for something that must not happen.
const QUIET = 300;
const UNICODE = 'héllo wörld 😀 中文';

let seq = 0;
const uniq = (prefix) => `${prefix}-${process.pid}-${Date.now()}-${++seq}`;

const ack = (socket, event, ...args) => h.emitAckWithin(WAIT, socket, event, ...args);
const next = (socket, event) => h.waitEvent(socket, event, { timeout: WAIT, failOn: ['disconnect'] });

// Records every `event` on `socket` (each entry the argument list), for "must not arrive" checks.
function collect(socket, event) {
  const got = [];
  socket.on(event, (...args) => got.push(args));
  return got;
}

// Emits with an ack callback that must not fire within QUIET ms.
async function assertNoAck(socket, event, ...args) {
  let fired = null;
  socket.emit(event, ...args, (...ackArgs) => {
    fired = ackArgs;
  });
  await h.sleep(QUIET);
  assert.equal(fired, null, `the ack of '${event}' fired with ${JSON.stringify(fired)}`);
}

// fetch, bounded; resolves with {status, type, body} (body parsed when JSON).
async function request(url, method = 'GET', body) {
  const init = { method, signal: AbortSignal.timeout(WAIT) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const res = await fetch(url, init);
  const text = await res.text();
  const type = res.headers.get('content-type') || '';
  let parsed = text;
  if (type.includes('application/json')) parsed = JSON.parse(text);
  return { status: res.status, type, body: parsed };
}

describe('express.io API (profile api)', () => {
  let fx;
  before(async () => {
    fx = await h.startFixture('api');
  });
  after(async () => {
    h.closeAllSockets();
    if (fx) await fx.stop();
  });
  afterEach(() => h.closeAllSockets());

  for (const gen of GENS) {
    const c = h.client(gen);
    for (const mode of MODES) {
      describe(`${c.label} ${mode}`, () => {
        const connect = (opts = {}) => h.connect(fx.url, gen, mode, { timeout: WAIT, ...opts });
        const healthy = (socket) => {
          assert.deepEqual(h.unexpectedEvents(socket), [], 'unexpected socket events');
          assert.equal(socket.connected, true, 'socket.connected');
        };

        // ---- connect hook ----------------------------------------------------------------

        it('OnConnect: hello(socket id) arrives, equal to socket.id', TEST, async () => {
          const socket = h.createSocket(fx.url, gen, mode, { timeout: WAIT });
          const hello = h.waitEvent(socket, 'hello', { timeout: WAIT, failOn: ['connect_error', 'error', 'disconnect'] });
          await h.waitConnected(socket, { timeout: WAIT });
          const [id] = await hello;
          assert.equal(typeof id, 'string');
          assert.ok(id.length > 0, 'empty id');
          assert.equal(id, socket.id, 'hello carries another id than socket.id');
          healthy(socket);
        });

        // ---- Respond -----------------------------------------------------------------------

        it('echo: Respond(all args), an ack-only event, a nested Buffer', TEST, async () => {
          const socket = await connect();
          const args = [1, 'two', { three: [3] }, null, true, UNICODE];
          assert.deepStrictEqual(await ack(socket, 'echo', ...args), args);
          // Only an ack callback: no data, and an ack without arguments.
          assert.deepStrictEqual(await ack(socket, 'echo'), []);
          const obj = { name: 'pic', file: { bytes: Buffer.from([0, 1, 2, 254, 255]), list: [Buffer.from('zoë')] } };
          const got = await ack(socket, 'echo', obj, 'after');
          assert.deepStrictEqual(h.normalizeBinary(got), [obj, 'after']);
          healthy(socket);
        });

        it('Respond() with no args: the ack gets no arguments', TEST, async () => {
          const socket = await connect();
          assert.deepStrictEqual(await ack(socket, 'respond-none', 'x'), []);
          healthy(socket);
        });

        it('Respond without a client ack: nothing arrives, no error on the server', TEST, async () => {
          const socket = await connect();
          const stray = collect(socket, 'ignored');
          socket.emit('no-ack-respond', 'x');
          const [log] = await ack(socket, 'respond-log');
          assert.deepStrictEqual(log['no-ack-respond'], { err: null, wantsAck: false });
          await h.sleep(QUIET / 3);
          assert.deepStrictEqual(stray, []);
          healthy(socket);
        });

        it('Respond twice: the ack fires once with the first value; the second returns ErrAlreadyResponded', TEST, async () => {
          const socket = await connect();
          const calls = [];
          const first = new Promise((resolve) => {
            socket.emit('respond-twice', {}, (...a) => {
              calls.push(a);
              resolve();
            });
          });
          await h.withTimeout(first, WAIT, "the ack of 'respond-twice'");
          await h.sleep(QUIET);
          assert.deepStrictEqual(calls, [['a']]);
          const [log] = await ack(socket, 'respond-log');
          assert.deepStrictEqual(log['respond-twice'], { first: null, second: 'expressio: already responded', secondIsAlreadyAnswered: true });
          healthy(socket);
        });

        // ---- server-to-client acks ---------------------------------------------------------

        it('Emit with OnAck: the client acks, the server emits answer(...ack)', TEST, async () => {
          const socket = await connect();
          const question = new Promise((resolve) => {
            socket.once('question', (q, obj, cb) => {
              resolve([q, obj, typeof cb]);
              if (typeof cb === 'function') cb('forty-two', { n: obj && obj.n });
            });
          });
          const answer = next(socket, 'answer');
          assert.deepStrictEqual(await ack(socket, 'emit-ack', {}), [null]);
          assert.deepStrictEqual(await h.withTimeout(question, WAIT, "'question'"), ['what is 6*7?', { n: 42 }, 'function']);
          assert.deepStrictEqual(await answer, ['forty-two', { n: 42 }]);
          healthy(socket);
        });

        it('Emit with OnAck: no ack within the timeout gives ErrAckTimeout', TEST, async () => {
          const socket = await connect();
          socket.once('question', () => {}); // never acks
          const answers = collect(socket, 'answer');
          const timedOut = next(socket, 'ack-timeout');
          const t0 = Date.now();
          await ack(socket, 'emit-ack', { timeout: 300 });
          const [isTimeout, msg] = await timedOut;
          assert.equal(isTimeout, true, `not ErrAckTimeout: ${msg}`);
          assert.match(msg, /ack timeout/);
          assert.ok(Date.now() - t0 >= 250, 'ack-timeout came before the 300 ms timeout');
          assert.deepStrictEqual(answers, []);
          healthy(socket);
        });

        it('EmitWithAck inside a route: the route waits for the client ack and responds with it', TEST, async () => {
          const socket = await connect();
          socket.on('question2', (x, cb) => cb(x * 2, 'ok'));
          assert.deepStrictEqual(await ack(socket, 'emit-with-ack', 21), [42, 'ok']);
          assert.deepStrictEqual(await ack(socket, 'echo', 'next'), ['next']);
          healthy(socket);
        });

        // ---- rooms and broadcast scopes -----------------------------------------------------

        it('Join / Leave / Rooms (sorted)', TEST, async () => {
          const socket = await connect();
          const [a, b] = [uniq('b-room'), uniq('a-room')];
          assert.deepStrictEqual(await ack(socket, 'rooms'), [[]]);
          assert.deepStrictEqual(await ack(socket, 'join', a), [[a]]);
          assert.deepStrictEqual(await ack(socket, 'join', b), [[b, a].sort()]);
          assert.deepStrictEqual(await ack(socket, 'join', a), [[b, a].sort()], 'joining twice');
          assert.deepStrictEqual(await ack(socket, 'rooms'), [[b, a].sort()]);
          assert.deepStrictEqual(await ack(socket, 'leave', a), [[b]]);
          assert.deepStrictEqual(await ack(socket, 'leave', 'never-joined'), [[b]]);
          assert.deepStrictEqual(await ack(socket, 'rooms'), [[b]]);
          healthy(socket);
        });

        it('req.IO.Room(r).Broadcast: members but the sender; a non-member reaches all members', TEST, async () => {
          const [a, b, outsider] = await Promise.all([connect(), connect(), connect()]);
          const room = uniq('room');
          await ack(a, 'join', room);
          await ack(b, 'join', room);
          const gotA = collect(a, 'room-msg');
          const gotOut = collect(outsider, 'room-msg');
          const atB = next(b, 'room-msg');
          assert.deepStrictEqual(await ack(a, 'room-say', { room, msg: 'from a' }), [null]);
          assert.deepStrictEqual(await atB, ['from a', a.id]);
          // A non-member's message reaches every member.
          const atA = next(a, 'room-msg');
          const atB2 = next(b, 'room-msg');
          await ack(outsider, 'room-say', { room, msg: { from: 'outside' } });
          assert.deepStrictEqual(await atA, [{ from: 'outside' }, outsider.id]);
          assert.deepStrictEqual(await atB2, [{ from: 'outside' }, outsider.id]);
          await h.sleep(QUIET);
          assert.deepStrictEqual(gotA, [[{ from: 'outside' }, outsider.id]], 'the sender got its own room-say');
          assert.deepStrictEqual(gotOut, [], 'a non-member got a room message');
          for (const s of [a, b, outsider]) healthy(s);
        });

        it('a socket that left a room gets nothing sent to it', TEST, async () => {
          const [a, b, c2] = await Promise.all([connect(), connect(), connect()]);
          const room = uniq('room');
          for (const s of [a, b, c2]) await ack(s, 'join', room);
          assert.deepStrictEqual(await ack(b, 'leave', room), [[]]);
          const gotB = [...['room-msg', 'server-room-msg'].map((ev) => collect(b, ev))];
          const atA = next(a, 'server-room-msg');
          const atC = next(c2, 'room-msg');
          await ack(a, 'server-room', { room, msg: 'all members' });
          await ack(a, 'room-say', { room, msg: 'others' });
          assert.deepStrictEqual(await atA, ['all members', room]);
          assert.deepStrictEqual(await atC, ['others', a.id]);
          await h.sleep(QUIET);
          assert.deepStrictEqual(gotB, [[], []], 'the socket that left still got room messages');
          healthy(b);
        });

        it('req.IO.Broadcast: everyone but the sender, all args', TEST, async () => {
          const [a, b, c2] = await Promise.all([connect(), connect(), connect()]);
          const gotA = collect(a, 'all-but-me');
          const tag = uniq('abm');
          const atB = next(b, 'all-but-me');
          const atC = next(c2, 'all-but-me');
          await ack(a, 'say-all-but-me', tag, 2, { three: 3 });
          assert.deepStrictEqual(await atB, [tag, 2, { three: 3 }]);
          assert.deepStrictEqual(await atC, [tag, 2, { three: 3 }]);
          await h.sleep(QUIET);
          assert.deepStrictEqual(gotA, [], 'the sender got its own broadcast');
        });

        it('app.IO.Broadcast: everyone including the sender, all args', TEST, async () => {
          const [a, b] = await Promise.all([connect(), connect()]);
          const tag = uniq('every');
          const atA = next(a, 'everyone');
          const atB = next(b, 'everyone');
          await ack(a, 'say-everyone', tag, 1, [2, 3], null);
          assert.deepStrictEqual(await atA, [tag, 1, [2, 3], null]);
          assert.deepStrictEqual(await atB, [tag, 1, [2, 3], null]);
        });

        it('app.IO.Room(r).Broadcast: every member including the sender, not the others', TEST, async () => {
          const [a, b, outsider] = await Promise.all([connect(), connect(), connect()]);
          const room = uniq('room');
          await ack(a, 'join', room);
          await ack(b, 'join', room);
          const gotOut = collect(outsider, 'server-room-msg');
          const atA = next(a, 'server-room-msg');
          const atB = next(b, 'server-room-msg');
          await ack(a, 'server-room', { room, msg: { hi: 'all' } });
          assert.deepStrictEqual(await atA, [{ hi: 'all' }, room]);
          assert.deepStrictEqual(await atB, [{ hi: 'all' }, room]);
          await h.sleep(QUIET);
          assert.deepStrictEqual(gotOut, []);
        });

        // ---- forwarding ----------------------------------------------------------------------

        it('req.IO.Route: forwards data and ack; the target answers the original ack', TEST, async () => {
          const socket = await connect();
          assert.deepStrictEqual(await ack(socket, 'forward', { x: UNICODE }), ['target', { x: UNICODE }, 'forward']);
          healthy(socket);
        });

        it('req.IO.Route to an unknown route: the ack gets an error object', TEST, async () => {
          const socket = await connect();
          assert.deepStrictEqual(await ack(socket, 'forward-missing', 1), [{ error: 'unknown route no-such-route' }]);
          const [log] = await ack(socket, 'respond-log');
          assert.equal(log['forward-missing'].isUnknownRoute, true, JSON.stringify(log));
          healthy(socket);
        });

        it('req.IO.Route chains: route -> route -> route', TEST, async () => {
          const socket = await connect();
          assert.deepStrictEqual(await ack(socket, 'chain-1', { hops: ['client'] }), [['client', 'chain-1', 'chain-2', 'chain-3']]);
          healthy(socket);
        });

        // ---- nested and late routes ------------------------------------------------------------

        it('nested Routes: customers:create / customers:remove; nothing under bare customers', TEST, async () => {
          const socket = await connect();
          assert.deepStrictEqual(await ack(socket, 'customers:create', { name: 'ann' }), ['created', { name: 'ann' }, 'customers:create']);
          assert.deepStrictEqual(await ack(socket, 'customers:remove', 7), ['removed', 7, 'customers:remove']);
          await assertNoAck(socket, 'customers', { name: 'ann' });
          await assertNoAck(socket, 'customers:delete', 7);
          assert.deepStrictEqual(await ack(socket, 'echo', 'still'), ['still']);
          healthy(socket);
        });

        it('a route registered after the client connected works for that client', TEST, async () => {
          const socket = await connect();
          const name = uniq('late');
          await assertNoAck(socket, name, 'before');
          const res = await request(`${fx.url}/late-route`, 'POST', { name });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.deepStrictEqual(await ack(socket, name, 'after'), ['late', name, 'after']);
          healthy(socket);
        });

        it("message route: the client's send(x)", TEST, async () => {
          const socket = await connect();
          const back = next(socket, 'message-back');
          socket.send({ sent: UNICODE });
          assert.deepStrictEqual(await back, [{ sent: UNICODE }]);
          healthy(socket);
        });

        // ---- disconnects -----------------------------------------------------------------------

        const lastDisconnect = async (tag) => {
          const observer = await connect();
          let reason;
          await h.poll(
            async () => {
              [reason] = await ack(observer, 'last-disconnect', tag);
              return reason;
            },
            { timeout: 2000, interval: 50 },
          );
          return reason;
        };

        it("disconnect route: a client disconnect is 'client namespace disconnect'", TEST, async () => {
          const socket = await connect();
          const tag = uniq('client-dc');
          await ack(socket, 'tag', tag);
          socket.disconnect();
          assert.equal(await lastDisconnect(tag), 'client namespace disconnect');
        });

        it("disconnect route: the connection closing without a DISCONNECT packet is 'transport close'", TEST, async () => {
          const socket = await connect();
          const tag = uniq('transport-dc');
          await ack(socket, 'tag', tag);
          socket.io.engine.close(); // the engine goes, the socket.io layer says nothing
          assert.equal(await lastDisconnect(tag), 'transport close');
        });

        it("req.IO.Disconnect: the client sees 'io server disconnect', the route 'server namespace disconnect'", TEST, async () => {
          const socket = await connect();
          const tag = uniq('kick');
          await ack(socket, 'tag', tag);
          const disconnected = h.waitEvent(socket, 'disconnect', { timeout: WAIT });
          socket.emit('kick');
          const [reason] = await disconnected; // 4.x adds a description argument
          assert.equal(reason, 'io server disconnect');
          assert.equal(socket.connected, false);
          assert.equal(await lastDisconnect(tag), 'server namespace disconnect');
        });

        // ---- handshake and middleware ------------------------------------------------------------

        it('handshake: address, query, issued, time, url, secure, xdomain', TEST, async () => {
          const before = Date.now();
          const socket = await connect({ query: { q: 'a b&c' } });
          const [hs] = await ack(socket, 'handshake-info');
          assert.equal(typeof hs.address, 'string');
          assert.ok(hs.address.length > 0, 'empty address');
          assert.match(hs.address, /127\.0\.0\.1/);
          assert.equal(hs.query, 'a b&c');
          assert.equal(typeof hs.issued, 'number');
          assert.ok(Math.abs(hs.issued - before) < 10000, `issued ${hs.issued} is not near ${before}`);
          const t = Date.parse(hs.time);
          assert.ok(Number.isFinite(t), `time ${hs.time} does not parse`);
          assert.ok(Math.abs(t - hs.issued) < 1000, `time ${hs.time} and issued ${hs.issued} disagree`);
          assert.equal(typeof hs.url, 'string');
          assert.ok(hs.url.includes('/socket.io/'), `url ${hs.url}`);
          assert.equal(hs.secure, false);
          assert.equal(hs.xdomain, false);
          assert.equal(hs.namespace, '/');
          healthy(socket);
        });

        it('middleware: a bad token is rejected with ConnectError', TEST, async () => {
          if (gen >= 3) {
            for (const opts of [{ auth: { token: 'bad' } }, { query: { token: 'bad' } }]) {
              const socket = h.createSocket(fx.url, gen, mode, { timeout: WAIT, ...opts });
              const [err] = await h.waitEvent(socket, 'connect_error', { timeout: WAIT, failOn: ['connect'] });
              assert.ok(err instanceof Error, `connect_error payload: ${h.describeArgs([err])}`);
              assert.equal(err.message, 'unauthorized');
              assert.deepStrictEqual(err.data, { reason: 'bad token' });
              h.closeSocket(socket);
            }
          } else {
            const socket = h.createSocket(fx.url, gen, mode, { timeout: WAIT, query: { token: 'bad' } });
            const [payload] = await h.waitEvent(socket, 'error', { timeout: WAIT, failOn: ['connect', 'connect_error'] });
            assert.deepStrictEqual(payload, { reason: 'bad token' });
            await h.sleep(QUIET);
            assert.equal(socket.connected, false);
            assert.ok(!socket.compat.events.some((e) => e.ev === 'connect'), 'the rejected socket connected');
          }
        });

        it('middleware values reach routes (h.Set -> req.Handshake.Get)', TEST, async () => {
          const [zoe, anon] = await Promise.all([connect({ query: { user: 'zoë' } }), connect()]);
          assert.deepStrictEqual(await ack(zoe, 'whoami'), ['zoë']);
          assert.deepStrictEqual(await ack(anon, 'whoami'), [null]);
          healthy(zoe);
        });

        // ---- panic isolation -----------------------------------------------------------------------

        it('a panicking route: the ack gets an error object, both clients keep working', TEST, async () => {
          const [a, b] = await Promise.all([connect(), connect()]);
          assert.deepStrictEqual(await ack(a, 'boom', 1), [{ error: 'internal server error' }]);
          assert.deepStrictEqual(await ack(a, 'echo', 'after boom'), ['after boom']);
          assert.deepStrictEqual(await ack(b, 'echo', 'other client'), ['other client']);
          // A panic with no ack asked must not hurt either.
          a.emit('boom');
          assert.deepStrictEqual(await ack(a, 'echo', 'again'), ['again']);
          healthy(a);
          healthy(b);
        });

        // ---- HTTP side reaching sockets -------------------------------------------------------------

        it('HTTP: IO(c).Broadcast reaches every connected client', TEST, async () => {
          const [a, b] = await Promise.all([connect(), connect()]);
          const tag = uniq('http-bc');
          const atA = next(a, 'http-broadcast');
          const atB = next(b, 'http-broadcast');
          const res = await request(`${fx.url}/broadcast`, 'POST', { tag });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.deepStrictEqual(await atA, [{ tag }]);
          assert.deepStrictEqual(await atB, [{ tag }]);
        });

        it('HTTP: IO(c).Room(r).Broadcast reaches members only', TEST, async () => {
          const [member, outsider] = await Promise.all([connect(), connect()]);
          const room = uniq('http-room');
          await ack(member, 'join', room);
          const gotOut = collect(outsider, 'http-room');
          const atMember = next(member, 'http-room');
          const res = await request(`${fx.url}/room/${encodeURIComponent(room)}`, 'POST', { to: 'members' });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.deepStrictEqual(await atMember, [{ to: 'members' }, room]);
          await h.sleep(QUIET);
          assert.deepStrictEqual(gotOut, []);
        });

        it('HTTP: IO(c).Emit(socket.id) reaches exactly that socket', TEST, async () => {
          const [target, other] = await Promise.all([connect(), connect()]);
          const gotOther = collect(other, 'http-direct');
          const atTarget = next(target, 'http-direct');
          const res = await request(`${fx.url}/emit/${encodeURIComponent(target.id)}`, 'POST', { only: 'you' });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.deepStrictEqual(await atTarget, [{ only: 'you' }]);
          await h.sleep(QUIET);
          assert.deepStrictEqual(gotOther, []);
        });

        it('HTTP: a forwarded route calling req.IO.Broadcast reaches every socket', TEST, async () => {
          const [a, b] = await Promise.all([connect(), connect()]);
          const tag = uniq('announce');
          const atA = next(a, 'http-announce');
          const atB = next(b, 'http-announce');
          const res = await request(`${fx.url}/http-announce`, 'POST', { tag });
          assert.equal(res.status, 200);
          assert.deepStrictEqual(res.body, { err: null });
          assert.deepStrictEqual(await atA, [{ tag }]);
          assert.deepStrictEqual(await atB, [{ tag }]);
        });
      });
    }
  }

  // ---- every generation at once ---------------------------------------------------------------

  describe('every client generation and mode together', () => {
    const all = () =>
      Promise.all(GENS.flatMap((gen) => MODES.map((mode) => h.connect(fx.url, gen, mode, { timeout: WAIT }))));
    const label = (s) => `${s.compat.client.label} ${s.compat.mode}`;

    it('app.IO.Broadcast with binary reaches 1.x..4.x sockets intact', TEST, async () => {
      const sockets = await all();
      const tag = uniq('mixed');
      const args = [tag, Buffer.from([1, 2, 3]), { nested: Buffer.from('zoë'), n: 1 }];
      const got = sockets.map((s) => next(s, 'everyone'));
      await ack(sockets[0], 'say-everyone', ...args);
      for (const [i, p] of got.entries()) {
        assert.deepStrictEqual(h.normalizeBinary(await p), args, label(sockets[i]));
      }
    });

    it('a room broadcast from one generation reaches the members of every other generation', TEST, async () => {
      const sockets = await all();
      const room = uniq('mixed-room');
      for (const s of sockets) await ack(s, 'join', room);
      for (const sender of [sockets[0], sockets[sockets.length - 1]]) {
        const others = sockets.filter((s) => s !== sender);
        const got = others.map((s) => next(s, 'room-msg'));
        await ack(sender, 'room-say', { room, msg: { bin: Buffer.from([7]) } });
        for (const [i, p] of got.entries()) {
          assert.deepStrictEqual(h.normalizeBinary(await p), [{ bin: Buffer.from([7]) }, sender.id], `${label(sender)} -> ${label(others[i])}`);
        }
      }
    });

    it('HTTP IO(c).Emit(id) reaches exactly the socket with that id, whatever its generation', TEST, async () => {
      const sockets = await all();
      assert.equal(new Set(sockets.map((s) => s.id)).size, sockets.length, 'socket ids collide');
      const got = sockets.map((s) => collect(s, 'http-direct'));
      for (const s of sockets) {
        const res = await request(`${fx.url}/emit/${encodeURIComponent(s.id)}`, 'POST', { to: s.id });
        assert.equal(res.status, 200);
      }
      await h.poll(() => got.every((g) => g.length >= 1), { timeout: WAIT, interval: 20 });
      await h.sleep(QUIET / 3);
      for (const [i, s] of sockets.entries()) assert.deepStrictEqual(got[i], [[{ to: s.id }]], label(s));
    });
  });

  // ---- HTTP side, client-independent ----------------------------------------------------------

  describe('HTTP', () => {
    it('POST /forward -> route -> route -> 200 JSON with the body', TEST, async () => {
      const res = await request(`${fx.url}/forward`, 'POST', { name: UNICODE, n: [1, 2] });
      assert.equal(res.status, 200);
      assert.match(res.type, /^application\/json/);
      assert.deepStrictEqual(res.body, { hello: 'from io route', data: { name: UNICODE, n: [1, 2] }, event: 'http-hello' });
    });

    it('POST /forward without a body: data is null', TEST, async () => {
      const res = await request(`${fx.url}/forward`, 'POST');
      assert.equal(res.status, 200);
      assert.deepStrictEqual(res.body, { hello: 'from io route', data: null, event: 'http-hello' });
    });

    it('Respond(404, obj) -> 404; Respond(obj, 201) -> 201; Respond() -> 204', TEST, async () => {
      const nf = await request(`${fx.url}/http-notfound`);
      assert.equal(nf.status, 404);
      assert.deepStrictEqual(nf.body, { error: 'no such thing' });
      const created = await request(`${fx.url}/http-created`);
      assert.equal(created.status, 201);
      assert.deepStrictEqual(created.body, { made: 'it' });
      const empty = await request(`${fx.url}/http-empty`);
      assert.equal(empty.status, 204);
      assert.equal(empty.body, '');
    });

    it('a route that responds later, from a goroutine -> 200', TEST, async () => {
      const res = await request(`${fx.url}/http-async`);
      assert.equal(res.status, 200);
      assert.deepStrictEqual(res.body, { async: true });
    });

    it('req.IO.Route to an unknown route from HTTP -> 404 with the error object', TEST, async () => {
      const res = await request(`${fx.url}/http-forward-missing`);
      assert.deepStrictEqual(res.body, { error: 'unknown route no-such-route' });
      // HTTPIO.Route answers an unknown route with 404; one hop further it must not be 200.
      assert.equal(res.status, 404);
    });

    it('a panicking route forwarded from HTTP -> 500 {"error":"internal server error"}, the server stays up', TEST, async () => {
      const socket = await h.connect(fx.url, 4, 'websocket', { timeout: WAIT });
      const res = await request(`${fx.url}/http-boom`);
      assert.equal(res.status, 500);
      assert.deepStrictEqual(res.body, { error: 'internal server error' });
      assert.equal((await request(`${fx.url}/healthz`)).status, 200);
      assert.deepStrictEqual(await ack(socket, 'echo', 'alive'), ['alive']);
      const again = await request(`${fx.url}/forward`, 'POST', { x: 1 });
      assert.equal(again.status, 200);
    });

    it('socket-only methods from HTTP return ErrNoSocket', TEST, async () => {
      const res = await request(`${fx.url}/http-socket-only`);
      assert.equal(res.status, 200);
      assert.deepStrictEqual(res.body, {
        emit: true,
        emitWithAck: true,
        join: true,
        leave: true,
        disconnect: true,
        rooms: 0,
        socketNil: true,
        wantsAck: true,
      });
    });

    it('RouteForward(Backbone()): POST/GET/PUT/DELETE /books[/id] reach books:*', TEST, async () => {
      const created = await request(`${fx.url}/books`, 'POST', { title: 'Dune' });
      assert.equal(created.status, 201);
      assert.deepStrictEqual(created.body, { action: 'create', id: '', body: { title: 'Dune' }, event: 'books:create' });
      const read = await request(`${fx.url}/books/1`);
      assert.equal(read.status, 200);
      assert.deepStrictEqual(read.body, { action: 'read', id: '1', body: null, event: 'books:read' });
      const list = await request(`${fx.url}/books`);
      assert.equal(list.status, 200);
      assert.deepStrictEqual(list.body, { action: 'read', id: '', body: null, event: 'books:read' });
      const updated = await request(`${fx.url}/books/1`, 'PUT', { title: 'Dune Messiah' });
      assert.equal(updated.status, 200);
      assert.deepStrictEqual(updated.body, { action: 'update', id: '1', body: { title: 'Dune Messiah' }, event: 'books:update' });
      const deleted = await request(`${fx.url}/books/1`, 'DELETE');
      assert.equal(deleted.status, 200);
      assert.deepStrictEqual(deleted.body, { action: 'delete', id: '1', body: null, event: 'books:delete' });
    });

    it('RouteForward: no rule or no route -> 404 from gin', TEST, async () => {
      for (const [method, path] of [
        ['GET', '/unknown-resource/1'],
        ['PUT', '/books'], // update needs an id
        ['POST', '/books/1'], // create takes none
        ['GET', '/books/1/extra'],
      ]) {
        const res = await request(`${fx.url}${path}`, method);
        assert.equal(res.status, 404, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    });
  });
});

// A second fixture: -route-timeout 300, so that a route that never responds gets its 504
// quickly; it also hosts the panics outside routes, which may bring the process down (it is
// restarted before each test when it died).
describe('express.io API: RouteTimeout and panics outside routes (profile api, -route-timeout 300)', () => {
  let fx;
  before(async () => {
    fx = await h.startFixture('api', ['-route-timeout', '300']);
  });
  beforeEach(async () => {
    if (!fx.proc) await fx.restart();
  });
  after(async () => {
    h.closeAllSockets();
    if (fx) await fx.stop();
  });
  afterEach(() => h.closeAllSockets());

  const alive = async (what) => {
    await h.sleep(QUIET);
    assert.ok(fx.proc, `the fixture died after ${what}:\n${fx.log.slice(-1500)}`);
    assert.equal((await request(`${fx.url}/healthz`)).status, 200);
    const other = await h.connect(fx.url, 4, 'websocket', { timeout: WAIT });
    assert.deepStrictEqual(await ack(other, 'echo', 'still up'), ['still up']);
  };

  it('GET /http-silent -> 504 after about 300 ms, and the server keeps serving', TEST, async () => {
    const t0 = Date.now();
    const res = await request(`${fx.url}/http-silent`);
    const took = Date.now() - t0;
    assert.equal(res.status, 504);
    assert.deepStrictEqual(res.body, { error: 'route http-silent did not respond' });
    assert.ok(took >= 250 && took < 2500, `answered after ${took} ms`);
    const ok = await request(`${fx.url}/forward`, 'POST', { x: 1 });
    assert.equal(ok.status, 200);
  });

  it('a panicking OnAck callback does not bring the server down', TEST, async () => {
    const socket = await h.connect(fx.url, 4, 'websocket', { timeout: WAIT });
    socket.once('question', (q, cb) => cb('here'));
    await ack(socket, 'emit-ack-panic');
    await alive('an OnAck callback panicked');
  });

  for (const gen of [2, 4]) {
    it(`a panicking OnConnect hook does not bring the server down (${h.client(gen).label})`, TEST, async () => {
      h.createSocket(fx.url, gen, 'websocket', { timeout: WAIT, query: { panic: 'hook' } });
      await alive('an OnConnect hook panicked');
    });

    // Like a route's panic ends only that request, a middleware's panic should reject only that
    // handshake: connect_error (3.x/4.x) or 'error' (1.x/2.x), not a hang or a dropped transport.
    it(`a panicking middleware rejects the socket, the server stays up (${h.client(gen).label})`, TEST, async () => {
      const socket = h.createSocket(fx.url, gen, 'websocket', { timeout: WAIT, query: { panic: 'middleware' } });
      const rejected = h.waitEvent(socket, gen >= 3 ? 'connect_error' : 'error', {
        timeout: WAIT,
        failOn: ['connect'],
        what: 'the rejection of a socket whose middleware panicked',
      });
      await alive('a middleware panicked');
      const [err] = await rejected;
      assert.ok(err, 'an empty rejection');
      assert.equal(socket.connected, false);
    });
  }
});
