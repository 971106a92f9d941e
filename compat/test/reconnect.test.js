'use strict';
// Reconnection after the server process restarts on the same port, for every client
// generation × transport mode. Runs its own fixture, since it kills it on purpose.

const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const h = require('../lib/helpers');

const FLAGS = ['-ping-interval', '300', '-ping-timeout', '200'];
// Reasons a client reconnects after; 'io server disconnect' would stop the client for good.
const RECOVERABLE = ['transport close', 'transport error', 'ping timeout'];

describe('reconnect after a server restart (profile default)', () => {
  let fx;
  before(async () => {
    fx = await h.startFixture('default', FLAGS);
  });
  after(async () => {
    h.closeAllSockets();
    if (fx) await fx.stop();
  });
  afterEach(() => h.closeAllSockets());

  for (const c of h.CLIENTS) {
    for (const mode of h.MODES) {
      it(`${c.label} ${mode}`, { timeout: 30000 }, async () => {
        const socket = await h.connect(fx.url, c.gen, mode, {
          reconnection: true,
          reconnectionDelay: 100,
          reconnectionDelayMax: 500,
        });
        assert.deepStrictEqual(await h.emitAck(socket, 'echo', 'before'), ['before']);
        const firstEngine = socket.io.engine;

        const disconnected = h.waitEvent(socket, 'disconnect', { timeout: 5000, what: "'disconnect' after the restart" });
        // v1/v2 re-emit the manager's 'reconnect' on the socket; v3/v4 emit it on the manager.
        const reconnectEmitter = c.gen <= 2 ? socket : socket.io;
        const reconnected = h.waitEvent(reconnectEmitter, 'reconnect', { timeout: 15000, what: "'reconnect'" });
        // registered before the restart so the second 'connect' cannot be missed
        const connectedAgain = h.waitEvent(socket, 'connect', { timeout: 20000, what: "'connect' after the restart" });
        await fx.restart();

        const [reason] = await disconnected;
        assert.ok(
          RECOVERABLE.includes(reason),
          `disconnect reason '${reason}' is not one the client recovers from` +
            (reason === 'io server disconnect' ? ' (the server sent a DISCONNECT packet while shutting down; Node only closes the transports)' : ''),
        );
        await reconnected;
        await connectedAgain;
        assert.equal(socket.connected, true);
        assert.notEqual(socket.io.engine, firstEngine, 'the engine was not replaced');
        if (mode === 'upgrade') await h.waitUpgraded(socket);
        assert.deepStrictEqual(await h.emitAck(socket, 'echo', 'after', UNICODE_SAMPLE), ['after', UNICODE_SAMPLE]);
      });
    }
  }
});

const UNICODE_SAMPLE = 'zoë 😀';
