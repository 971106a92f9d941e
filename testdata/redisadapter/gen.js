// Regenerates the golden messages of the Redis adapter in this directory with
// the real @socket.io/redis-adapter 8.3.0 (and its notepack.io 3.0.1), driven
// by a real socket.io 4.8 server over a fake Redis client that records what is
// published. See README.md for how to run it.
"use strict";
const fs = require("fs");
const path = require("path");
const Module = require("module");

// Where the Node packages come from: GEN_NODE_MODULES (a node_modules
// directory), else compat/node_modules. NOTEPACK may point at another
// notepack.io package directory (such as an unpacked npm tarball).
const modulesDir = path.resolve(process.env.GEN_NODE_MODULES || path.join(__dirname, "../../compat/node_modules"));
const req = Module.createRequire(path.join(modulesDir, "..", "gen-anchor.js"));
const notepackDir = path.resolve(process.env.NOTEPACK || path.join(modulesDir, "notepack.io"));
const notepack = require(notepackDir);
const readVersion = (name) => JSON.parse(fs.readFileSync(path.join(modulesDir, name, "package.json"), "utf8")).version;
const versions = {
  notepack: require(path.join(notepackDir, "package.json")).version,
  adapter: readVersion("@socket.io/redis-adapter"),
  socketio: readVersion("socket.io"),
};
if (versions.notepack !== "3.0.1" || versions.adapter !== "8.3.0" || !versions.socketio.startsWith("4.8.")) {
  throw new Error("wrong versions: " + JSON.stringify(versions));
}

// uid2 makes the server uid and the request ids: make them predictable.
const nextUID = [];
const uid2Path = Module.createRequire(req.resolve("@socket.io/redis-adapter")).resolve("uid2");
const uid2Module = new Module(uid2Path);
uid2Module.filename = uid2Path;
uid2Module.loaded = true;
uid2Module.exports = () => {
  if (nextUID.length === 0) throw new Error("unexpected uid2 call");
  return nextUID.shift();
};
require.cache[uid2Path] = uid2Module;

const { Server } = req("socket.io");
const { createAdapter } = req("@socket.io/redis-adapter");
// socket.io's own parser (4.2.x), for deconstructPacket.
const parserMain = Module.createRequire(req.resolve("socket.io")).resolve("socket.io-parser");
const { deconstructPacket } = require(path.join(path.dirname(parserMain), "binary.js"));

// A fake ioredis-style client: publish records, PUBSUB NUMSUB says 2 servers.
const published = [];
function fakeRedis() {
  const handlers = {};
  return {
    psubscribe() {},
    subscribe() {},
    punsubscribe() {},
    unsubscribe() {},
    on(ev, fn) { (handlers[ev] = handlers[ev] || []).push(fn); return this; },
    off() { return this; },
    listenerCount() { return 1; },
    publish(channel, msg) { published.push({ channel, msg }); return Promise.resolve(1); },
    send_command(cmd, args, cb) { cb(null, [args[1], "2"]); },
    fire(ev, ...args) { (handlers[ev] || []).forEach((fn) => fn(...args)); },
  };
}

const pub = fakeRedis();
const sub = fakeRedis();
const io = new Server();
nextUID.push("abc123");
io.adapter(createAdapter(pub, sub, { parser: notepack }));
const nsp = io.of("/");
const adapter = nsp.adapter;
if (adapter.uid !== "abc123") throw new Error("uid stub not used");

// One local socket "sid1" in "room1", for the requests other servers send.
const sentToSocket = [];
const socket = {
  id: "sid1",
  handshake: {
    headers: { host: "localhost:3000", "user-agent": "node" },
    time: "Tue Jan 02 2024 03:04:05 GMT+0000 (Coordinated Universal Time)",
    address: "::1",
    xdomain: false,
    secure: false,
    issued: 1704164645678,
    url: "/socket.io/?EIO=4&transport=websocket",
    query: { EIO: "4", transport: "websocket" },
    auth: {},
  },
  get rooms() { return adapter.socketRooms(this.id) || new Set(); },
  data: { user: "ann", score: 1.5 },
  acks: new Map(),
  client: { writeToEngine(packets) { sentToSocket.push(packets); } },
  join(room) { adapter.addAll(this.id, new Set([room])); },
  leave(room) { adapter.del(this.id, room); },
  disconnect() {},
};
nsp.sockets.set(socket.id, socket);
adapter.addAll(socket.id, new Set([socket.id, "room1"]));

