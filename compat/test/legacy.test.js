'use strict';
// socket.io 0.9 clients on the same server: socket.io-client 0.9.16 (express.io's own client,
// npm alias sio09) in Node, over websocket and over xhr-polling, against the fixture's `api`
// profile started with -legacy (compat/fixture/api.go). Every row of the express.io API that
// api.test.js drives for 1.x..4.x and that 0.9 can express: acks (multi-args, unicode, none,
// none asked, twice), server-to-client acks, rooms and the broadcast scopes, forwarding,
// nested and late routes, the connect hook, disconnect reasons, the handshake and its
// middleware, panic isolation, the message route (0.9's send), and HTTP reaching 0.9 sockets.
// Then 0.9, 2.x and 4.x sockets in one room. 0.9 has no binary (it gets base64 strings) and
// no auth payload; its socket id is the session id of its handshake (socket.socket.sessionid).
//
// The transport is forced through the module's io.transports (0.9 ignores a transports
// connect option); each test checks the transport really used. jsonp-polling and htmlfile
// need a document: browser.test.js drives them in Chromium. A tap on the 0.9 transports
// records the packets on the wire, so that the acks' exact form (6:::1, 6:::1+[...]) is
// checked and a failure shows the traffic.

const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const h = require('../lib/helpers');
const ex = require('../lib/examples');

const TEST = { timeout: 10000 };
const TRANSPORTS = ['websocket', 'xhr-polling'];
// The longest we wait for anything that should happen.
const WAIT = 3000;
// How long we listen for something that must not happen.
const QUIET = 300;
const UNICODE = 'héllo wörld 😀 中文';

let seq = 0;
const uniq = (prefix) => `${prefix}-${process.pid}-${Date.now()}-${++seq}`;

// ---------------------------------------------------------------------------------------------
// The wire: every packet a 0.9 connection receives ('<') and sends ('>'), in order, on
// socket.socket.compatWire.

const { io: io09 } = ex.legacyModule();
tapWire(io09);

function tapWire(io) {
  const onData = io.Transport.prototype.onData;
  io.Transport.prototype.onData = function (data) {
    const log = this.socket && this.socket.compatWire;
    if (log) for (const p of splitPayload(data)) log.push(['<', p]);
    return onData.call(this, data);
  };
  for (const T of [io.Transport.websocket, io.Transport.XHR]) {
    const send = T.prototype.send;
    T.prototype.send = function (data) {
      const log = this.socket && this.socket.compatWire;
      if (log) for (const p of splitPayload(data)) log.push(['>', p]);
      return send.call(this, data);
    };
  }
}

// A 0.9 payload: one bare packet, or `\ufffd<length>\ufffd<packet>` repeated (length in
// UTF-16 code units, JavaScript's string length).
function splitPayload(data) {
  if (typeof data !== 'string' || data[0] !== '\ufffd') return [String(data)];
  const out = [];
  let i = 0;
  while (i < data.length && data[i] === '\ufffd') {
    const j = data.indexOf('\ufffd', i + 1);
    if (j < 0) break;
    const n = Number(data.slice(i + 1, j));
    out.push(data.substr(j + 1, n));
    i = j + 1 + n;
  }
  return out;
}

function wire(socket) {
  return socket.socket.compatWire.map(([dir, p]) => `${dir} ${p}`).join('\n');
}

// The id the client gave its last `event` packet that asked for an ack (5:<id>+::...).
function ackId(socket, event) {
  const sent = socket.socket.compatWire.filter(([dir, p]) => dir === '>' && p.startsWith('5:') && p.includes(`{"name":${JSON.stringify(event)}`));
  const m = sent.length && /^5:(\d+)\+::/.exec(sent[sent.length - 1][1]);
  assert.ok(m, `no '${event}' event with an ack id was sent:\n${wire(socket)}`);
  return m[1];
}

// The ack packets the server sent for ack id `id`.
function acksFor(socket, id) {
  return socket.socket.compatWire.filter(([dir, p]) => dir === '<' && (p === `6:::${id}` || p.startsWith(`6:::${id}+`))).map(([, p]) => p);
}

// ---------------------------------------------------------------------------------------------
// Clients and HTTP

