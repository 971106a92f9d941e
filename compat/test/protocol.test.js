'use strict';
// Raw wire checks against the fixture's `protocol` profile, modelled on socket.io's public
// Engine.IO and Socket.IO protocol test-suites: pingInterval 300, pingTimeout 200,
// maxPayload 1000000, connectTimeout 1000, CORS open, a raw Engine.IO echo at /engine.io/
// (EIO=3 allowed there) and the Socket.IO test server at /socket.io/ (EIO=4).

const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const h = require('../lib/helpers');
const { RawWS, closeAllWs, http, Polling, SEP, decodeEio3Payload, encodeEio3Payload, sleep } = require('../lib/raw');

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const MAX_PAYLOAD = 1000000;
const TEST = { timeout: 15000 };

function assertHandshake(hs, upgrades) {
  assert.deepStrictEqual(Object.keys(hs).sort(), ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
  assert.equal(typeof hs.sid, 'string');
  assert.ok(hs.sid.length > 0);
  assert.deepStrictEqual(hs.upgrades, upgrades);
  assert.equal(hs.pingInterval, PING_INTERVAL);
  assert.equal(hs.pingTimeout, PING_TIMEOUT);
  assert.equal(hs.maxPayload, MAX_PAYLOAD);
}

async function assertError(res, status, code, message) {
  assert.equal(res.status, status, `HTTP status (body ${res.text})`);
  assert.match(res.headers.get('content-type') || '', /^application\/json/);
  let body;
  try {
    body = JSON.parse(res.text);
  } catch {
    assert.fail(`error body is not JSON: ${JSON.stringify(res.text)}`);
  }
  assert.deepStrictEqual(body, { code, message });
}

describe('protocol (profile protocol)', () => {
  let fx;
  let EIO; // http://.../engine.io/
  let SIO; // http://.../socket.io/
  let WS_EIO;
  let WS_SIO;
  before(async () => {
    fx = await h.startFixture('protocol');
    EIO = `${fx.url}/engine.io/`;
    SIO = `${fx.url}/socket.io/`;
    WS_EIO = `${fx.wsUrl}/engine.io/`;
    WS_SIO = `${fx.wsUrl}/socket.io/`;
  });
  after(async () => {
    closeAllWs();
    if (fx) await fx.stop();
  });
  afterEach(() => closeAllWs());

  // Opens a raw EIO4 websocket and reads the open packet.
  async function wsSession(base, eio = 4) {
    const ws = new RawWS(`${base}?EIO=${eio}&transport=websocket`);
    const open = await ws.next('the Engine.IO open packet');
    assert.equal(typeof open, 'string');
    assert.ok(open.startsWith('0'), `open packet ${JSON.stringify(open)}`);
    ws.handshake = JSON.parse(open.slice(1));
    return ws;
  }

  // A Socket.IO connection on the main namespace: returns the socket after CONNECT and "auth".
  async function sioSession() {
    const ws = await wsSession(WS_SIO);
    ws.send('40');
    const connect = await ws.next('the CONNECT reply');
    assert.ok(connect.startsWith('40{'), `CONNECT reply ${JSON.stringify(connect)}`);
    assert.equal(await ws.next('the auth event'), '42["auth",{}]');
    return ws;
  }

  describe('Engine.IO handshake', () => {
    it('polling (EIO=4): open packet with exactly sid, upgrades, pingInterval, pingTimeout, maxPayload', TEST, async () => {
      const res = await http(`${EIO}?EIO=4&transport=polling`);
      assert.equal(res.status, 200);
      assert.ok(res.text.startsWith('0'), `body ${JSON.stringify(res.text)}`);
      assertHandshake(JSON.parse(res.text.slice(1)), ['websocket']);
    });

    it('websocket (EIO=4): open packet, no upgrades', TEST, async () => {
      const ws = await wsSession(WS_EIO);
      assertHandshake(ws.handshake, []);
    });

    it('socket.io path answers the same handshake', TEST, async () => {
      const res = await http(`${SIO}?EIO=4&transport=polling`);
      assert.equal(res.status, 200);
      assertHandshake(JSON.parse(res.text.slice(1)), ['websocket']);
    });

    // Node (cors: {origin: '*'}) answers '*'; reflecting the request's origin is as open.
    const OPEN = ['*', 'http://example.test'];
    for (const [name, base] of [['engine.io', () => EIO], ['socket.io', () => SIO]]) {
      it(`CORS is open on /${name}/ (simple request and preflight)`, TEST, async () => {
        const res = await http(`${base()}?EIO=4&transport=polling`, { headers: { Origin: 'http://example.test' } });
        assert.equal(res.status, 200);
        assert.ok(OPEN.includes(res.headers.get('access-control-allow-origin')), `Access-Control-Allow-Origin: ${res.headers.get('access-control-allow-origin')}`);
        const pre = await http(`${base()}?EIO=4&transport=polling`, {
          method: 'OPTIONS',
          headers: { Origin: 'http://example.test', 'Access-Control-Request-Method': 'POST' },
        });
        assert.ok(pre.status === 204 || pre.status === 200, `preflight status ${pre.status}`);
        assert.ok(OPEN.includes(pre.headers.get('access-control-allow-origin')), `preflight Access-Control-Allow-Origin: ${pre.headers.get('access-control-allow-origin')}`);
      });
    }
  });

  describe('Engine.IO errors: HTTP 400 with a JSON {code, message}', () => {
    it('missing or invalid EIO: code 5', TEST, async () => {
      // /socket.io/ of this profile does not allow EIO3, like Node's default allowEIO3: false.
      await assertError(await http(`${SIO}?transport=polling`), 400, 5, 'Unsupported protocol version');
      await assertError(await http(`${SIO}?EIO=abc&transport=polling`), 400, 5, 'Unsupported protocol version');
    });

    it('unknown or missing transport: code 0', TEST, async () => {
      await assertError(await http(`${EIO}?EIO=4&transport=abc`), 400, 0, 'Transport unknown');
      await assertError(await http(`${EIO}?EIO=4`), 400, 0, 'Transport unknown');
      await assertError(await http(`${SIO}?EIO=4&transport=__proto__`), 400, 0, 'Transport unknown');
    });

    it('unknown sid: code 1', TEST, async () => {
      await assertError(await http(`${EIO}?EIO=4&transport=polling&sid=nosuchsession`), 400, 1, 'Session ID unknown');
      await assertError(await http(`${EIO}?EIO=4&transport=polling&sid=nosuchsession`, { method: 'POST', body: '4x' }), 400, 1, 'Session ID unknown');
    });

    it('handshake that is not a GET: code 2', TEST, async () => {
      await assertError(await http(`${EIO}?EIO=4&transport=polling`, { method: 'POST', body: '4x' }), 400, 2, 'Bad handshake method');
      await assertError(await http(`${EIO}?EIO=4&transport=polling`, { method: 'PUT', body: '4x' }), 400, 2, 'Bad handshake method');
    });

    it('a websocket upgrade for an unknown transport is refused', TEST, async () => {
      const ws = new RawWS(`${WS_EIO}?EIO=4&transport=abc`);
      await assert.rejects(ws.open(), /refused: HTTP 400|closed before opening/);
    });
  });

  describe('Engine.IO messages (echo server)', () => {
    it('polling: one text packet', TEST, async () => {
      const p = new Polling(EIO);
      await p.handshake();
      const push = await p.post('4hello');
      assert.equal(push.status, 200);
      assert.equal(push.text, 'ok');
      assert.deepStrictEqual(await p.packets(1), ['4hello']);
    });

    it('polling: several packets, text and base64 binary', TEST, async () => {
      const p = new Polling(EIO);
      await p.handshake();
      const push = await p.post(['4test1', '4test2', 'bAQIDBA==', '4héllo 😀'].join(SEP));
      assert.equal(push.status, 200);
      assert.equal(push.text, 'ok');
      assert.deepStrictEqual(await p.packets(4), ['4test1', '4test2', 'bAQIDBA==', '4héllo 😀']);
    });

    it('websocket: text and binary frames', TEST, async () => {
      const ws = await wsSession(WS_EIO);
      ws.send('4hello');
      assert.equal(await ws.next('the echo'), '4hello');
      ws.send(Buffer.from([1, 2, 3, 4]));
      const bin = await ws.next('the binary echo');
      assert.ok(Buffer.isBuffer(bin), `binary echo came back as text ${JSON.stringify(bin)}`);
      assert.deepStrictEqual(bin, Buffer.from([1, 2, 3, 4]));
    });

    it('polling: a POST over maxPayload is refused with 413', TEST, async () => {
      const p = new Polling(EIO);
      await p.handshake();
      const res = await p.post('4' + 'x'.repeat(MAX_PAYLOAD + 10));
      assert.equal(res.status, 413);
    });
  });

  describe('Engine.IO revision 3 on /engine.io/', () => {
    it('polling: length-prefixed handshake, echo and client-initiated ping', TEST, async () => {
      const res = await http(`${EIO}?EIO=3&transport=polling`);
      assert.equal(res.status, 200);
      const packets = decodeEio3Payload(res.text);
      assert.ok(packets[0].startsWith('0'), `EIO3 handshake ${JSON.stringify(res.text)}`);
      const hs = JSON.parse(packets[0].slice(1));
      assert.equal(typeof hs.sid, 'string');
      assert.deepStrictEqual(hs.upgrades, ['websocket']);
      assert.equal(hs.pingInterval, PING_INTERVAL);
      assert.equal(hs.pingTimeout, PING_TIMEOUT);
      const url = `${EIO}?EIO=3&transport=polling&sid=${encodeURIComponent(hs.sid)}`;

      const body = encodeEio3Payload(['4hello', '4héllo 😀 𝄞']);
      const push = await http(url, { method: 'POST', body });
      assert.equal(push.status, 200);
      assert.equal(push.text, 'ok');
      let got = [];
      while (got.length < 2) {
        const r = await http(url);
        assert.equal(r.status, 200, r.text);
        got.push(...decodeEio3Payload(r.text));
      }
      assert.deepStrictEqual(got, ['4hello', '4héllo 😀 𝄞']);

      // EIO3: the client pings, the server answers.
      for (let i = 0; i < 3; i++) {
        const ping = await http(url, { method: 'POST', body: '1:2' });
        assert.equal(ping.status, 200);
        const pong = await http(url);
        assert.equal(pong.status, 200);
        assert.equal(pong.text, '1:3');
      }
    });

    it('websocket: echo and client-initiated ping', TEST, async () => {
      const ws = new RawWS(`${WS_EIO}?EIO=3&transport=websocket`, { autoPong: false });
      const open = await ws.next('the EIO3 open packet');
      assert.ok(open.startsWith('0'), open);
      ws.send('4hello');
      assert.equal(await ws.next('the echo'), '4hello');
      for (let i = 0; i < 3; i++) {
        ws.send('2');
        assert.equal(await ws.next('a pong'), '3');
      }
    });
  });

  describe('Engine.IO heartbeat (EIO=4: the server pings)', () => {
    it('polling: ping/pong rounds', TEST, async () => {
      const p = new Polling(EIO);
      await p.handshake();
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const res = await p.get();
        assert.equal(res.status, 200);
        assert.equal(res.text, '2');
        assert.ok(Date.now() - started < PING_INTERVAL + 500, 'ping came late');
        const pong = await p.post('3');
        assert.equal(pong.status, 200);
      }
    });

    it('polling: no pong closes the session', TEST, async () => {
      const p = new Polling(EIO);
      await p.handshake();
      await sleep(PING_INTERVAL + PING_TIMEOUT + 400);
      const res = await p.post('4late');
      assert.equal(res.status, 400, `POST after the ping timeout: HTTP ${res.status} ${res.text}`);
    });

    it('websocket: ping/pong rounds keep the session open', TEST, async () => {
      const ws = await wsSession(WS_EIO);
      await sleep(3 * PING_INTERVAL + 200);
      assert.ok(ws.pings >= 2, `${ws.pings} pings in ${3 * PING_INTERVAL + 200} ms`);
      assert.equal(ws.closeInfo, null);
      ws.send('4still');
      assert.equal(await ws.next('the echo'), '4still');
    });

    it('websocket: no pong closes the connection', TEST, async () => {
      const ws = new RawWS(`${WS_EIO}?EIO=4&transport=websocket`, { autoPong: false });
      await ws.open();
      const opened = Date.now();
      await ws.waitClose(3000, 'the ping timeout to close the websocket');
      const took = Date.now() - opened;
      assert.ok(took >= PING_INTERVAL + PING_TIMEOUT - 100, `closed after only ${took} ms`);
    });
  });

  describe('Engine.IO upgrade and close', () => {
    it('upgrades from polling to websocket (probe, noop, upgrade)', TEST, async () => {
      const p = new Polling(EIO);
      await p.handshake();
      const ws = new RawWS(`${WS_EIO}?EIO=4&transport=websocket&sid=${encodeURIComponent(p.sid)}`);
      await ws.open();
      ws.send('2probe');
      assert.equal(await ws.next('the probe answer'), '3probe');
      // the pending/next poll is ended with a noop
      const poll = await p.get();
      assert.equal(poll.status, 200);
      assert.equal(poll.text, '6');
      ws.send('5');
      ws.send('4hello');
      assert.equal(await ws.next('the echo over the upgraded websocket'), '4hello');
      const after = await p.get();
      assert.equal(after.status, 400, 'polling still accepted after the upgrade');
    });

    it('a second websocket for an upgraded sid is refused', TEST, async () => {
      const p = new Polling(EIO);
      await p.handshake();
      const ws = new RawWS(`${WS_EIO}?EIO=4&transport=websocket&sid=${encodeURIComponent(p.sid)}`);
      await ws.open();
      ws.send('2probe');
      assert.equal(await ws.next('the probe answer'), '3probe');
      ws.send('5');
      ws.send('4x');
      assert.equal(await ws.next('the echo'), '4x');
      const ws2 = new RawWS(`${WS_EIO}?EIO=4&transport=websocket&sid=${encodeURIComponent(p.sid)}`);
      await ws2.waitClose(3000, 'the second websocket to be refused or closed');
      ws.send('4y');
      assert.equal(await ws.next('the echo on the first websocket'), '4y');
    });

    it('polling: a close packet ends the session', TEST, async () => {
      const p = new Polling(EIO);
      await p.handshake();
      const [poll] = await Promise.all([p.get(), sleep(50).then(() => p.post('1'))]);
      assert.equal(poll.status, 200);
      // Node ends the pending poll with a noop; a close packet is as good for a client.
      assert.ok(['6', '1'].includes(poll.text), `pending poll answered ${JSON.stringify(poll.text)}`);
      const after = await p.get();
      assert.equal(after.status, 400);
    });
  });

  describe('Socket.IO connect', () => {
    it('main namespace: 40 gets 40{"sid"} then the auth event', TEST, async () => {
      const ws = await wsSession(WS_SIO);
      ws.send('40');
      const reply = await ws.next('the CONNECT reply');
      assert.ok(reply.startsWith('40'), reply);
      const body = JSON.parse(reply.slice(2));
      assert.deepStrictEqual(Object.keys(body), ['sid']);
      assert.equal(typeof body.sid, 'string');
      assert.notEqual(body.sid, ws.handshake.sid, 'the socket id must not be the engine sid');
      assert.equal(await ws.next('the auth event'), '42["auth",{}]');
    });

    it('main namespace with an auth payload', TEST, async () => {
      const ws = await wsSession(WS_SIO);
      ws.send('40{"token":"123","user":"zoë"}');
      const reply = await ws.next('the CONNECT reply');
      assert.deepStrictEqual(Object.keys(JSON.parse(reply.slice(2))), ['sid']);
      assert.equal(await ws.next('the auth event'), '42["auth",{"token":"123","user":"zoë"}]');
    });

    it('custom namespace, with and without auth', TEST, async () => {
      const ws = await wsSession(WS_SIO);
      ws.send('40/custom,');
      const reply = await ws.next('the CONNECT reply');
      assert.ok(reply.startsWith('40/custom,'), reply);
      assert.deepStrictEqual(Object.keys(JSON.parse(reply.slice('40/custom,'.length))), ['sid']);
      assert.equal(await ws.next('the auth event'), '42/custom,["auth",{}]');

      const ws2 = await wsSession(WS_SIO);
      ws2.send('40/custom,{"token":"abc"}');
      const reply2 = await ws2.next('the CONNECT reply');
      assert.ok(reply2.startsWith('40/custom,{'), reply2);
      assert.equal(await ws2.next('the auth event'), '42/custom,["auth",{"token":"abc"}]');
    });

    it('unknown namespace: 44 Invalid namespace', TEST, async () => {
      const ws = await wsSession(WS_SIO);
      ws.send('40/unknown,');
      assert.equal(await ws.next('the CONNECT_ERROR'), '44/unknown,{"message":"Invalid namespace"}');
    });

    it('over polling: CONNECT and auth event', TEST, async () => {
      const p = new Polling(SIO);
      await p.handshake();
      const push = await p.post('40{"token":"poll"}');
      assert.equal(push.status, 200);
      const [reply, auth] = await p.packets(2);
      assert.ok(reply.startsWith('40{'), reply);
      assert.deepStrictEqual(Object.keys(JSON.parse(reply.slice(2))), ['sid']);
      assert.equal(auth, '42["auth",{"token":"poll"}]');
    });

    it('connectTimeout: a session that never connects a namespace is closed after ~1 s', TEST, async () => {
      const ws = await wsSession(WS_SIO);
      const opened = Date.now();
      const info = await ws.waitClose(4000, 'connectTimeout (1000 ms) to close the session');
      const took = info.at - opened;
      assert.ok(took >= 700 && took <= 3000, `closed after ${took} ms`);
      assert.ok(ws.pings >= 1, 'no ping before the close: was it the ping timeout?');
    });

    it('an invalid packet closes the connection', TEST, async () => {
      const ws = await wsSession(WS_SIO);
      ws.send('4abc');
      await ws.waitClose(3000);
    });
  });

  describe('Socket.IO events', () => {
    it('message gets message-back with the same args', TEST, async () => {
      const ws = await sioSession();
      ws.send('42["message","a",1]');
      assert.equal(await ws.next('message-back'), '42["message-back","a",1]');
      ws.send('42["message",1,"2",{"3":[true]},null,"héllo 😀"]');
      assert.equal(await ws.next('message-back'), '42["message-back",1,"2",{"3":[true]},null,"héllo 😀"]');
    });

    it('message-with-ack is acked with the same args', TEST, async () => {
      const ws = await sioSession();
      ws.send('421["message-with-ack",1,"2"]');
      assert.equal(await ws.next('the ack'), '431[1,"2"]');
      ws.send('42456["message-with-ack",1,"2",{"3":[false]}]');
      assert.equal(await ws.next('the ack'), '43456[1,"2",{"3":[false]}]');
    });

    it('binary event and binary ack', TEST, async () => {
      const ws = await sioSession();
      ws.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
      ws.send(Buffer.from([1, 2, 3]));
      ws.send(Buffer.from([4, 5, 6]));
      const [head, b0, b1] = await ws.nextN(3, 'the binary message-back');
      assert.equal(head, '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
      assert.deepStrictEqual(b0, Buffer.from([1, 2, 3]));
      assert.deepStrictEqual(b1, Buffer.from([4, 5, 6]));

      ws.send('452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
      ws.send(Buffer.from([1, 2, 3]));
      ws.send(Buffer.from([4, 5, 6]));
      const [ackHead, a0, a1] = await ws.nextN(3, 'the binary ack');
      assert.equal(ackHead, '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
      assert.deepStrictEqual(a0, Buffer.from([1, 2, 3]));
      assert.deepStrictEqual(a1, Buffer.from([4, 5, 6]));
    });

    it('binary over polling travels as base64 packets', TEST, async () => {
      const p = new Polling(SIO);
      await p.handshake();
      await p.post('40');
      await p.packets(2);
      const push = await p.post(['451-["message",{"_placeholder":true,"num":0}]', 'bAQID'].join(SEP));
      assert.equal(push.status, 200);
      assert.deepStrictEqual(await p.packets(2), ['451-["message-back",{"_placeholder":true,"num":0}]', 'bAQID']);
    });

    it('leaving a custom namespace keeps the main one', TEST, async () => {
      const ws = await sioSession();
      ws.send('40/custom,');
      await ws.nextN(2, 'the /custom CONNECT and auth');
      ws.send('41/custom,');
      ws.send('42["message","main"]');
      assert.equal(await ws.next('message-back on /'), '42["message-back","main"]');
    });

    it('the main namespace can be left and joined again on one engine session', TEST, async () => {
      const ws = await sioSession();
      ws.send('41');
      // Node handles the DISCONNECT on the next tick; a CONNECT in the same tick would be
      // "invalid state" and close the connection.
      await sleep(100);
      ws.send('40');
      const reply = await ws.next('the second CONNECT reply');
      assert.ok(reply.startsWith('40{'), reply);
      assert.equal(await ws.next('the auth event'), '42["auth",{}]');
      ws.send('42["message","again"]');
      assert.equal(await ws.next('message-back'), '42["message-back","again"]');
    });
  });
});