const bin0 = () => Buffer.from([0x00, 0x01, 0xfe, 0xff]);
const bin1 = () => Buffer.from("hello, world", "utf8");

const cases = [];
// take records the one message the step published.
function take(name, kind, note, encode = true) {
  if (published.length !== 1) {
    throw new Error(`${name}: ${published.length} messages published`);
  }
  const { channel, msg } = published.shift();
  const c = { name, kind, channel, note };
  if (typeof msg === "string") {
    c.file = name + ".json";
    fs.writeFileSync(path.join(__dirname, c.file), msg);
  } else {
    c.file = name + ".bin";
    fs.writeFileSync(path.join(__dirname, c.file), msg);
    Object.assign(c, asJSON(notepack.decode(msg)));
    c.encode = encode;
  }
  cases.push(c);
}

// asJSON is what Node makes of a decoded msgpack value when it sends it on as
// socket.io data: Buffers become placeholders (socket.io-parser's
// deconstructPacket), the rest goes through JSON.stringify.
function asJSON(value) {
  const { packet, buffers } = deconstructPacket({ type: 5, data: value });
  const json = JSON.stringify(packet.data);
  return { json: json === undefined ? "null" : json, attachments: buffers.map((b) => Buffer.from(b).toString("hex")) };
}

// value cases: msgpack written by hand (forms notepack 3 decodes but does not
// write, and edge cases), with what Node makes of them.
function value(name, hex, note) {
  const msg = Buffer.from(hex.replace(/\s+/g, ""), "hex");
  const file = name + ".bin";
  fs.writeFileSync(path.join(__dirname, file), msg);
  cases.push({ name, kind: "value", file, note, ...asJSON(notepack.decode(msg)), encode: false });
}

