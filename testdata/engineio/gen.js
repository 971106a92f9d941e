// Regenerates the Engine.IO golden files in this directory from Node's own
// engine.io-parser packages. See README.md for how to run it.
"use strict";

const fs = require("fs");
const path = require("path");
const qs = require("querystring");

const ref = process.env.EIO_REF || "/tmp/ref";
const p3 = require(path.join(ref, "engine.io-parser-2.2.1/package"));
const p4 = require(path.join(ref, "engine.io-parser-5.2.3/package/build/cjs"));
const out = __dirname;

const TEXT = "héllo € 😀 𝄞";
const bytes = (...b) => Buffer.from(b);
const range = (n) => Buffer.from(Array.from({ length: n }, (_, i) => i & 0xff));

// Packets are described once, for the Node encoders and for the manifest.
const text = (type, data) => ({ type, data });
const bin = (data) => ({ type: "message", data });

function manifestPackets(pkts) {
  return pkts.map((p) =>
    Buffer.isBuffer(p.data)
      ? { type: p.type, base64: p.data.toString("base64") }
      : { type: p.type, text: p.data === undefined ? "" : p.data }
  );
}

const cases = [];

function write(file, data) {
  fs.writeFileSync(path.join(out, file), typeof data === "string" ? Buffer.from(data, "utf8") : data);
}

function frame(rev, file, pkt) {
  const enc = rev === 3
    ? (cb) => p3.encodePacket(pkt, true, cb)
    : (cb) => p4.encodePacket(pkt, true, cb);
  enc((data) => {
    write(file, data);
    cases.push({ file, kind: "frame", rev, binary: typeof data !== "string", packets: manifestPackets([pkt]) });
  });
}

// b64frame is a binary message as a client without binary support sends it.
function b64frame(rev, file, pkt) {
  const enc = rev === 3
    ? (cb) => p3.encodePacket(pkt, false, cb)
    : (cb) => p4.encodePacket(pkt, false, cb);
  enc((data) => {
    write(file, data);
    cases.push({ file, kind: "frame", rev, binary: false, decodeOnly: true, packets: manifestPackets([pkt]) });
  });
}

function payload(rev, file, pkts, supportsBinary, extra) {
  const done = (data) => {
    write(file, data);
    cases.push(Object.assign({
      file, kind: "payload", rev, supportsBinary,
      binary: typeof data !== "string", packets: manifestPackets(pkts),
    }, extra));
  };
  if (rev === 3) p3.encodePayload(pkts, supportsBinary, done);
  else p4.encodePayload(pkts, done);
}

// Frames.
frame(3, "v3-frame-text-emoji.txt", text("message", TEXT));
frame(3, "v3-frame-ping-probe.txt", text("ping", "probe"));
frame(3, "v3-frame-binary.bin", bin(bytes(1, 2, 3, 255)));
b64frame(3, "v3-frame-b64.txt", bin(bytes(1, 2, 3, 255)));
frame(4, "v4-frame-text-emoji.txt", text("message", TEXT));
frame(4, "v4-frame-upgrade.txt", text("upgrade"));
frame(4, "v4-frame-binary.bin", bin(bytes(1, 2, 3, 255)));
b64frame(4, "v4-frame-b64.txt", bin(bytes(1, 2, 3, 255)));

// Revision-3 payloads.
const mixed = [text("message", TEXT), bin(bytes(1, 2, 3)), text("noop"), text("message", "é€😀𝄞")];
payload(3, "v3-payload-text-emoji.txt", [text("message", TEXT), text("message", "hi"), text("ping", "probe")], false);
payload(3, "v3-payload-text-long.txt", [text("message", "😀".repeat(500) + "x".repeat(2000)), text("message", "€")], true);
payload(3, "v3-payload-text-b64.txt", mixed, false);
payload(3, "v3-payload-binary.bin", mixed, true);
payload(3, "v3-payload-binary-long.bin", [bin(range(300)), text("message", "é".repeat(600)), bin(Buffer.alloc(0))], true);
payload(3, "v3-payload-empty.txt", [], false, { encodeOnly: true });

// Revision-4 payloads.
payload(4, "v4-payload-mixed.txt", mixed, true);
payload(4, "v4-payload-emoji.txt", [text("message", TEXT), text("ping"), text("message", "𝄞")], true);
payload(4, "v4-payload-single.txt", [text("message", "hello")], true);

// JSONP (revision 3): the response script, as engine.io 3's polling-jsonp
// doWrite builds it around the text payload.
const jsonpPkts = [text("message", '"quoted" \\ back\\nslash\nnewline \u2028 \u2029 \u0001 é😀'), text("pong")];
p3.encodePayload(jsonpPkts, false, (data) => {
  const js = JSON.stringify(data).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
  write("v3-jsonp.txt", "___eio[3](" + js + ");");
  write("v3-jsonp-payload.txt", data);
  cases.push({ file: "v3-jsonp.txt", kind: "jsonp", rev: 3, index: "3", payload: "v3-jsonp-payload.txt", packets: manifestPackets(jsonpPkts) });

  // The POST a JSONP client sends: engine.io-client 3's newline escaping,
  // then form encoding; the expected payload is what engine.io 3's
  // polling-jsonp onData hands to the parser.
  const escaped = data.replace(/\\n/g, "\\\n").replace(/\n/g, "\\n");
  const form = new URLSearchParams({ d: escaped }).toString();
  write("v3-jsonp-post.form", form);
  let d = qs.parse(form).d;
  d = d.replace(/(\\)?\\n/g, (match, slashes) => (slashes ? match : "\n")).replace(/\\\\n/g, "\\n");
  write("v3-jsonp-post.txt", d);
  cases.push({ file: "v3-jsonp-post.form", kind: "jsonp-post", rev: 3, payload: "v3-jsonp-post.txt", packets: manifestPackets(jsonpPkts) });
});

// Handshake data, as engine.io 6 writes it.
const open = { sid: "lv_VI97HAXpY6yYWAAAC", upgrades: ["websocket"], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 };
write("v4-open.json", JSON.stringify(open));
cases.push({ file: "v4-open.json", kind: "open", rev: 4, open });

fs.writeFileSync(path.join(out, "cases.json"), JSON.stringify(cases, null, 1) + "\n");
console.log("wrote", cases.length, "cases");
