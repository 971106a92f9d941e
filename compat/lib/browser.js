'use strict';
// Chromium for test/browser.test.js: Debian's /usr/bin/chromium (scripts/setup installs it),
// driven by playwright-core, which never downloads a browser of its own. A missing Chromium
// fails the test that needs it ("chromium missing: run scripts/setup"); it is never skipped.
//
//   const b = require('../lib/browser');
//   const browser = await b.launch();
//   const tab = await b.openPage(browser, url, { legacyTransport: 'xhr-polling', prompts: ['lobby'] });
//   await tab.waitDialog(1);            // the page's alert()s, prompt()s, confirm()s
//   await tab.legacyTransportName();    // the transport the page's 0.9 socket runs on
//   await tab.close();
//   await b.close(browser);
//
// Every wait is bounded; each page gets a fresh browser context (no cookies or storage shared
// between tests). playwright-core kills the browsers it launched when node exits.

const fs = require('node:fs');
const h = require('./helpers');

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const WAIT = 5000;

// socket.io 0.9's transports, by their 0.9 names.
const LEGACY_TRANSPORTS = ['websocket', 'xhr-polling', 'jsonp-polling', 'htmlfile'];

function requireChromium() {
  try {
    fs.accessSync(CHROMIUM, fs.constants.X_OK);
  } catch {
    const where = process.env.CI ? ' (CI: scripts/setup must install Debian\'s chromium)' : '';
    throw new Error(`chromium missing: run scripts/setup${where}; ${CHROMIUM} is not an executable, and the browser tests are never skipped`);
  }
}

// Starts Chromium headless with a fresh profile (playwright makes a temporary user-data-dir
// and removes it on close).
async function launch() {
  requireChromium();
  const { chromium } = require('playwright-core');
  const browser = await h.withTimeout(
    chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 15000 }),
    20000,
    `Chromium (${CHROMIUM}) to start`,
  );
  return browser;
}

// Closes the browser, bounded.
async function close(browser) {
  if (!browser) return;
  await h.withTimeout(browser.close(), 10000, 'Chromium to close');
}

// The init script that makes a page's socket.io 0.9 client (served at
// /socket.io/socket.io.js) use `transport` only, and keeps what the test needs to look at:
// window.__legacyIO (the io module the page called connect on: io.sockets, io.version) and
// window.__legacySockets (what io.connect() returned). Pages do `io = io.connect()`, which
// replaces the global io, and the client itself assigns window.io twice while it loads, so
// the script intercepts every assignment of window.io and wraps the connect function of each
// module object: right before the page's io.connect(), io.transports = [transport].
//
// htmlfile: 0.9's htmlfile transport needs IE's ActiveXObject('htmlfile'), a detached document
// whose window the server's stream calls back (parent.s._(msg, document)). Chromium has none,
// so for htmlfile the script provides that one object, backed by a hidden same-origin iframe:
// the client then runs its own htmlfile code against the server's htmlfile stream (its XHR
// POSTs unchanged). CollectGarbage, which the transport calls on close, is IE's too.
//
// Runs in the page before any of its scripts (a function serialized by addInitScript).
function legacyTransportInit(transport) {
  if (window.top !== window) return; // the htmlfile frames
  const sockets = (window.__legacySockets = []);
  const modules = new WeakSet();
  let current;
  Object.defineProperty(window, 'io', {
    configurable: true,
    enumerable: true,
    get() {
      return current;
    },
    set(v) {
      if (v && typeof v === 'object' && !modules.has(v) && !sockets.includes(v)) {
        modules.add(v);
        let connect;
        Object.defineProperty(v, 'connect', {
          configurable: true,
          enumerable: true,
          get() {
            if (!connect) return connect;
            return function () {
              window.__legacyIO = v;
              v.transports = [transport];
              const socket = connect.apply(this, arguments);
              sockets.push(socket);
              return socket;
            };
          },
          set(fn) {
            connect = fn;
          },
        });
      }
      current = v;
    },
  });
  if (transport === 'htmlfile') {
    window.CollectGarbage = function () {};
    window.ActiveXObject = function (name) {
      if (name !== 'htmlfile') throw new Error(`ActiveXObject(${name}) is not emulated`);
      let frame = null;
      const doc = () => {
        if (!frame) {
          frame = document.createElement('iframe');
          frame.style.display = 'none';
          (document.body || document.documentElement).appendChild(frame);
        }
        return frame.contentDocument;
      };
      return {
        open() {
          doc().open();
        },
        write(s) {
          doc().write(s);
        },
        close() {
          doc().close();
        },
        get parentWindow() {
          doc();
          return frame.contentWindow;
        },
        get body() {
          return doc().body;
        },
        createElement(tag) {
          return doc().createElement(tag);
        },
      };
    };
  }
}

