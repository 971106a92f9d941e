// Regenerates the Socket.IO golden frames in this directory with the real
// Node parsers. See README.md for how to run it.
"use strict";
const fs = require("fs");
const path = require("path");

const v5 = require("p4"); // socket.io-parser@4.2.4: protocol v5
const v4 = require("p3"); // socket.io-parser@3.4.3: protocol v4
if (v5.protocol !== 5 || v4.protocol !== 4) throw new Error("wrong parser versions");

const sid = "zCqJ8vV2x6c7A0tLAAAB";
const bin0 = () => Buffer.from([0x00, 0x01, 0xfe, 0xff]);
const bin1 = () => Buffer.from("hello, world", "utf8");

// Packets as the Node encoders are given them. The v5 encoder switches
// EVENT/ACK with Buffers to BINARY_EVENT/BINARY_ACK by itself; the v4 encoder
// needs the binary type spelled out, as socket.io 2.x does with hasBin().
const cases = {
  v5: {
    connect: { type: 0, nsp: "/" },
    connect_nsp: { type: 0, nsp: "/admin" },
    connect_auth: { type: 0, nsp: "/admin", data: { token: "abc" } },
    connect_reply: { type: 0, nsp: "/", data: { sid } },
    connect_reply_nsp: { type: 0, nsp: "/admin", data: { sid } },
    connect_error: { type: 4, nsp: "/", data: { message: "Not authorized" } },
    connect_error_data: { type: 4, nsp: "/admin", data: { message: "Not authorized", data: { code: 401 } } },
    event: { type: 2, nsp: "/", data: ["chat", "hello"] },
    event_ack: { type: 2, nsp: "/", id: 12, data: ["chat", "hello"] },
    event_nsp: { type: 2, nsp: "/admin", data: ["chat", { a: 1, b: [true, null, 1.5], s: "é\n\"<>&\u2028" }] },
    event_nsp_ack: { type: 2, nsp: "/admin", id: 7, data: ["ready"] },
    event_number_name: { type: 2, nsp: "/", data: [42, "x"] },
    binary_event: { type: 2, nsp: "/", data: ["upload", bin0(), { file: bin1() }] },
    binary_event_nsp_ack: { type: 2, nsp: "/admin", id: 3, data: ["upload", [bin0(), bin1()]] },
    ack: { type: 3, nsp: "/", id: 12, data: ["ok", 1] },
    ack_nsp_empty: { type: 3, nsp: "/admin", id: 3, data: [] },
    binary_ack: { type: 3, nsp: "/admin", id: 4, data: [bin0(), bin1()] },
    disconnect: { type: 1, nsp: "/" },
    disconnect_nsp: { type: 1, nsp: "/admin" },
  },
  v4: {
    connect_nsp: { type: 0, nsp: "/admin" },
    // socket.io-client 2.x: Manager#packet appends "?" + query to the nsp of CONNECT.
    connect_query: { type: 0, nsp: "/admin?token=abc&x=1" },
    connect_reply: { type: 0, nsp: "/" },
    connect_reply_nsp: { type: 0, nsp: "/admin" },
    // socket.io 4.8 with an EIO3 client: socket._error(err.data || err.message)
    connect_error: { type: 4, nsp: "/", data: "Not authorized" },
    connect_error_data: { type: 4, nsp: "/admin", data: { code: 401 } },
    event: { type: 2, nsp: "/", data: ["chat", "hello"] },
    event_ack: { type: 2, nsp: "/", id: 12, data: ["chat", "hello"] },
    event_nsp: { type: 2, nsp: "/admin", data: ["chat", { a: 1, b: [true, null, 1.5], s: "é\n\"<>&\u2028" }] },
    event_nsp_ack: { type: 2, nsp: "/admin", id: 7, data: ["ready"] },
    event_number_name: { type: 2, nsp: "/", data: [42, "x"] },
    binary_event: { type: 5, nsp: "/", data: ["upload", bin0(), { file: bin1() }] },
    binary_event_nsp_ack: { type: 5, nsp: "/admin", id: 3, data: ["upload", [bin0(), bin1()]] },
    ack: { type: 3, nsp: "/", id: 12, data: ["ok", 1] },
    ack_nsp_empty: { type: 3, nsp: "/admin", id: 3, data: [] },
    binary_ack: { type: 6, nsp: "/admin", id: 4, data: [bin0(), bin1()] },
    disconnect: { type: 1, nsp: "/" },
    disconnect_nsp: { type: 1, nsp: "/admin" },
  },
};

function encode(rev, packet) {
  if (rev === "v5") return new v5.Encoder().encode(packet);
  let out;
  new v4.Encoder().encode(packet, (frames) => { out = frames; }); // synchronous without Blobs
  if (!out) throw new Error("v4 encoder did not call back");
  return out;
}

// Decode what was encoded, so a golden the parser itself would refuse never lands here.
function check(rev, frames) {
  const d = new (rev === "v5" ? v5 : v4).Decoder();
  let got = null;
  d.on("decoded", (p) => { got = p; });
  for (const f of frames) d.add(f);
  if (!got) throw new Error("parser did not decode its own frames");
}

for (const rev of Object.keys(cases)) {
  const dir = path.join(__dirname, rev);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  for (const [name, packet] of Object.entries(cases[rev])) {
    const frames = encode(rev, packet);
    check(rev, frames);
    fs.writeFileSync(path.join(dir, name + ".txt"), frames[0], "utf8");
    frames.slice(1).forEach((b, i) => fs.writeFileSync(path.join(dir, `${name}.${i}.bin`), b));
    console.log(`${rev}/${name}: ${frames[0]}` + (frames.length > 1 ? ` + ${frames.length - 1} binary` : ""));
  }
}
