'use strict';
// The served browser clients in a real browser: Debian's Chromium (/usr/bin/chromium) driven by
// playwright-core (lib/browser.js), against the example programs, which serve socket.io
// 0.9.16's client at /socket.io/socket.io.js (setting "legacy", as express.io served it) and
// 4.x's at /socket.io/socket.io.v4.js.
//
// Each example page runs unchanged; an init script only forces the transport its 0.9 client
// uses (io.transports, set right before the page's io.connect()), and each test checks the
// transport really used (the socket's transport.name, the same socket as in io.sockets):
//   - acknowledgements: the page's alert shows the ack of 'ready', over websocket, xhr-polling
//     and htmlfile;
//   - rooms: the page (room from its prompt) writes a newcomer's announcement into its DOM;
//   - realtime-canvas, over all four 0.9 transports (jsonp-polling included: the page keeps
//     the global io, which jsonp's responses call as io.j[n]; the pages that do
//     `io = io.connect()` replace it, so 0.9's jsonp-polling cannot work on them with any
//     server): the page's pointer strokes reach a Node 4.x client as 'draw', and the Node
//     client's strokes reach the page and paint its canvas.
// htmlfile is IE's transport: lib/browser.js emulates the ActiveXObject('htmlfile') document
// it needs with a hidden iframe, so that the client's own htmlfile code runs against the
// server's htmlfile stream.
// Then the 4.x client from /socket.io/socket.io.v4.js in a blank page of the example's origin
// (its 404 page), over websocket and polling.
//
// A missing Chromium fails ("chromium missing: run scripts/setup"), never skips. Every wait is
// bounded; the browser is closed and the examples are killed at the end.

const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const h = require('../lib/helpers');
const ex = require('../lib/examples');
const b = require('../lib/browser');

const TEST = { timeout: 15000 };
const WAIT = 5000;
const QUIET = 300;

let seq = 0;
const uniq = (prefix) => `${prefix}-${process.pid}-${++seq}`;

let browser = null;
const tabs = new Set();

async function open(url, opts) {
  const tab = await b.openPage(browser, url, opts);
  tabs.add(tab);
  return tab;
}

async function closeTabs() {
  ex.closeAll();
  await Promise.all([...tabs].map((t) => t.close()));
  tabs.clear();
}

// The transport check of every 0.9 test: the page's socket connected on `transport`, the
// socket io.sockets holds, and the client is the 0.9.16 the server served.
async function assertLegacyTransport(tab, transport) {
  const got = await tab.legacyTransportName();
  assert.deepStrictEqual(got, { transport, inIoSockets: true, version: '0.9.16' });
}

