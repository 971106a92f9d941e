'use strict';
// Issue 6, the Redis adapter's interop: one real redis-server (lib/redis.js), two Go fixtures
// (`-profile cluster -redis ADDR -node go1|go2`) and one Node socket.io 4.8.1 server with
// @socket.io/redis-adapter 8.3.0 (lib/cluster-node.js), all serving the same route contract
// (see lib/cluster-node.js), with clients on each of them (lib/cluster.js). Through every
// member in turn, so that each direction go→node, node→go and go→go is crossed:
//   namespace broadcast, single-room and multi-room broadcast, except (a room, a socket id),
//   binary payloads (top-level and nested), remote join / leave / disconnect of a socket on
//   another member (by id and by room), fetchSockets with socket.data, serverCount, allRooms,
//   serverSideEmit with and without acks, broadcast with acks, and socket.io-client 2.x
//   (EIO3) clients in the cluster.
// "Exactly once" and "not at all" are checked for QUIET ms after the expected deliveries.
// A second cluster (go1, go2, node) sees its redis-server killed and restarted on the same
// port: the members must survive the outage and deliver across the cluster again within 10 s.
//
// CLUSTER_ALL_NODE=1 runs lib/cluster-node.js in place of the Go fixtures (same names), to
// prove the tests against Node's own adapter. Every wait is bounded; redis-server missing
// fails (never skips).

const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const util = require('node:util');
const h = require('../lib/helpers');
const { requireRedisServer } = require('../lib/redis');
const { startCluster, connectClient, closeAllClients, waitUntil, ALL_NODE } = require('../lib/cluster');

const WAIT = 3000; // an expected delivery or ack
const QUIET = 300; // how long an unexpected delivery is waited for, after the expected ones
const TEST = { timeout: 20000 };
const START = { timeout: 240000 }; // `go run` may compile the fixture first
const NAMES = ['go1', 'go2', 'node'];
const ORDERED_PAIRS = NAMES.flatMap((x) => NAMES.filter((y) => y !== x).map((y) => [x, y]));
const third = (x, y) => NAMES.find((n) => n !== x && n !== y);

let uniq = 0;
function unique(what) {
  uniq++;
  return `${what}-${process.pid}-${uniq}`;
}

// Arguments with non-ASCII text (accents, CJK, an astral emoji, U+2028) and nesting.
function payload(tag) {
  return [tag, 'héllo wörld ✓ 日本語 🚀 \u2028 fin', { nested: { list: [1, 2.5, null, true, 'ü'], deep: { e: '€' } }, empty: {} }];
}

// Arg lists in `got` whose first argument is `tag`.
function tagged(got, tag) {
  return got.filter((args) => args[0] === tag);
}