// Opens `url` in a fresh context and page, not waiting for the page's load event (an htmlfile
// stream never lets it come). Options:
//   legacyTransport  force the page's 0.9 client onto this transport (legacyTransportInit)
//   prompts          answers to the page's prompt()s, in order ('' once they run out)
//   waitUntil        goto's waitUntil (default 'domcontentloaded')
// Resolves with a tab: {context, page, response, dialogs: [{type, message}], errors: [page
// errors], waitDialog(n), legacyTransportName(), close()}.
async function openPage(browser, url, { legacyTransport, prompts = [], waitUntil = 'domcontentloaded' } = {}) {
  if (legacyTransport !== undefined && !LEGACY_TRANSPORTS.includes(legacyTransport)) throw new Error(`unknown 0.9 transport ${legacyTransport}`);
  const context = await browser.newContext();
  context.setDefaultTimeout(WAIT);
  context.setDefaultNavigationTimeout(10000);
  if (legacyTransport) await context.addInitScript(legacyTransportInit, legacyTransport);
  const page = await context.newPage();
  const dialogs = [];
  const errors = [];
  const answers = [...prompts];
  page.on('dialog', (d) => {
    dialogs.push({ type: d.type(), message: d.message() });
    const answer = d.type() === 'prompt' ? d.accept(answers.length ? answers.shift() : '') : d.accept();
    answer.catch(() => {});
  });
  page.on('pageerror', (err) => errors.push(err.message));
  const tab = {
    context,
    page,
    dialogs,
    errors,
    response: null,
    // Resolves once the page has shown at least n dialogs; fails after `timeout`.
    async waitDialog(n, { timeout = WAIT } = {}) {
      const ok = await h.poll(() => dialogs.length >= n, { timeout, interval: 20 });
      if (!ok) throw new Error(`the page showed ${dialogs.length} dialog(s), not ${n}, within ${timeout} ms: ${JSON.stringify(dialogs)}; page errors: ${JSON.stringify(errors)}`);
      return dialogs.slice(0, n);
    },
    // Waits for the page's first 0.9 socket to connect; resolves with its transport's name
    // and that of the socket io.sockets holds for it.
    async legacyTransportName({ timeout = WAIT } = {}) {
      try {
        await page.waitForFunction(() => {
          const s = window.__legacySockets && window.__legacySockets[0];
          return s && s.socket && s.socket.connected;
        }, null, { timeout });
      } catch (err) {
        const state = await page
          .evaluate(() => {
            const s = window.__legacySockets && window.__legacySockets[0];
            return s ? { connecting: s.socket.connecting, transport: s.socket.transport && s.socket.transport.name } : 'io.connect() was not called';
          })
          .catch((e) => e.message);
        throw new Error(`the page's 0.9 socket did not connect within ${timeout} ms (${JSON.stringify(state)}); page errors: ${JSON.stringify(errors)}`);
      }
      return page.evaluate(() => {
        const s = window.__legacySockets[0].socket;
        const inSockets = Object.values(window.__legacyIO.sockets).filter((x) => x === s);
        return { transport: s.transport.name, inIoSockets: inSockets.length === 1, version: window.__legacyIO.version };
      });
    },
    async close() {
      await h.withTimeout(context.close(), WAIT, 'the browser context to close').catch(() => {});
    },
  };
  try {
    tab.response = await page.goto(url, { waitUntil });
  } catch (err) {
    await tab.close();
    throw err;
  }
  return tab;
}

module.exports = {
  CHROMIUM,
  ARGS,
  LEGACY_TRANSPORTS,
  requireChromium,
  launch,
  close,
  openPage,
  legacyTransportInit,
};