describe('browser: Chromium with the served socket.io clients', () => {
  before(async () => {
    b.requireChromium();
    await ex.buildExamples();
    browser = await b.launch();
  }, { timeout: 310000 });
  after(async () => {
    await closeTabs();
    await b.close(browser);
    await ex.cleanup();
  });
  afterEach(() => closeTabs());

  // Runs example `name` for the tests of `fn(get)`.
  const example = (name, fn) =>
    describe(name, () => {
      let running;
      before(async () => {
        running = await ex.startExample(name);
      }, { timeout: 20000 });
      after(async () => {
        await closeTabs();
        if (running) await running.kill();
      });
      fn(() => running);
    });

  example('acknowledgements', (get) => {
    for (const transport of ['websocket', 'xhr-polling', 'htmlfile']) {
      it(`the page's 'ready' ack shows in its alert, over ${transport}`, TEST, async () => {
        const tab = await open(get().url + '/', { legacyTransport: transport });
        assert.equal(tab.response.status(), 200);
        await assertLegacyTransport(tab, transport);
        const [alert] = await tab.waitDialog(1);
        assert.deepStrictEqual(alert, { type: 'alert', message: 'here is your acknowledegment for the ready event' });
        await h.sleep(QUIET);
        assert.deepStrictEqual(tab.errors, []);
        assert.equal(tab.dialogs.length, 1, JSON.stringify(tab.dialogs));
      });
    }

    for (const transport of ['websocket', 'polling']) {
      it(`socket.io-client 4.x from /socket.io/socket.io.v4.js in a blank page, over ${transport}`, TEST, async () => {
        // The example's 404 page: a document of its origin with nothing in it.
        const tab = await open(get().url + '/blank-page-for-the-v4-client');
        assert.equal(tab.response.status(), 404);
        await tab.page.addScriptTag({ url: '/socket.io/socket.io.v4.js' });
        const got = await tab.page.evaluate(
          ({ transport, wait }) =>
            new Promise((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error(`no ack within ${wait} ms`)), wait);
              const socket = io({ transports: [transport], forceNew: true, reconnection: false });
              socket.on('connect_error', (err) => reject(new Error(`connect_error: ${err.message}`)));
              socket.emit('ready', { hey: 'server' }, (data) => {
                clearTimeout(timer);
                const out = { data, transport: socket.io.engine.transport.name, connected: socket.connected, eio: String(socket.io.engine.transport.query.EIO) };
                socket.disconnect();
                resolve(out);
              });
            }),
          { transport, wait: WAIT },
        );
        assert.deepStrictEqual(got, {
          data: { success: 'here is your acknowledegment for the ready event' },
          transport,
          connected: true,
          eio: '4',
        });
        assert.deepStrictEqual(tab.errors, []);
      });
    }
  });

  example('rooms', (get) => {
    for (const transport of ['websocket', 'xhr-polling', 'htmlfile']) {
      it(`the page joins the room of its prompt and shows a newcomer's announcement, over ${transport}`, TEST, async () => {
        const room = uniq('lobby');
        const tab = await open(get().url + '/', { legacyTransport: transport, prompts: [room] });
        await assertLegacyTransport(tab, transport);
        const [prompt] = await tab.waitDialog(1);
        assert.deepStrictEqual(prompt, { type: 'prompt', message: 'type a room name' });
        // Give the page's 'ready' (sent once connected) a moment to join the room.
        await h.sleep(QUIET);
        const newcomer = ex.open(get().url, 4);
        newcomer.emit('ready', room);
        await tab.page.waitForFunction(() => document.querySelectorAll('p').length >= 1, null, { timeout: WAIT });
        await h.sleep(QUIET);
        const texts = await tab.page.$$eval('p', (ps) => ps.map((p) => p.textContent));
        assert.equal(texts.length, 1, JSON.stringify(texts));
        assert.ok(texts[0].startsWith(`New client in the ${room} room. `), texts[0]);
        assert.ok(!Number.isNaN(Date.parse(texts[0].slice(`New client in the ${room} room. `.length).replace(/ \(.*\)$/, ''))), `no date in ${texts[0]}`);
        assert.deepStrictEqual(tab.errors, []);
      });
    }
  });

  example('realtime-canvas', (get) => {
    for (const transport of b.LEGACY_TRANSPORTS) {
      it(`strokes go both ways between the page and a Node 4.x client, over ${transport}`, TEST, async () => {
        const tab = await open(get().url + '/', { legacyTransport: transport });
        await assertLegacyTransport(tab, transport);
        const { page } = tab;
        await page.evaluate(() => {
          window.__draws = [];
          App.socket.on('draw', (d) => window.__draws.push(d));
        });
        const ink = () => page.evaluate(() => {
          const d = App.ctx.getImageData(0, 0, App.canvas.width, App.canvas.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
          return n;
        });

        const peer = ex.open(get().url, 4);
        await h.waitConnected(peer);
        const peerGot = ex.record(peer, 'draw');

        // The page draws with the pointer: dragstart, drags, dragend reach the peer.
        const box = await page.locator('canvas').boundingBox();
        const points = [[20, 30], [60, 70], [120, 90], [200, 150]];
        await page.mouse.move(box.x + points[0][0], box.y + points[0][1]);
        await page.mouse.down();
        for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x, box.y + y);
        await page.mouse.up();
        const ok = await h.poll(() => peerGot.some(([d]) => d.type === 'dragend'), { timeout: WAIT, interval: 20 });
        assert.ok(ok, `the peer got no dragend: ${JSON.stringify(peerGot)}`);
        const strokes = peerGot.map(([d]) => d);
        assert.equal(strokes[0].type, 'dragstart');
        assert.equal(strokes[strokes.length - 1].type, 'dragend');
        assert.ok(strokes.slice(1, -1).every((d) => d.type === 'drag') && strokes.length >= points.length + 1, JSON.stringify(strokes));
        assert.ok(Math.abs(strokes[0].x - points[0][0]) <= 1 && Math.abs(strokes[0].y - points[0][1]) <= 1, JSON.stringify(strokes[0]));
        const last = points[points.length - 1];
        assert.ok(Math.abs(strokes.at(-1).x - last[0]) <= 1 && Math.abs(strokes.at(-1).y - last[1]) <= 1, JSON.stringify(strokes.at(-1)));
        const own = await page.evaluate(() => window.__draws.length);
        assert.equal(own, 0, 'the page got its own strokes back');

        // The peer draws: the page receives 'draw' and paints.
        await page.evaluate(() => App.ctx.clearRect(0, 0, App.canvas.width, App.canvas.height));
        assert.equal(await ink(), 0);
        const stroke = [
          { x: 300, y: 50, type: 'dragstart' },
          { x: 500.5, y: 300, type: 'drag' },
          { x: 700, y: 100, type: 'drag' },
          { x: 700, y: 100, type: 'dragend' },
        ];
        for (const d of stroke) peer.emit('drawClick', d);
        await page.waitForFunction((n) => window.__draws.length >= n, stroke.length, { timeout: WAIT });
        assert.deepStrictEqual(await page.evaluate(() => window.__draws), stroke);
        assert.ok((await ink()) > 100, 'the canvas shows no stroke');
        assert.deepStrictEqual(tab.errors, []);
      });
    }
  });
});