const ack = (socket, event, ...args) => h.emitAckWithin(WAIT, socket, event, ...args);
const next = (socket, event) => h.waitEvent(socket, event, { timeout: WAIT, failOn: ['disconnect'] });

function collect(socket, event) {
  const got = [];
  socket.on(event, (...args) => got.push(args));
  return got;
}

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

describe('socket.io-client 0.9.16 (profile api, -legacy)', () => {
  let fx;
  before(async () => {
    fx = await h.startFixture('api', ['-legacy']);
  });
  after(async () => {
    ex.closeAll();
    h.closeAllSockets();
    if (fx) await fx.stop();
  });
  afterEach(() => {
    ex.closeAll();
    h.closeAllSockets();
  });

  // Opens a 0.9 socket on `transport` without waiting; the wire tap is on.
  const open = (transport, opts = {}) => {
    const socket = ex.openLegacy(fx.url, { transports: [transport], ...opts });
    socket.socket.compatWire = [];
    return socket;
  };
  const waitConnected = async (socket, transport) => {
    if (!socket.connected) {
      await h.waitEvent(socket, 'connect', {
        timeout: WAIT,
        failOn: ['error', 'connect_failed', 'disconnect'],
        what: `socket.io-client 0.9.16 (${transport}) to connect`,
      });
    }
    assert.equal(socket.socket.transport.name, transport, 'the transport used is not the forced one');
    return socket;
  };
  const connect = (transport, opts) => waitConnected(open(transport, opts), transport);

  it('serves the 0.9.16 browser client at /socket.io/socket.io.js, 4.x at /socket.io/socket.io.v4.js', TEST, async () => {
    const v09 = await request(`${fx.url}/socket.io/socket.io.js`);
    assert.equal(v09.status, 200, v09.body.slice(0, 200));
    assert.match(v09.type, /javascript/);
    assert.match(v09.body, /io\.version = '0\.9\.16'/);
    const v4 = await request(`${fx.url}/socket.io/socket.io.v4.js`);
    assert.equal(v4.status, 200, v4.body.slice(0, 200));
    assert.match(v4.body, /Socket\.IO v4\.8\.4/);
  });

  for (const transport of TRANSPORTS) {
    describe(transport, () => {
      const healthy = (socket) => {
        assert.deepEqual(h.unexpectedEvents(socket), [], 'unexpected socket events');
        assert.equal(socket.connected, true, 'socket.socket.connected');
      };
      const conn = (opts) => connect(transport, opts);

      // ---- connect hook --------------------------------------------------------------------

      it('OnConnect: hello(socket id) arrives, equal to socket.socket.sessionid', TEST, async () => {
        const socket = open(transport);
        const hello = h.waitEvent(socket, 'hello', { timeout: WAIT, failOn: ['error', 'connect_failed', 'disconnect'] });
        await waitConnected(socket, transport);
        const [id] = await hello;
        assert.equal(typeof id, 'string');
        assert.ok(id.length > 0, 'empty id');
        assert.equal(id, socket.socket.sessionid, 'hello carries another id than the 0.9 session id');
        healthy(socket);
      });

      // ---- Respond -------------------------------------------------------------------------

      it('echo: Respond(all args) with unicode; an ack-only event gets 6:::<id>', TEST, async () => {
        const socket = await conn();
        const args = [1, 'two', { three: [3] }, null, true, UNICODE];
        assert.deepStrictEqual(await ack(socket, 'echo', ...args), args);
        // Only an ack callback: 5:<id>+::{"name":"echo"}, an ack without arguments.
        assert.deepStrictEqual(await ack(socket, 'echo'), []);
        const id = ackId(socket, 'echo');
        assert.deepStrictEqual(acksFor(socket, id), [`6:::${id}`], wire(socket));
        healthy(socket);
      });

      it('Respond() with no args: the ack gets no arguments, 6:::<id> on the wire', TEST, async () => {
        const socket = await conn();
        assert.deepStrictEqual(await ack(socket, 'respond-none', 'x'), []);
        const id = ackId(socket, 'respond-none');
        assert.deepStrictEqual(acksFor(socket, id), [`6:::${id}`], wire(socket));
        healthy(socket);
      });

      it('Respond without a client ack: nothing arrives, no error on the server', TEST, async () => {
        const socket = await conn();
        const stray = collect(socket, 'ignored');
        socket.emit('no-ack-respond', 'x');
        const [log] = await ack(socket, 'respond-log');
        assert.deepStrictEqual(log['no-ack-respond'], { err: null, wantsAck: false });
        await h.sleep(QUIET / 3);
        assert.deepStrictEqual(stray, []);
        assert.ok(!wire(socket).includes('ignored'), `'ignored' went on the wire:\n${wire(socket)}`);
        healthy(socket);
      });

      it('Respond twice: one ack packet with the first value; the second returns ErrAlreadyResponded', TEST, async () => {
        const socket = await conn();
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
        const id = ackId(socket, 'respond-twice');
        assert.deepStrictEqual(acksFor(socket, id), [`6:::${id}+["a"]`], wire(socket));
        const [log] = await ack(socket, 'respond-log');
        assert.deepStrictEqual(log['respond-twice'], { first: null, second: 'expressio: already responded', secondIsAlreadyAnswered: true });
        healthy(socket);
      });

      // ---- server-to-client acks -----------------------------------------------------------

      it('Emit with OnAck: the 0.9 client acks through its callback, the server emits answer(...ack)', TEST, async () => {
        const socket = await conn();
        const question = new Promise((resolve) => {
          socket.once('question', (q, obj, cb) => {
            resolve([q, obj, typeof cb]);
            if (typeof cb === 'function') cb('forty-two', { n: obj && obj.n, s: UNICODE });
          });
        });
        const answer = next(socket, 'answer');
        assert.deepStrictEqual(await ack(socket, 'emit-ack', {}), [null]);
        assert.deepStrictEqual(await h.withTimeout(question, WAIT, "'question'"), ['what is 6*7?', { n: 42 }, 'function']);
        assert.deepStrictEqual(await answer, ['forty-two', { n: 42, s: UNICODE }]);
        // The server asked for a data ack (5:<id>+::), and the client's went back as 6:::<id>+[...].
        const q = socket.socket.compatWire.find(([dir, p]) => dir === '<' && p.includes('"name":"question"'));
        assert.ok(q, wire(socket));
        const m = /^5:(\d+)\+::/.exec(q[1]);
        assert.ok(m, `the question asked no data ack: ${q[1]}`);
        assert.ok(
          socket.socket.compatWire.some(([dir, p]) => dir === '>' && p.startsWith(`6:::${m[1]}+["forty-two",`)),
          `the client's ack is not on the wire:\n${wire(socket)}`,
        );
        healthy(socket);
      });

      it('Emit with OnAck: no ack within the timeout gives ErrAckTimeout', TEST, async () => {
        const socket = await conn();
        socket.once('question', () => {}); // never acks
        const answers = collect(socket, 'answer');
        const timedOut = next(socket, 'ack-timeout');
        await ack(socket, 'emit-ack', { timeout: 300 });
        const [isTimeout, msg] = await timedOut;
        assert.equal(isTimeout, true, `not ErrAckTimeout: ${msg}`);
        assert.match(msg, /ack timeout/);
        assert.deepStrictEqual(answers, []);
        healthy(socket);
      });

      it('EmitWithAck inside a route: the route waits for the 0.9 ack and responds with it', TEST, async () => {
        const socket = await conn();
        socket.on('question2', (x, cb) => cb(x * 2, 'ok'));
        assert.deepStrictEqual(await ack(socket, 'emit-with-ack', 21), [42, 'ok']);
        assert.deepStrictEqual(await ack(socket, 'echo', 'next'), ['next']);
        healthy(socket);
      });

      // ---- rooms and broadcast scopes -------------------------------------------------------

      it('Join / Leave / Rooms (sorted)', TEST, async () => {
        const socket = await conn();
        const [a, b] = [uniq('b-room'), uniq('a-room')];
        assert.deepStrictEqual(await ack(socket, 'rooms'), [[]]);
        assert.deepStrictEqual(await ack(socket, 'join', a), [[a]]);
        assert.deepStrictEqual(await ack(socket, 'join', b), [[b, a].sort()]);
        assert.deepStrictEqual(await ack(socket, 'join', a), [[b, a].sort()], 'joining twice');
        assert.deepStrictEqual(await ack(socket, 'leave', a), [[b]]);
        assert.deepStrictEqual(await ack(socket, 'leave', 'never-joined'), [[b]]);
        assert.deepStrictEqual(await ack(socket, 'rooms'), [[b]]);
        healthy(socket);
      });

      it('req.IO.Room(r).Broadcast: members but the sender; a non-member reaches all members', TEST, async () => {
        const [a, b, outsider] = await Promise.all([conn(), conn(), conn()]);
        const room = uniq('room');
        await ack(a, 'join', room);
        await ack(b, 'join', room);
        const gotA = collect(a, 'room-msg');
        const gotOut = collect(outsider, 'room-msg');
        const atB = next(b, 'room-msg');
        assert.deepStrictEqual(await ack(a, 'room-say', { room, msg: UNICODE }), [null]);
        assert.deepStrictEqual(await atB, [UNICODE, a.id]);
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
        const [a, b, c] = await Promise.all([conn(), conn(), conn()]);
        const room = uniq('room');
        for (const s of [a, b, c]) await ack(s, 'join', room);
        assert.deepStrictEqual(await ack(b, 'leave', room), [[]]);
        const gotB = ['room-msg', 'server-room-msg'].map((ev) => collect(b, ev));
        const atA = next(a, 'server-room-msg');
        const atC = next(c, 'room-msg');
        await ack(a, 'server-room', { room, msg: 'all members' });
        await ack(a, 'room-say', { room, msg: 'others' });
        assert.deepStrictEqual(await atA, ['all members', room]);
        assert.deepStrictEqual(await atC, ['others', a.id]);
        await h.sleep(QUIET);
        assert.deepStrictEqual(gotB, [[], []], 'the socket that left still got room messages');
        healthy(b);
      });

      it('req.IO.Broadcast: everyone but the sender, all args', TEST, async () => {
        const [a, b, c] = await Promise.all([conn(), conn(), conn()]);
        const gotA = collect(a, 'all-but-me');
        const tag = uniq('abm');
        const atB = next(b, 'all-but-me');
        const atC = next(c, 'all-but-me');
        await ack(a, 'say-all-but-me', tag, 2, { three: 3 });
        assert.deepStrictEqual(await atB, [tag, 2, { three: 3 }]);
        assert.deepStrictEqual(await atC, [tag, 2, { three: 3 }]);
        await h.sleep(QUIET);
        assert.deepStrictEqual(gotA, [], 'the sender got its own broadcast');
      });

      it('app.IO.Broadcast: everyone including the sender, all args', TEST, async () => {
        const [a, b] = await Promise.all([conn(), conn()]);
        const tag = uniq('every');
        const atA = next(a, 'everyone');
        const atB = next(b, 'everyone');
        await ack(a, 'say-everyone', tag, 1, [2, 3], null, UNICODE);
        assert.deepStrictEqual(await atA, [tag, 1, [2, 3], null, UNICODE]);
        assert.deepStrictEqual(await atB, [tag, 1, [2, 3], null, UNICODE]);
      });

      // express.io's req.io.emit('ev') and broadcast('ev') with no message (the broadcasting
      // example's 'new visitor', the sessions example's 'get-feelings') reach 0.9 clients.
      it('an event with no arguments reaches the 0.9 client (app.IO.Broadcast of say-everyone without args)', TEST, async () => {
        const [a, b] = await Promise.all([conn(), conn()]);
        const atB = next(b, 'everyone');
        assert.deepStrictEqual(await ack(a, 'say-everyone'), [null]);
        const got = await atB.catch((err) => {
          err.message += `\n--- the receiving 0.9 socket's wire ---\n${wire(b)}`;
          throw err;
        });
        // express.io sent such an event as args [null] (req.io.emit) or without args.
        assert.ok(got.length === 0 || (got.length === 1 && got[0] === null), `'everyone' arrived with ${JSON.stringify(got)}`);
      });

      it('app.IO.Room(r).Broadcast: every member including the sender, not the others', TEST, async () => {
        const [a, b, outsider] = await Promise.all([conn(), conn(), conn()]);
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

      // ---- forwarding ------------------------------------------------------------------------

      it('req.IO.Route: forwards data and ack; the target answers the original ack', TEST, async () => {
        const socket = await conn();
        assert.deepStrictEqual(await ack(socket, 'forward', { x: UNICODE }), ['target', { x: UNICODE }, 'forward']);
        healthy(socket);
      });

      it('req.IO.Route to an unknown route: the ack gets an error object', TEST, async () => {
        const socket = await conn();
        assert.deepStrictEqual(await ack(socket, 'forward-missing', 1), [{ error: 'unknown route no-such-route' }]);
        const [log] = await ack(socket, 'respond-log');
        assert.equal(log['forward-missing'].isUnknownRoute, true, JSON.stringify(log));
        healthy(socket);
      });

      it('req.IO.Route chains: route -> route -> route', TEST, async () => {
        const socket = await conn();
        assert.deepStrictEqual(await ack(socket, 'chain-1', { hops: ['client'] }), [['client', 'chain-1', 'chain-2', 'chain-3']]);
        healthy(socket);
      });

      // ---- nested and late routes ------------------------------------------------------------

      it('nested Routes: customers:create / customers:remove; nothing under bare customers', TEST, async () => {
        const socket = await conn();
        assert.deepStrictEqual(await ack(socket, 'customers:create', { name: 'ann' }), ['created', { name: 'ann' }, 'customers:create']);
        assert.deepStrictEqual(await ack(socket, 'customers:remove', 7), ['removed', 7, 'customers:remove']);
        await assertNoAck(socket, 'customers', { name: 'ann' });
        await assertNoAck(socket, 'customers:delete', 7);
        assert.deepStrictEqual(await ack(socket, 'echo', 'still'), ['still']);
        healthy(socket);
      });

      it('a route registered after the client connected works for that client', TEST, async () => {
        const socket = await conn();
        const name = uniq('late');
        await assertNoAck(socket, name, 'before');
        const res = await request(`${fx.url}/late-route`, 'POST', { name });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepStrictEqual(await ack(socket, name, 'after'), ['late', name, 'after']);
        healthy(socket);
      });

      it("message route: 0.9's send(x) (3:::x) and json.send(obj) (4:::obj)", TEST, async () => {
        const socket = await conn();
        let back = next(socket, 'message-back');
        socket.send('x');
        assert.deepStrictEqual(await back, ['x']);
        back = next(socket, 'message-back');
        socket.send(UNICODE);
        assert.deepStrictEqual(await back, [UNICODE]);
        back = next(socket, 'message-back');
        socket.json.send({ sent: UNICODE });
        assert.deepStrictEqual(await back, [{ sent: UNICODE }]);
        const out = socket.socket.compatWire.filter(([dir]) => dir === '>').map(([, p]) => p);
        assert.ok(out.includes('3:::x') && out.includes(`4:::${JSON.stringify({ sent: UNICODE })}`), wire(socket));
        healthy(socket);
      });

      // ---- disconnects -----------------------------------------------------------------------

      const lastDisconnect = async (tag) => {
        const observer = await conn();
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

      // socket.io 0.9 calls a client's disconnect (0::) 'booted', and so did express.io's
      // disconnect route.
      it("disconnect route: a 0.9 client's disconnect() is 'booted'", TEST, async () => {
        const socket = await conn();
        const tag = uniq('client-dc');
        await ack(socket, 'tag', tag);
        socket.disconnect();
        assert.equal(await lastDisconnect(tag), 'booted');
      });

      if (transport === 'websocket') {
        it("disconnect route: the WebSocket closing without 0:: is 'socket end'", TEST, async () => {
          const socket = await conn();
          const tag = uniq('transport-dc');
          await ack(socket, 'tag', tag);
          socket.socket.transport.websocket.close();
          assert.equal(await lastDisconnect(tag), 'socket end');
        });
      }

      it("req.IO.Disconnect: the 0.9 client gets 0:: and 'disconnect', the route 'server namespace disconnect'", TEST, async () => {
        const socket = await conn();
        const tag = uniq('kick');
        await ack(socket, 'tag', tag);
        const disconnected = h.waitEvent(socket, 'disconnect', { timeout: WAIT });
        socket.emit('kick');
        const [reason] = await disconnected;
        assert.equal(reason, 'booted');
        assert.equal(socket.connected, false);
        assert.ok(socket.socket.compatWire.some(([dir, p]) => dir === '<' && p === '0::'), wire(socket));
        assert.equal(await lastDisconnect(tag), 'server namespace disconnect');
      });

      // ---- handshake and middleware -----------------------------------------------------------

      it('handshake: address, query, issued, time, url, secure, xdomain', TEST, async () => {
        const before = Date.now();
        const socket = await conn({ query: { q: 'a b&c' } });
        const [hs] = await ack(socket, 'handshake-info');
        assert.match(hs.address, /127\.0\.0\.1/);
        assert.equal(hs.query, 'a b&c');
        assert.equal(typeof hs.issued, 'number');
        assert.ok(Math.abs(hs.issued - before) < 10000, `issued ${hs.issued} is not near ${before}`);
        const t = Date.parse(hs.time);
        assert.ok(Number.isFinite(t), `time ${hs.time} does not parse`);
        assert.ok(Math.abs(t - hs.issued) < 1000, `time ${hs.time} and issued ${hs.issued} disagree`);
        assert.match(hs.url, /^\/socket\.io\/1\/\?/, `url ${hs.url}`);
        assert.equal(hs.secure, false);
        assert.equal(hs.xdomain, false);
        assert.equal(hs.namespace, '/');
        healthy(socket);
      });

      it("middleware: a refused handshake (token=bad) is 0.9's 'error' and never connects", TEST, async () => {
        const socket = open(transport, { query: { token: 'bad' } });
        const [error] = await h.waitEvent(socket, 'error', { timeout: WAIT, failOn: ['connect'] });
        assert.ok(['handshake error', 'handshake unauthorized'].includes(error), `error ${JSON.stringify(error)}`);
        await h.sleep(QUIET);
        assert.equal(socket.connected, false);
        assert.ok(!socket.compat.events.some((e) => e.ev === 'connect'), 'the refused socket connected');
        assert.deepStrictEqual(socket.socket.compatWire, [], 'a transport was opened');
        // The handshake request itself, as the client saw it.
        const raw = await request(`${fx.url}/socket.io/1/?token=bad&t=${Date.now()}`);
        assert.deepStrictEqual([raw.status, raw.body], error === 'handshake error' ? [500, 'handshake error'] : [403, 'handshake unauthorized']);
      });

      it('middleware values reach routes (h.Set -> req.Handshake.Get)', TEST, async () => {
        const [zoe, anon] = await Promise.all([conn({ query: { user: 'zoë' } }), conn()]);
        assert.deepStrictEqual(await ack(zoe, 'whoami'), ['zoë']);
        assert.deepStrictEqual(await ack(anon, 'whoami'), [null]);
        healthy(zoe);
      });

      // ---- panic isolation -----------------------------------------------------------------

      it('a panicking route: the ack gets an error object, both clients keep working', TEST, async () => {
        const [a, b] = await Promise.all([conn(), conn()]);
        assert.deepStrictEqual(await ack(a, 'boom', 1), [{ error: 'internal server error' }]);
        assert.deepStrictEqual(await ack(a, 'echo', 'after boom'), ['after boom']);
        assert.deepStrictEqual(await ack(b, 'echo', 'other client'), ['other client']);
        a.emit('boom');
        assert.deepStrictEqual(await ack(a, 'echo', 'again'), ['again']);
        healthy(a);
        healthy(b);
      });

      // ---- HTTP side reaching 0.9 sockets -------------------------------------------------------

      it('HTTP: IO(c).Broadcast reaches every connected 0.9 client', TEST, async () => {
        const [a, b] = await Promise.all([conn(), conn()]);
        const tag = uniq('http-bc');
        const atA = next(a, 'http-broadcast');
        const atB = next(b, 'http-broadcast');
        const res = await request(`${fx.url}/broadcast`, 'POST', { tag, s: UNICODE });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepStrictEqual(await atA, [{ tag, s: UNICODE }]);
        assert.deepStrictEqual(await atB, [{ tag, s: UNICODE }]);
      });

      it('HTTP: IO(c).Room(r).Broadcast reaches members only', TEST, async () => {
        const [member, outsider] = await Promise.all([conn(), conn()]);
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

      it('HTTP: IO(c).Emit(sessionid) reaches exactly that 0.9 socket', TEST, async () => {
        const [target, other] = await Promise.all([conn(), conn()]);
        const gotOther = collect(other, 'http-direct');
        const atTarget = next(target, 'http-direct');
        const res = await request(`${fx.url}/emit/${encodeURIComponent(target.socket.sessionid)}`, 'POST', { only: 'you' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepStrictEqual(await atTarget, [{ only: 'you' }]);
        await h.sleep(QUIET);
        assert.deepStrictEqual(gotOther, []);
      });

      it('HTTP: a forwarded route calling req.IO.Broadcast reaches every 0.9 socket', TEST, async () => {
        const [a, b] = await Promise.all([conn(), conn()]);
        const tag = uniq('announce');
        const atA = next(a, 'http-announce');
        const atB = next(b, 'http-announce');
        const res = await request(`${fx.url}/http-announce`, 'POST', { tag });
        assert.equal(res.status, 200);
        assert.deepStrictEqual(res.body, { err: null });
        assert.deepStrictEqual(await atA, [{ tag }]);
        assert.deepStrictEqual(await atB, [{ tag }]);
      });

      // ---- one room, three generations ------------------------------------------------------

      it('a mixed room: 0.9, 2.x and 4.x members get the same HTTP and socket broadcasts', TEST, async () => {
        const [old, v2, v4, outsider] = await Promise.all([
          conn(),
          h.connect(fx.url, 2, transport === 'websocket' ? 'websocket' : 'polling', { timeout: WAIT }),
          h.connect(fx.url, 4, transport === 'websocket' ? 'websocket' : 'polling', { timeout: WAIT }),
          conn(),
        ]);
        const members = [old, v2, v4];
        const label = (s) => s.compat.client.label;
        const room = uniq('mix');
        for (const s of members) assert.deepStrictEqual(await ack(s, 'join', room), [[room]], label(s));
        const gotOut = ['http-room', 'room-msg'].map((ev) => collect(outsider, ev));

        // HTTP POST /room/:r reaches all three with the same payload.
        const payload = { text: UNICODE, n: [1, 2.5, null], nested: { ok: true } };
        let got = members.map((s) => next(s, 'http-room'));
        const res = await request(`${fx.url}/room/${encodeURIComponent(room)}`, 'POST', payload);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        for (const [i, p] of got.entries()) assert.deepStrictEqual(await p, [payload, room], label(members[i]));

        // A room-say from a non-member (0.9) reaches all three.
        got = members.map((s) => next(s, 'room-msg'));
        await ack(outsider, 'room-say', { room, msg: payload });
        for (const [i, p] of got.entries()) assert.deepStrictEqual(await p, [payload, outsider.id], label(members[i]));

        // A room-say from each member reaches the other two, never the sender.
        for (const sender of members) {
          const others = members.filter((s) => s !== sender);
          const mine = collect(sender, 'room-msg');
          got = others.map((s) => next(s, 'room-msg'));
          await ack(sender, 'room-say', { room, msg: { from: label(sender), text: UNICODE } });
          for (const [i, p] of got.entries()) {
            assert.deepStrictEqual(await p, [{ from: label(sender), text: UNICODE }, sender.id], `${label(sender)} -> ${label(others[i])}`);
          }
          await h.sleep(QUIET / 3);
          assert.deepStrictEqual(mine, [], `${label(sender)} got its own room-say`);
        }
        assert.deepStrictEqual(gotOut, [[], []], 'the non-member got a room message');
      });

      it('binary from a 4.x client reaches a 0.9 client as base64 strings', TEST, async () => {
        const [old, v4] = await Promise.all([conn(), h.connect(fx.url, 4, 'websocket', { timeout: WAIT })]);
        const atOld = next(old, 'everyone');
        const atV4 = next(v4, 'everyone');
        await ack(v4, 'say-everyone', 'bin', Buffer.from([1, 2, 3]), { nested: Buffer.from('zoë') });
        assert.deepStrictEqual(await atOld, ['bin', Buffer.from([1, 2, 3]).toString('base64'), { nested: Buffer.from('zoë').toString('base64') }]);
        assert.deepStrictEqual(h.normalizeBinary(await atV4), ['bin', Buffer.from([1, 2, 3]), { nested: Buffer.from('zoë') }]);
      });
    });
  }
});