function byId(a, b) {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

// Waits until every client in `want` has received `tag` on its collector, then QUIET ms, and
// checks that each of `want` got it exactly once and each of `none` not at all.
//   logs: Map client → collected arg lists
async function expectDelivery(logs, tag, want, none, what) {
  const detail = () => [...want, ...none].map((c) => `${c.label}: ${tagged(logs.get(c), tag).length}`).join(', ');
  await waitUntil(() => want.every((c) => tagged(logs.get(c), tag).length > 0), { timeout: WAIT, what: `${what} to reach ${want.map((c) => c.label).join(', ')}`, detail });
  await h.sleep(QUIET);
  for (const c of want) assert.equal(tagged(logs.get(c), tag).length, 1, `${what}: ${c.name} got it ${tagged(logs.get(c), tag).length} times (${detail()})`);
  for (const c of none) assert.equal(tagged(logs.get(c), tag).length, 0, `${what}: ${c.name} got it but must not (${detail()})`);
}

function collectAll(clients, event) {
  return new Map(clients.map((c) => [c, c.collect(event)]));
}

// It's a test of its own, so a missing redis-server fails by name (the hooks below fail too).
it('redis-server is on PATH', () => {
  requireRedisServer();
});

describe(`redis cluster: go1, go2 and node${ALL_NODE ? ' (CLUSTER_ALL_NODE: all members are Node)' : ''}`, () => {
  let cluster;
  const member = (name) => cluster.member(name);
  // One client on each member, keyed by member name; labels `${prefix}-${member}`.
  async function onEach(prefix = 'c', opts = {}) {
    const out = {};
    await Promise.all(NAMES.map(async (n) => (out[n] = await connectClient(member(n), { ...opts, label: `${prefix}-${n}` }))));
    return out;
  }

  before(async () => {
    cluster = await startCluster({ goNodes: 2, nodeNodes: 1 });
  }, START);
  after(async () => {
    closeAllClients();
    if (cluster) await cluster.stop();
  });
  afterEach(() => closeAllClients());

  it('every member subscribed to the request channel and counts 3 servers', TEST, async () => {
    const c = await onEach('count');
    const counts = {};
    for (const n of NAMES) counts[n] = await c[n].emitAck('server-count');
    const numsub = `PUBSUB NUMSUB socket.io-request#/# was ${cluster.settled.numsub} after the start`;
    assert.deepStrictEqual(counts, { go1: 3, go2: 3, node: 3 }, `server-count on each member (${numsub})`);
    assert.ok(cluster.settled.ok, `${numsub}, want 3`);
  });

  for (const origin of NAMES) {
    it(`namespace broadcast through ${origin} reaches a client on every member, once`, TEST, async () => {
      const c = await onEach('bc');
      const all = Object.values(c);
      const logs = collectAll(all, 'bcast');
      const args = payload(unique(`bcast-${origin}`));
      c[origin].emit('bcast', ...args);
      await expectDelivery(logs, args[0], all, [], `bcast through ${origin}`);
      for (const cl of all) assert.deepStrictEqual(tagged(logs.get(cl), args[0])[0], args, `the args ${cl.name} got`);
    });
  }

  for (const origin of NAMES) {
    it(`single-room broadcast through ${origin}: members on go1 and node get it, go2's non-member does not`, TEST, async () => {
      const r1 = unique('r1');
      const a = await connectClient(member('go1'), { label: 'A' });
      const b = await connectClient(member('node'), { label: 'B' });
      const cc = await connectClient(member('go2'), { label: 'C' });
      assert.equal(await a.emitAck('join', r1), true);
      assert.equal(await b.emitAck('join', r1), true);
      const sender = { go1: a, node: b, go2: cc }[origin];
      const logs = collectAll([a, b, cc], 'room-msg');
      const args = payload(unique(`room-${origin}`));
      assert.equal(await sender.emitAck('to', { rooms: [r1], except: [], event: 'room-msg', args }), true);
      await expectDelivery(logs, args[0], [a, b], [cc], `'to' ${r1} through ${origin}`);
      assert.deepStrictEqual(tagged(logs.get(b), args[0])[0], args);
    });
  }

  for (const origin of NAMES) {
    it(`multi-room broadcast through ${origin}: a client in both rooms gets it once`, TEST, async () => {
      const [r1, r2] = [unique('r1'), unique('r2')];
      const both1 = await connectClient(member('go1'), { label: 'both-go1' });
      const both2 = await connectClient(member('node'), { label: 'both-node' });
      const both3 = await connectClient(member('go2'), { label: 'both-go2' });
      const only1 = await connectClient(member('go2'), { label: 'r2-go2' });
      const only2 = await connectClient(member('node'), { label: 'r1-node' });
      const none1 = await connectClient(member('go1'), { label: 'none-go1' });
      const none2 = await connectClient(member('go2'), { label: 'none-go2' });
      for (const cl of [both1, both2, both3]) {
        assert.equal(await cl.emitAck('join', r1), true);
        assert.equal(await cl.emitAck('join', r2), true);
      }
      assert.equal(await only1.emitAck('join', r2), true);
      assert.equal(await only2.emitAck('join', r1), true);
      const all = [both1, both2, both3, only1, only2, none1, none2];
      const logs = collectAll(all, 'multi');
      const sender = { go1: none1, go2: none2, node: only2 }[origin];
      const tag = unique(`multi-${origin}`);
      assert.equal(await sender.emitAck('to', { rooms: [r1, r2], except: [], event: 'multi', args: [tag] }), true);
      await expectDelivery(logs, tag, [both1, both2, both3, only1, only2], [none1, none2], `'to' [${r1}, ${r2}] through ${origin}`);
    });
  }

  for (const origin of NAMES) {
    it(`except through ${origin}: all but a room, a room but another room, all but a socket id`, TEST, async () => {
      const ex = unique('ex');
      const r = unique('r');
      const inside = await onEach('ex');
      const outside = await onEach('out');
      const all = [...Object.values(inside), ...Object.values(outside)];
      for (const cl of Object.values(inside)) assert.equal(await cl.emitAck('join', ex), true);
      for (const cl of all) assert.equal(await cl.emitAck('join', r), true);
      const logs = collectAll(all, 'ex-msg');
      const sender = outside[origin];

      let tag = unique(`except-room-${origin}`);
      assert.equal(await sender.emitAck('to', { rooms: [], except: [ex], event: 'ex-msg', args: [tag] }), true);
      await expectDelivery(logs, tag, Object.values(outside), Object.values(inside), `'to' all except ${ex} through ${origin}`);

      tag = unique(`room-except-room-${origin}`);
      assert.equal(await sender.emitAck('to', { rooms: [r], except: [ex], event: 'ex-msg', args: [tag] }), true);
      await expectDelivery(logs, tag, Object.values(outside), Object.values(inside), `'to' ${r} except ${ex} through ${origin}`);

      // A socket on another member is left out by its id.
      const target = outside[NAMES[(NAMES.indexOf(origin) + 1) % NAMES.length]];
      tag = unique(`except-id-${origin}`);
      assert.equal(await sender.emitAck('to', { rooms: [], except: [target.id], event: 'ex-msg', args: [tag] }), true);
      await expectDelivery(logs, tag, all.filter((cl) => cl !== target), [target], `'to' all except ${target.name} through ${origin}`);
    });
  }

  for (const origin of NAMES) {
    it(`binary through ${origin}: a Buffer of 0..255, top-level and nested, on every member`, TEST, async () => {
      const c = await onEach('bin');
      const all = Object.values(c);
      const got = new Map(all.map((cl) => [cl, cl.collect('bin')]));
      const buf = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      assert.equal(await c[origin].emitAck('bin', buf), true);
      await waitUntil(() => all.every((cl) => got.get(cl).length > 0), { what: `'bin' through ${origin} on every member`, detail: () => all.map((cl) => `${cl.label}: ${got.get(cl).length}`).join(', ') });
      await h.sleep(QUIET);
      for (const cl of all) {
        const list = got.get(cl);
        assert.equal(list.length, 1, `${cl.name} got 'bin' ${list.length} times`);
        const [top, obj] = list[0];
        assert.ok(Buffer.isBuffer(top), `${cl.name}: the top-level payload is ${Object.prototype.toString.call(top)}, not a Buffer`);
        assert.ok(top.equals(buf), `${cl.name}: the top-level bytes differ: ${top.toString('hex')}`);
        assert.ok(obj && Buffer.isBuffer(obj.nested), `${cl.name}: the nested payload is ${Object.prototype.toString.call(obj && obj.nested)}, not a Buffer`);
        assert.ok(obj.nested.equals(buf), `${cl.name}: the nested bytes differ`);
        assert.deepStrictEqual(Object.keys(obj), ['nested']);
      }
    });
  }

  // Sends 'to' `room` from `sender` with a new tag; resolves once `witness` (a member of the
  // room) has it, plus QUIET ms, with whether `target` got it too.
  async function probe(sender, room, witness, target, logs) {
    const tag = unique('probe');
    assert.equal(await sender.emitAck('to', { rooms: [room], except: [], event: 'rj-msg', args: [tag] }), true);
    await waitUntil(() => tagged(logs.get(witness), tag).length > 0, { what: `a 'to' ${room} probe to reach ${witness.name}` });
    await h.sleep(QUIET);
    return tagged(logs.get(target), tag).length;
  }

  for (const [x, y] of ORDERED_PAIRS) {
    const z = third(x, y);
    it(`remote join and leave: ${x} puts a socket of ${y} into a room and out, ${z} broadcasts to it`, TEST, async () => {
      const rj = unique('rj');
      const cx = await connectClient(member(x), { label: `x-${x}` });
      const cy = await connectClient(member(y), { label: `y-${y}` });
      const cz = await connectClient(member(z), { label: `z-${z}` });
      assert.equal(await cz.emitAck('join', rj), true); // the witness
      const logs = collectAll([cx, cy, cz], 'rj-msg');

      assert.equal(await cx.emitAck('remote-join', { target: cy.id, room: rj }), true);
      // socketsJoin is not acknowledged across the cluster: a probe may overtake it, so probe
      // until the target is in (bounded).
      await waitUntil(async () => (await probe(cz, rj, cz, cy, logs)) === 1, { timeout: 3000, interval: 0, what: `${cy.name} to receive 'to' ${rj} after remote-join from ${x}` });
      const tag = unique('joined');
      assert.equal(await cz.emitAck('to', { rooms: [rj], except: [], event: 'rj-msg', args: [tag] }), true);
      await expectDelivery(logs, tag, [cy, cz], [cx], `'to' ${rj} after remote-join`);

      assert.equal(await cx.emitAck('remote-leave', { target: cy.id, room: rj }), true);
      await waitUntil(async () => (await probe(cz, rj, cz, cy, logs)) === 0, { timeout: 3000, interval: 0, what: `${cy.name} to stop receiving 'to' ${rj} after remote-leave from ${x}` });
      assert.ok(cx.connected && cy.connected && cz.connected);
    });
  }

  for (const [x, y] of ORDERED_PAIRS) {
    it(`remote disconnect: ${x} disconnects a socket of ${y} by id ('io server disconnect')`, TEST, async () => {
      const cx = await connectClient(member(x), { label: `x-${x}` });
      const cy = await connectClient(member(y), { label: `y-${y}` });
      const other = await connectClient(member(y), { label: `other-${y}` });
      const gone = cy.waitFor('disconnect', { timeout: WAIT });
      assert.equal(await cx.emitAck('remote-disconnect', { target: cy.id, close: false }), true);
      const [reason] = await gone;
      assert.equal(reason, 'io server disconnect');
      await h.sleep(QUIET);
      assert.ok(cx.connected, `${cx.name} was disconnected too`);
      assert.ok(other.connected, `${other.name} was disconnected too`);
      assert.equal((await other.emitAck('whoami')).node, y);
    });
  }

  it('remote join, leave and disconnect of a room spanning every member, through node', TEST, async () => {
    const grp = unique('grp');
    const grp2 = unique('grp2');
    const c = await onEach('grp');
    const outsider = await connectClient(member('go1'), { label: 'outsider' });
    const witness = await connectClient(member('go2'), { label: 'witness' });
    for (const cl of Object.values(c)) assert.equal(await cl.emitAck('join', grp), true);
    assert.equal(await witness.emitAck('join', grp2), true);
    const all = [...Object.values(c), outsider, witness];
    const logs = collectAll(all, 'rj-msg');

    assert.equal(await c.node.emitAck('remote-join', { target: grp, room: grp2 }), true);
    await waitUntil(async () => (await Promise.all(Object.values(c).map((cl) => probe(witness, grp2, witness, cl, logs)))).every((n) => n === 1), { timeout: 3000, interval: 0, what: `every member of ${grp} to be in ${grp2}` });
    let tag = unique('grp2');
    assert.equal(await witness.emitAck('to', { rooms: [grp2], except: [], event: 'rj-msg', args: [tag] }), true);
    await expectDelivery(logs, tag, [...Object.values(c), witness], [outsider], `'to' ${grp2}`);

    assert.equal(await c.go1.emitAck('remote-leave', { target: grp, room: grp2 }), true);
    await waitUntil(async () => (await Promise.all(Object.values(c).map((cl) => probe(witness, grp2, witness, cl, logs)))).every((n) => n === 0), { timeout: 3000, interval: 0, what: `every member of ${grp} to leave ${grp2}` });

    const gone = Object.values(c).map((cl) => cl.waitFor('disconnect', { timeout: WAIT }));
    assert.equal(await outsider.emitAck('remote-disconnect', { target: grp, close: true }), true);
    const reasons = (await Promise.all(gone)).map(([reason]) => reason);
    // close=true: the server may send the DISCONNECT packet before closing the connection, or not.
    for (const r of reasons) assert.ok(['io server disconnect', 'transport close'].includes(r), `disconnect reason ${r}`);
    await h.sleep(QUIET);
    assert.ok(outsider.connected && witness.connected, 'a client outside the room was disconnected');
  });

  it('fetchSockets agrees on every member: ids, rooms (own id room included) and data', TEST, async () => {
    const [f, f2, f3] = [unique('f'), unique('f2'), unique('f3')];
    const a = await connectClient(member('go1'), { label: 'a' });
    const b = await connectClient(member('node'), { label: 'b' });
    const cc = await connectClient(member('go2'), { label: 'c' });
    const d = await connectClient(member('go2'), { label: 'd' });
    const dataA = { name: 'a', n: 1, list: [1, 'ü', null, 2.5], deep: { ok: true } };
    const dataB = { name: 'b 日本', nested: { x: [true, false] } };
    assert.equal(await a.emitAck('set-data', dataA), true);
    assert.equal(await b.emitAck('set-data', dataB), true);
    assert.equal(await d.emitAck('set-data', { name: 'd' }), true);
    for (const cl of [a, b, cc]) assert.equal(await cl.emitAck('join', f), true);
    assert.equal(await a.emitAck('join', f2), true);
    assert.equal(await d.emitAck('join', f3), true);
    const expected = [
      { id: a.id, rooms: [a.id, f, f2].sort(), data: dataA },
      { id: b.id, rooms: [b.id, f].sort(), data: dataB },
      { id: cc.id, rooms: [cc.id, f].sort(), data: {} }, // never set: socket.io's default {}
    ].sort(byId);
    // Every query through every member, compared at once so a failure shows them all.
    const union = [...expected, { id: d.id, rooms: [d.id, f3].sort(), data: { name: 'd' } }].sort(byId);
    const queries = [
      [`[${f}]`, [f], expected],
      [`[${f2}]`, [f2], expected.filter((s) => s.id === a.id)],
      [`[${f}, ${f3}]`, [f, f3], union],
      ['[an empty room]', [unique('empty')], []],
    ];
    const label = (x) => ({ [a.id]: 'a(go1)', [b.id]: 'b(node)', [cc.id]: 'c(go2)', [d.id]: 'd(go2)' })[x] || x;
    const named = (list) => (Array.isArray(list) ? list.map((s) => ({ ...s, socket: label(s.id) })) : list);
    const got = {};
    const want = {};
    for (const [n, cl] of [['go1', a], ['node', b], ['go2', cc]]) {
      for (const [q, rooms, exp] of queries) {
        got[`${q} through ${n}`] = named(await cl.emitAck('fetch', { rooms }));
        want[`${q} through ${n}`] = named(exp);
      }
    }
    // One line per differing answer, or per differing socket in it.
    const mismatches = [];
    for (const k of Object.keys(want)) {
      if (util.isDeepStrictEqual(got[k], want[k])) continue;
      const ids = (list) => (Array.isArray(list) ? list.map((x) => x.socket) : list);
      if (!Array.isArray(got[k]) || !util.isDeepStrictEqual(ids(got[k]), ids(want[k]))) {
        mismatches.push(`fetch ${k}: sockets ${JSON.stringify(ids(got[k]))}, want ${JSON.stringify(ids(want[k]))}`);
        continue;
      }
      want[k].forEach((w, i) => {
        if (!util.isDeepStrictEqual(got[k][i], w)) mismatches.push(`fetch ${k}: ${w.socket} is ${util.inspect(got[k][i], { breakLength: Infinity, depth: 5 })}, want ${util.inspect(w, { breakLength: Infinity, depth: 5 })}`);
      });
    }
    if (mismatches.length) assert.fail(`fetchSockets answers differ from socket.io's:\n  ${mismatches.join('\n  ')}`);
  });

  it('allRooms agrees on every member and holds every room and socket id room', TEST, async () => {
    const c = await onEach('rooms');
    const mine = {};
    for (const n of NAMES) {
      mine[n] = unique(`room-${n}`);
      assert.equal(await c[n].emitAck('join', mine[n]), true);
    }
    const shared = unique('shared');
    for (const n of NAMES) assert.equal(await c[n].emitAck('join', shared), true);
    const want = [...Object.values(mine), shared, ...Object.values(c).map((cl) => cl.id)];
    let lists;
    // Sockets of earlier tests may still be leaving: wait for the lists to agree (bounded).
    await waitUntil(
      async () => {
        lists = await Promise.all(NAMES.map((n) => c[n].emitAck('all-rooms')));
        return lists.every((l) => JSON.stringify(l) === JSON.stringify(lists[0]));
      },
      { timeout: 3000, interval: 100, what: 'all-rooms to agree', detail: () => JSON.stringify(Object.fromEntries(NAMES.map((n, i) => [n, lists[i]]))) },
    );
    for (const [i, n] of NAMES.entries()) {
      assert.ok(Array.isArray(lists[i]), `all-rooms on ${n}: ${JSON.stringify(lists[i])}`);
      assert.deepStrictEqual([...lists[i]].sort(), lists[i], `all-rooms on ${n} is sorted`);
      for (const r of want) assert.ok(lists[i].includes(r), `all-rooms on ${n} lacks ${r}: ${JSON.stringify(lists[i])}`);
      assert.equal(new Set(lists[i]).size, lists[i].length, `all-rooms on ${n} has duplicates`);
    }
  });

  for (const origin of NAMES) {
    it(`serverSideEmit through ${origin} reaches the other members only; with ack, their pongs`, TEST, async () => {
      const c = await onEach('ss');
      const all = Object.values(c);
      const got = new Map(all.map((cl) => [cl, cl.collect('ss-received')]));
      const tag = unique(`ss-${origin}`);
      const args = [tag, { from: origin, list: [1, 'ü', null] }];
      c[origin].emit('ssemit', ...args);
      const others = NAMES.filter((n) => n !== origin);
      const mine = (cl) => got.get(cl).filter(([m]) => m && Array.isArray(m.args) && m.args[0] === tag);
      await waitUntil(() => others.every((n) => mine(c[n]).length > 0), { what: `'ss-received' on ${others.join(' and ')}`, detail: () => all.map((cl) => `${cl.label}: ${JSON.stringify(got.get(cl))}`).join('; ') });
      await h.sleep(QUIET);
      for (const n of others) assert.deepStrictEqual(mine(c[n]), [[{ node: n, args }]], `what ${n}'s client got`);
      assert.deepStrictEqual(mine(c[origin]), [], `serverSideEmit looped back to ${origin}`);

      const res = await c[origin].emitAckWithin(8000, 'ssemit-ack');
      assert.deepStrictEqual(res, { ok: true, responses: others.map((n) => `pong-${n}`).sort() });
    });
  }

  for (const origin of NAMES) {
    it(`broadcast with acks through ${origin}: every client in the room answers, across members`, TEST, async () => {
      const room = unique('ack');
      const c = await onEach('ans');
      const outsider = await connectClient(member('go1'), { label: 'outsider' });
      const extra = await connectClient(member('go2'), { label: 'ans-go2-bis' });
      for (const cl of [...Object.values(c), extra]) assert.equal(await cl.emitAck('join', room), true);
      const asked = collectAll([...Object.values(c), extra, outsider], 'question');
      const res = await c[origin].emitAckWithin(6000, 'emit-ack', { rooms: [room] });
      assert.deepStrictEqual(res, { err: false, responses: [...Object.values(c), extra].map((cl) => cl.label).sort() });
      assert.equal(asked.get(outsider).length, 0, 'a client outside the room was asked');
      for (const cl of [...Object.values(c), extra]) assert.deepStrictEqual(asked.get(cl).map((a) => a[0]), [origin], `${cl.name} was asked by`);
    });
  }

  for (const mode of ['websocket', 'polling']) {
    it(`socket.io-client 2.x (EIO3, ${mode}) on go1 and on node: broadcasts both ways`, TEST, async () => {
      const old1 = await connectClient(member('go1'), { version: 2, mode, label: 'v2-go1' });
      const old2 = await connectClient(member('node'), { version: 2, mode, label: 'v2-node' });
      const new1 = await connectClient(member('node'), { label: 'v4-node' });
      const new2 = await connectClient(member('go1'), { label: 'v4-go1' });
      const all = [old1, old2, new1, new2];
      const logs = collectAll(all, 'bcast');
      for (const [from, what] of [
        [new1, 'v4 on node → everyone (v2 on go1)'],
        [new2, 'v4 on go1 → everyone (v2 on node)'],
        [old1, 'v2 on go1 → everyone'],
      ]) {
        const args = payload(unique('v2'));
        from.emit('bcast', ...args);
        await expectDelivery(logs, args[0], all, [], what);
        for (const cl of all) assert.deepStrictEqual(tagged(logs.get(cl), args[0])[0], args, `what ${cl.name} got`);
      }
      // A room broadcast with binary, node → the 2.x client on go1.
      const room = unique('v2room');
      assert.equal(await old1.emitAck('join', room), true);
      const bins = old1.collect('bin-room');
      const buf = Buffer.from([0, 1, 2, 254, 255]);
      assert.equal(await new1.emitAck('to', { rooms: [room], except: [], event: 'bin-room', args: [buf, { nested: buf }] }), true);
      await waitUntil(() => bins.length > 0, { what: `'bin-room' on ${old1.name}` });
      assert.deepStrictEqual(h.normalizeBinary(bins[0]), [buf, { nested: buf }]);
    });
  }
});

describe(`redis cluster: redis-server killed and restarted on the same port${ALL_NODE ? ' (CLUSTER_ALL_NODE)' : ''}`, () => {
  let cluster;
  let c;
  const member = (name) => cluster.member(name);
  const RECOVER = 10000;

  // One client per member, connected for the whole describe: an outage of Redis must not
  // disconnect them.
  before(async () => {
    cluster = await startCluster({ goNodes: 2, nodeNodes: 1 });
    c = {};
    for (const n of NAMES) c[n] = await connectClient(member(n), { label: `rs-${n}` });
  }, START);
  after(async () => {
    closeAllClients();
    if (cluster) await cluster.stop();
  });

  // Emits 'to' `room` from `from` every 200 ms until `to` receives one (bounded).
  async function deliveredAgain(from, to, room, logs, timeout) {
    const sent = [];
    await waitUntil(
      async () => {
        const tag = unique('again');
        sent.push(tag);
        from.emit('to', { rooms: [room], except: [], event: 'again', args: [tag] });
        await h.sleep(200);
        return logs.get(to).some(([t]) => sent.includes(t));
      },
      { timeout, interval: 0, what: `a broadcast ${from.member.name} → ${to.member.name} after the restart (${sent.length} sent)` },
    );
  }

  it('the cluster works before the outage', TEST, async () => {
    const room = unique('before');
    for (const n of NAMES) assert.equal(await c[n].emitAck('join', room), true);
    const logs = collectAll(Object.values(c), 'before');
    const tag = unique('before');
    assert.equal(await c.go1.emitAck('to', { rooms: [room], except: [], event: 'before', args: [tag] }), true);
    await expectDelivery(logs, tag, Object.values(c), [], 'before the outage');
  });

  it('with redis-server killed, every member stays up and acks', TEST, async () => {
    await cluster.redis.kill();
    for (const n of NAMES) c[n].emit('bcast', unique('lost')); // may be lost, must not crash
    for (const n of NAMES) c[n].emit('to', { rooms: ['nobody'], except: [], event: 'lost', args: [1] });
    for (const when of ['0.5 s', '1.5 s']) {
      await h.sleep(when === '0.5 s' ? 500 : 1000);
      for (const n of NAMES) {
        const fx = cluster.member(n).fixture;
        let who;
        try {
          who = await c[n].emitAck('whoami');
        } catch (err) {
          err.message += `\n${n} ${fx.proc ? 'still runs' : 'has exited'}; its output:\n${fx.log.slice(-3000)}`;
          throw err;
        }
        assert.deepStrictEqual(who, { node: n, id: c[n].id }, `whoami on ${n} after ${when} of outage`);
        assert.ok(fx.proc, `${n} exited during the outage\n${fx.log.slice(-3000)}`);
      }
    }
  });

  it(`after a restart on the same port, broadcasts cross the cluster again within ${RECOVER / 1000} s`, { timeout: 60000 }, async () => {
    await cluster.redis.restart();
    const started = Date.now();
    const room = unique('after');
    for (const n of NAMES) assert.equal(await c[n].emitAck('join', room), true);
    const logs = collectAll(Object.values(c), 'again');
    for (const [x, y] of [
      ['go1', 'go2'],
      ['go2', 'go1'],
      ['go1', 'node'],
      ['node', 'go1'],
      ['node', 'go2'],
      ['go2', 'node'],
    ]) {
      await deliveredAgain(c[x], c[y], room, logs, Math.max(500, RECOVER - (Date.now() - started)));
    }
    for (const n of NAMES) assert.deepStrictEqual(h.unexpectedEvents(c[n].socket), [], `${n}'s client saw`);
  });

  it('after the restart every member counts 3 servers again', TEST, async () => {
    let counts;
    await waitUntil(
      async () => {
        counts = await Promise.all(NAMES.map((n) => c[n].emitAck('server-count')));
        return counts.every((x) => x === 3);
      },
      { timeout: 5000, interval: 200, what: 'server-count 3 on every member', detail: () => JSON.stringify(counts) },
    );
  });
});
