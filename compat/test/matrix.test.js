'use strict';
// Scenario matrix: every pinned socket.io-client generation × transport mode against the
// fixture's `default` profile. Heartbeats run at 300/200 ms so they happen during the tests.

const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const h = require('../lib/helpers');

const FLAGS = ['-ping-interval', '300', '-ping-timeout', '200'];
const UNICODE = 'héllo wörld 😀 𝄞 中文';
const TEST = { timeout: 20000 };

describe('client matrix (profile default)', () => {
  let fx;
  before(async () => {
    fx = await h.startFixture('default', FLAGS);
  });
  after(async () => {
    h.closeAllSockets();
    if (fx) await fx.stop();
  });

  for (const c of h.CLIENTS) {
    for (const mode of h.MODES) {
      describe(`${c.label} ${mode}`, () => {
        const connect = (opts) => h.connect(fx.url, c.gen, mode, opts);
        afterEach(() => h.closeAllSockets());

        // Asserts the socket is still connected on the expected transport and saw no
        // disconnect or error since it was created.
        const assertHealthy = (socket) => {
          assert.deepEqual(h.unexpectedEvents(socket), [], 'unexpected socket events');
          assert.equal(socket.connected, true, 'socket.connected');
          const want = mode === 'polling' ? 'polling' : 'websocket';
          assert.equal(socket.io.engine.transport.name, want, 'engine transport');
        };

        it('connects', TEST, async () => {
          const socket = await connect();
          assert.equal(socket.connected, true);
          assert.equal(typeof socket.id, 'string');
          assert.ok(socket.id.length > 0, 'socket.id is empty');
          assertHealthy(socket);
        });

        it('echo with a multi-value ack (unicode, null, booleans, objects)', TEST, async () => {
          const socket = await connect();
          const args = [1, 'two', { three: [3] }, null, true, UNICODE];
          const got = await h.emitAck(socket, 'echo', ...args);
          assert.deepStrictEqual(got, args);
          // A long string: EIO3 polling frames carry a length prefix in UTF-16 units.
          const long = UNICODE.repeat(200);
          assert.deepStrictEqual(await h.emitAck(socket, 'echo', long), [long]);
          assertHealthy(socket);
        });

        it('server-to-client emit with an ack', TEST, async () => {
          const socket = await connect();
          const question = new Promise((resolve) => {
            socket.on('question', (q, obj, ack) => {
              resolve([q, obj, typeof ack]);
              if (typeof ack === 'function') ack('forty-two', obj && obj.n);
            });
          });
          const answer = h.waitEvent(socket, 'answer', { failOn: ['disconnect'] });
          socket.emit('ask');
          const [q, obj, ackType] = await h.withTimeout(question, h.DEFAULT_WAIT, "the server's 'question'");
          assert.equal(q, 'what is 6*7?');
          assert.deepStrictEqual(obj, { n: 42 });
          assert.equal(ackType, 'function', "'question' arrived without an ack callback");
          assert.deepStrictEqual(await answer, ['forty-two', 42]);
          assertHealthy(socket);
        });

        it('binary: top-level and nested buffers round-trip through an ack', TEST, async () => {
          const socket = await connect();
          const top = Buffer.from([1, 2, 3]);
          const obj = { nested: { buf: Buffer.from('héllo') }, list: [Buffer.from([255, 0])] };
          const got = await h.emitAck(socket, 'echo', top, obj);
          assert.deepStrictEqual(h.normalizeBinary(got), [top, obj]);
          assertHealthy(socket);
        });

        it('binary: a large buffer and an empty one, mixed with text', TEST, async () => {
          const socket = await connect();
          const big = Buffer.alloc(70000, 7);
          const got2 = await h.emitAck(socket, 'echo', UNICODE, big, [Buffer.alloc(0), 5]);
          assert.deepStrictEqual(h.normalizeBinary(got2), [UNICODE, big, [Buffer.alloc(0), 5]]);
          assertHealthy(socket);
        });

        it('server-to-client event carrying binary (emit-back)', TEST, async () => {
          const socket = await connect();
          const back = h.waitEvent(socket, 'echo-back', { failOn: ['disconnect'] });
          const args = ['bin', Buffer.from([0, 1, 2, 255]), { deep: [Buffer.from('zoë')] }];
          socket.emit('emit-back', ...args);
          assert.deepStrictEqual(h.normalizeBinary(await back), args);
          assertHealthy(socket);
        });

        it('second namespace on the same manager and engine', TEST, async () => {
          const root = await connect();
          const engineId = root.io.engine.id;
          const chat = h.createSocket(fx.url, c.gen, mode, { nsp: '/chat', manager: root.io });
          const welcome = h.waitEvent(chat, 'welcome', { failOn: ['connect_error', 'error', 'disconnect'] });
          await h.waitConnected(chat);
          assert.equal(chat.io, root.io, 'chat uses another manager');
          assert.deepStrictEqual(await welcome, ['chat']);
          assert.deepStrictEqual(await h.emitAck(chat, 'echo', 'on chat', 1), ['on chat', 1]);
          assert.deepStrictEqual(await h.emitAck(root, 'echo', 'on root', 2), ['on root', 2]);
          // interleaved, both namespaces at once
          const [a, b] = await Promise.all([h.emitAck(chat, 'echo', 'c', UNICODE), h.emitAck(root, 'echo', 'r', Buffer.from([9]))]);
          assert.deepStrictEqual(a, ['c', UNICODE]);
          assert.deepStrictEqual(h.normalizeBinary(b), ['r', Buffer.from([9])]);
          assert.equal(root.io.engine.id, engineId, 'the engine connection changed');
          assertHealthy(root);
          assertHealthy(chat);
        });

        it('handshake: query params (and auth for 3.x/4.x) reach the server', TEST, async () => {
          const opts = { query: { room: 'a b' } };
          if (c.gen >= 3) opts.auth = { token: 'ok', user: 'zoë' };
          const socket = await connect(opts);
          const [hs] = await h.emitAck(socket, 'handshake');
          assert.ok(hs && typeof hs === 'object', `handshake ack is ${JSON.stringify(hs)}`);
          // 1.x/2.x (EIO3) have no auth payload: Node socket.io 4 reports {}.
          assert.deepStrictEqual(hs.auth, c.gen >= 3 ? { token: 'ok', user: 'zoë' } : {});
          assert.ok(hs.query && typeof hs.query === 'object', `query is ${JSON.stringify(hs.query)}`);
          assert.equal(hs.query.room, 'a b');
          assert.equal(hs.query.EIO, String(c.eio));
          assertHealthy(socket);
        });

        if (c.gen <= 2) {
          it('handshake: query given as a string', TEST, async () => {
            const socket = await connect({ query: 'room=a%20b&x=1' });
            const [hs] = await h.emitAck(socket, 'handshake');
            assert.equal(hs.query.room, 'a b');
            assert.equal(hs.query.x, '1');
          });
        }

        it('middleware rejection is reported to the client', TEST, async () => {
          if (c.gen >= 3) {
            const socket = h.createSocket(fx.url, c.gen, mode, { auth: { token: 'bad' } });
            const [err] = await h.waitEvent(socket, 'connect_error', { failOn: ['connect'] });
            assert.ok(err instanceof Error, `connect_error payload is not an Error: ${h.describeArgs([err])}`);
            assert.equal(err.message, 'unauthorized');
            assert.deepStrictEqual(err.data, { reason: 'bad token' });
          } else {
            const socket = h.createSocket(fx.url, c.gen, mode, { query: { token: 'bad' } });
            const [payload] = await h.waitEvent(socket, 'error', { failOn: ['connect', 'connect_error'] });
            assert.deepStrictEqual(payload, { reason: 'bad token' });
            await h.sleep(300);
            assert.equal(socket.connected, false);
            assert.ok(!socket.compat.events.some((e) => e.ev === 'connect'), 'the rejected socket connected');
          }
        });

        it('server-side disconnect', TEST, async () => {
          const socket = await connect();
          const disconnected = h.waitEvent(socket, 'disconnect');
          socket.emit('disconnect-me');
          const [reason] = await disconnected;
          assert.equal(reason, 'io server disconnect');
          assert.equal(socket.connected, false);
        });

        it('client-side disconnect is seen by the server', TEST, async () => {
          const tag = `alice-${c.gen}-${mode}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
          const a = await connect();
          await h.emitAck(a, 'tag', tag);
          a.disconnect();
          assert.equal(a.connected, false);
          const b = await connect();
          let reason;
          await h.poll(async () => {
            [reason] = await h.emitAck(b, 'last-disconnect', tag);
            return reason;
          }, { timeout: 2000, interval: 100 });
          assert.equal(reason, 'client namespace disconnect');
          assertHealthy(b);
        });

        // Echo cannot catch a server that misreads text symmetrically, so the server's view of
        // non-ASCII text is checked across clients: server -> client through the handshake query
        // and client -> server through a tag looked up by a socket.io-client 4 websocket socket.
        // socket.io-client 1.x sends and expects UTF-8-encoded text frames on base64 polling
        // (engine.io-parser 1.x); Node's socket.io 4 does not support that (1.x clients need a
        // 1.x server), so with EXPRESSIO_COMPAT_REFERENCE=node this case is only a todo.
        const nodeGap = c.gen === 1 && mode === 'polling' && process.env.EXPRESSIO_COMPAT_REFERENCE === 'node';
        it('non-ASCII text reaches the server and comes back intact', { ...TEST, todo: nodeGap ? "Node's socket.io 4 garbles 1.x polling text" : undefined }, async () => {
          const room = `zoë ${UNICODE}`;
          const socket = await connect({ query: { room } });
          const [hs] = await h.emitAck(socket, 'handshake');
          assert.equal(hs.query.room, room);
          const tag = `tag-${UNICODE}-${c.gen}-${mode}-${process.pid}-${Date.now()}`;
          await h.emitAck(socket, 'tag', tag);
          socket.disconnect();
          const observer = await h.connect(fx.url, 4, 'websocket');
          let reason;
          await h.poll(async () => {
            [reason] = await h.emitAck(observer, 'last-disconnect', tag);
            return reason;
          }, { timeout: 2000, interval: 100 });
          assert.equal(reason, 'client namespace disconnect', 'the server did not store the tag as sent (text garbled?)');
        });

        it('heartbeats keep an idle connection alive', TEST, async () => {
          const socket = await connect();
          const engineId = socket.io.engine.id;
          const pongsBefore = socket.io.compatPongs;
          await h.sleep(1300);
          assertHealthy(socket);
          assert.equal(socket.io.engine.id, engineId, 'the engine reconnected');
          const beats = socket.io.compatPongs - pongsBefore;
          // 1.3 s at a 300 ms interval: about 4 heartbeats (EIO3: client ping/server pong;
          // EIO4: server ping/client pong).
          assert.ok(beats >= 2, `only ${beats} heartbeat(s) in 1.3 s with pingInterval 300 ms`);
          assert.deepStrictEqual(await h.emitAck(socket, 'echo', 'still here'), ['still here']);
        });
      });
    }
  }
});