async function main() {
  for (const f of fs.readdirSync(__dirname)) {
    if (/\.(bin|json)$/.test(f)) fs.unlinkSync(path.join(__dirname, f));
  }

  // Broadcasts: [uid, packet, opts] on socket.io#/# or socket.io#/#<room>#.
  io.emit("chat", "hello");
  take("broadcast_text", "broadcast", "io.emit(\"chat\", \"hello\")");

  io.to("room1").except("sid9").emit("upload", bin0(), { file: bin1() });
  take("broadcast_binary", "broadcast", "one room, so the room's channel; Buffers are bin, the packet type stays 2");

  const many = {};
  for (let i = 0; i < 17; i++) many["k" + i] = i * 1000;
  io.to(["room1", "room2"]).volatile.emit("nested", {
    str: "héllo wörld ✓ 😀 \"q\" \\ \n\t\u0000\u001f\u007f\u2028</script>",
    ints: [0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 9007199254740991,
      -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -9007199254740991],
    floats: [1.5, -0.25, 0.1, 0.30000000000000004, 1e-7, 123.456, 5e-324, -1e-300, 2.5e-8],
    misc: [true, false, null, [], {}, [[[]]]],
    deep: { a: { b: { c: { d: "e" } } } },
    long: "x".repeat(40) + "é".repeat(200),
    many,
    arr: Array.from({ length: 20 }, (_, i) => i - 10),
  }, -0);
  take("broadcast_nested", "broadcast", "two rooms, so the namespace channel; every msgpack int width, floats, str8/str16, map16, array16; -0 is the int 0");

  io.emit("date", new Date("2024-01-02T03:04:05.678Z"), new Date(0), new Date("2106-02-07T06:28:16.000Z"),
    new Date("1969-12-31T23:59:59.999Z"), new Date(8.64e15), new Date(-8.64e15));
  take("broadcast_date", "broadcast", "Dates are timestamp ext -1 (32, 64 and 96 bit forms); Node sends them on as ISO strings", false);

  io.emit("undef", [1, undefined, 3], { a: 1, b: undefined, c: 3 }, undefined);
  take("broadcast_undefined", "broadcast", "undefined is nil in an array, an omitted key in an object");

  io.except(["sid9", "room3"]).volatile.compress(false).timeout(5000).emit("flags", 1);
  take("broadcast_flags", "broadcast", "flags are the operator's own, in the order they were set");

  // Requests: JSON, except BROADCAST (broadcast with acks), msgpack.
  nextUID.push("req001");
  io.timeout(5000).to("room1").emit("ping", bin0(), () => {});
  take("request_broadcast", "request", "io.timeout(5000).to(\"room1\").emit(\"ping\", buf, cb): type 7, msgpack; the packet has no id yet");

  nextUID.push("req002");
  adapter.allRooms().catch(() => {});
  await flush();
  take("request_all_rooms", "request", "io.of(\"/\").adapter.allRooms()");

  nextUID.push("req003");
  io.in("room1").except("sid9").fetchSockets().catch(() => {});
  await flush();
  take("request_remote_fetch", "request", "io.in(\"room1\").except(\"sid9\").fetchSockets()");

  io.in("room1").socketsJoin(["room2", "room3"]);
  take("request_remote_join", "request", "io.in(\"room1\").socketsJoin([\"room2\", \"room3\"]): no requestId, no answer");

  io.except("room1").socketsLeave("room2");
  take("request_remote_leave", "request", "io.except(\"room1\").socketsLeave(\"room2\")");

  io.in("room1").disconnectSockets(true);
  take("request_remote_disconnect", "request", "io.in(\"room1\").disconnectSockets(true)");

  io.serverSideEmit("hello", "world", 1);
  take("request_server_side_emit", "request", "io.serverSideEmit(\"hello\", \"world\", 1): no requestId");

  nextUID.push("req004");
  io.serverSideEmit("ping", { n: 1 }, () => {});
  await flush();
  take("request_server_side_emit_ack", "request", "io.serverSideEmit(\"ping\", {n: 1}, cb)");

  // Responses: this server answers requests from another one ("rem999").
  const requestChannel = Buffer.from(adapter.requestChannel);
  const ask = async (request) => {
    const msg = typeof request === "string" ? Buffer.from(request) : request;
    sub.fire("messageBuffer", requestChannel, msg);
    await flush();
  };

  await ask(JSON.stringify({ uid: "rem999", requestId: "req101", type: 0, rooms: ["room1"] }));
  take("response_sockets", "response", "answer to {type: 0, rooms: [\"room1\"]} (a request older versions sent)");

  await ask(JSON.stringify({ uid: "rem999", requestId: "req102", type: 1 }));
  take("response_all_rooms", "response", "answer to ALL_ROOMS: every room of this server, socket ids included");

  await ask(JSON.stringify({ uid: "rem999", requestId: "req103", type: 5, opts: { rooms: ["room1"], except: [] } }));
  take("response_remote_fetch", "response", "answer to REMOTE_FETCH: {id, handshake, rooms, data} per socket");

  await ask(JSON.stringify({ uid: "rem999", requestId: "req104", type: 2, sid: "sid1", room: "room7" }));
  take("response_remote_join_sid", "response", "answer to the older single-socket REMOTE_JOIN {sid, room}");

  nsp.on("ping", (arg, cb) => cb({ pong: arg.n }));
  await ask(JSON.stringify({ uid: "rem999", requestId: "req105", type: 6, data: ["ping", { n: 1 }] }));
  take("response_server_side_emit", "response", "answer to SERVER_SIDE_EMIT with ack: {type: 6, requestId, data}");

  await ask(notepack.encode({
    uid: "rem999", requestId: "req106", type: 7,
    packet: { type: 2, data: ["ping", bin0()], nsp: "/" },
    opts: { rooms: ["room1"], except: [], flags: { timeout: 5000 } },
  }));
  take("response_broadcast_client_count", "response", "first answer to BROADCAST: how many clients got the packet (JSON)");
  const ack = [...socket.acks.values()].pop(); // the first is our own io.timeout(5000) emit's
  ack({ ok: true, file: bin1() });
  await flush();
  take("response_broadcast_ack", "response", "then one answer per client acknowledgement: its first argument, msgpack");
  ack();
  await flush();
  take("response_broadcast_ack_undefined", "response", "an acknowledgement without arguments: packet is undefined, so absent");

  // Hand-written msgpack: what notepack 3.0.1 decodes it to.
  value("value_undefined", "d4 00 00", "fixext1 type 0: undefined (notepack 2.x wrote it); null at the top");
  value("value_undefined_array", "93 01 d4 00 00 03", "undefined in an array: null");
  value("value_undefined_map", "83 a1 61 01 a1 62 d4 00 00 a1 63 03", "undefined as a map value: the key is dropped");
  value("value_arraybuffer", "92 c7 03 00 01 02 03 c8 00 01 00 ff", "ext8/ext16 type 0: an ArrayBuffer (notepack 2.x), binary");
  value("value_legacy_date", "d7 00 00 00 01 8c c6 3f 9c 4e", "fixext8 type 0: a Date in ms (notepack 2.x)");
  value("value_timestamp64_ns", "d7 ff 1d 6f 34 54 65 93 7d 25", "timestamp 64 with 123456789 ns: the Date keeps whole ms");
  value("value_timestamp64_rounding", "d7 ff ee 6b 27 fc 65 53 f1 00", "timestamp 64, 1700000000 s + 999999999 ns: the float sum rounds up to the next second");
  value("value_timestamp96_negative", "c7 0c ff 1d cd 65 01 ff ff ff ff ff ff ff ff", "timestamp 96, -1 s + 500000001 ns: -499.999999 ms, truncated toward zero");
  value("value_timestamp96_year_minus1", "c7 0c ff 00 00 00 00 ff ff ff f1 84 aa 50 80", "timestamp 96 in year -1 (ISO's six-digit signed year)");
  value("value_timestamp96_invalid", "c7 0c ff 00 00 00 00 7f ff ff ff ff ff ff ff", "timestamp 96 out of Date's range: Invalid Date, null in JSON");
  value("value_float32", "93 ca 3d cc cc cd ca 7f 80 00 00 ca ff c0 00 00", "float32 0.1, +Inf and NaN: Inf and NaN are null in JSON");
  value("value_float64_special", "95 cb 80 00 00 00 00 00 00 00 cb 44 15 af 1d 78 b5 8c 40 cb 44 4b 1a e4 d6 e2 ef 50 cb 7f ef ff ff ff ff ff ff cb 40 08 00 00 00 00 00 00",
    "float64 -0 (JSON 0), 1e20 and 1e21 (JS switches to exponent form at 1e21), max, 3.0 (an integer in JSON)");
  value("value_nonminimal", "97 cc 01 cd 00 02 ce 00 00 00 03 d0 7f d3 00 00 00 00 00 00 00 05 d9 01 61 de 00 01 a1 62 dc 00 01 c0",
    "ints, str, map and array in wider forms than notepack writes");
  value("value_bin_top", "c4 02 01 02", "a bin at the top: one placeholder");
  value("value_invalid_utf8", "a5 e2 82 41 ff 61", "invalid UTF-8 in a str: one U+FFFD per maximal subpart, as Node's decoder");
  value("value_map_bin_key_order", "82 a1 62 c4 01 07 a1 61 c4 01 08", "two bin values: placeholders numbered in document order");
}

function flush() {
  return new Promise((resolve) => setImmediate(resolve));
}

main().then(() => {
  fs.writeFileSync(path.join(__dirname, "cases.json"), JSON.stringify({ versions, cases }, null, 2) + "\n");
  process.exit(0);
}, (err) => {
  console.error(err);
  process.exit(1);
});
