// Writes the golden files of testdata/legacy with socket.io 0.9.19's own
// parser (lib/parser.js) and the string building of its transports
// (lib/transports/jsonp-polling.js, htmlfile.js) and of the 0.9.16
// client's jsonp-polling POST. See README.md.
'use strict';
const fs = require('fs');
const path = require('path');

const ref = process.env.SIO09_REF || '/tmp/sio09/socket.io-0.9.19/package';
const parser = require(path.join(ref, 'lib/parser.js'));
const out = __dirname;
const cases = [];

function write(file, text) {
  fs.writeFileSync(path.join(out, file), Buffer.from(text, 'utf8'));
}

// Each packet case: Node's packet object, and the same packet as the Go
// Packet fields (data raw, as the Go codec keeps it).
function packet(name, obj, goPkt) {
  const enc = parser.encodePacket(obj);
  const file = 'packet-' + name + '.txt';
  write(file, enc);
  // Node must read back what it wrote.
  const dec = parser.decodePacket(enc);
  if (dec.type !== obj.type) throw new Error(name + ': decoded type ' + dec.type);
  cases.push({ file, kind: 'packet', packets: [goPkt] });
  return enc;
}

const P = (type, id, ack, endpoint, data) => ({ type, id, ack, endpoint, data });

const connect = packet('connect', { type: 'connect' }, P(1, '', false, '', ''));
packet('connect-endpoint', { type: 'connect', endpoint: '/chat' }, P(1, '', false, '/chat', ''));
packet('connect-query', { type: 'connect', endpoint: '/chat', qs: '?token=abc' }, P(1, '', false, '/chat', '?token=abc'));
packet('disconnect', { type: 'disconnect' }, P(0, '', false, '', ''));
packet('disconnect-endpoint', { type: 'disconnect', endpoint: '/chat' }, P(0, '', false, '/chat', ''));
packet('heartbeat', { type: 'heartbeat' }, P(2, '', false, '', ''));
packet('noop', { type: 'noop' }, P(8, '', false, '', ''));
packet('message', { type: 'message', data: 'hello' }, P(3, '', false, '', 'hello'));
packet('message-empty', { type: 'message', data: '' }, P(3, '', false, '', ''));
packet('message-colons', { type: 'message', data: 'a:b::c' }, P(3, '', false, '', 'a:b::c'));
packet('message-id', { type: 'message', id: 5, ack: true, data: 'hi' }, P(3, '5', false, '', 'hi'));
packet('message-emoji', { type: 'message', endpoint: '/chat', data: 'h\u00e9llo \ud83d\ude00 \u2028' }, P(3, '', false, '/chat', 'h\u00e9llo \ud83d\ude00 \u2028'));
packet('json', { type: 'json', data: { a: 1 } }, P(4, '', false, '', '{"a":1}'));
const welcome = packet('event-welcome', { type: 'event', name: 'welcome', args: [{ hello: 'world' }] },
  P(5, '', false, '', '{"name":"welcome","args":[{"hello":"world"}]}'));
packet('event-noargs', { type: 'event', name: 'noargs', args: [] }, P(5, '', false, '', '{"name":"noargs"}'));
packet('event-ack-data', { type: 'event', id: 1, ack: 'data', name: 'echo', args: [1, 'a'] },
  P(5, '1', true, '', '{"name":"echo","args":[1,"a"]}'));
packet('event-ack-auto', { type: 'event', id: 1, ack: true, name: 'echo', args: [1, 'a'] },
  P(5, '1', false, '', '{"name":"echo","args":[1,"a"]}'));
packet('event-endpoint', { type: 'event', endpoint: '/chat', name: 'welcome-chat', args: ['hi'] },
  P(5, '', false, '/chat', '{"name":"welcome-chat","args":["hi"]}'));
packet('event-escapes', { type: 'event', name: 'q"\\\n\t\u0001</script>\u00e9\ud83d\ude00', args: [null] },
  P(5, '', false, '', JSON.stringify({ name: 'q"\\\n\t\u0001</script>\u00e9\ud83d\ude00', args: [null] })));
const ack = packet('ack-data', { type: 'ack', ackId: 1, args: [1, 'a'] }, P(6, '', false, '', '1+[1,"a"]'));
packet('ack-bare', { type: 'ack', ackId: 1 }, P(6, '', false, '', '1'));
packet('ack-endpoint', { type: 'ack', ackId: 12, endpoint: '/chat' }, P(6, '', false, '/chat', '12'));
const notHandshaken = packet('error-not-handshaken', { type: 'error', reason: 'client not handshaken', advice: 'reconnect' }, P(7, '', false, '', '1+0'));
packet('error-unauthorized', { type: 'error', reason: 'unauthorized', endpoint: '/admin' }, P(7, '', false, '/admin', '2'));

// Payloads (multi-packet framing), both directions.
function payload(name, encoded, goPkts) {
  const file = 'payload-' + name + '.txt';
  write(file, parser.encodePayload(encoded));
  const dec = parser.decodePayload(parser.encodePayload(encoded));
  if (dec.length !== encoded.length) throw new Error(name + ': decoded ' + dec.length);
  cases.push({ file, kind: 'payload', packets: goPkts });
}
const goWelcome = P(5, '', false, '', '{"name":"welcome","args":[{"hello":"world"}]}');
const goAck = P(6, '', false, '', '1+[1,"a"]');
payload('welcome-ack', [welcome, ack], [goWelcome, goAck]);
payload('single', [welcome], [goWelcome]);
const emoji = parser.encodePacket({ type: 'message', data: '\ud83d\ude00\ud83d\ude00 \u00e9' });
const cjk = parser.encodePacket({ type: 'event', name: '\u4f60\u597d', args: ['\ud83c\udf89'] });
payload('utf16', [emoji, cjk, connect], [
  P(3, '', false, '', '\ud83d\ude00\ud83d\ude00 \u00e9'),
  P(5, '', false, '', '{"name":"\u4f60\u597d","args":["\ud83c\udf89"]}'),
  P(1, '', false, '', ''),
]);

// jsonp-polling GET body: JSONPPolling.prototype.doWrite.
function jsonp(name, index, encoded, goPkts) {
  const file = 'jsonp-' + name + '.txt';
  write(file, 'io.j[' + index + '](' + JSON.stringify(parser.encodePayload(encoded)) + ');');
  cases.push({ file, kind: 'jsonp', index: String(index), packets: goPkts });
}
jsonp('welcome', 3, [welcome], [goWelcome]);
jsonp('welcome-ack', 0, [welcome, ack], [goWelcome, goAck]);
jsonp('escapes', 7, [parser.encodePacket({ type: 'message', data: 'a"b\\c\n</script>\ud83d\ude00' })],
  [P(3, '', false, '', 'a"b\\c\n</script>\ud83d\ude00')]);

// jsonp-polling POST body as the 0.9.16 client's form sends it:
// textarea d = JSON.stringify(payload), form-urlencoded.
function form(name, encoded, goPkts) {
  const file = 'form-' + name + '.txt';
  write(file, new URLSearchParams({ d: JSON.stringify(parser.encodePayload(encoded)) }).toString());
  cases.push({ file, kind: 'form', packets: goPkts });
}
form('welcome-ack', [welcome, ack], [goWelcome, goAck]);
form('heartbeat', [parser.encodePacket({ type: 'heartbeat' })], [P(2, '', false, '', '')]);

// htmlfile: the preamble of HTMLFile.prototype.handleRequest, and one
// chunk of HTMLFile.prototype.write per packet.
write('htmlfile-preamble.txt', '<html><body>'
  + '<script>var _ = function (msg) { parent.s._(msg, document); };</script>'
  + new Array(174).join(' '));
cases.push({ file: 'htmlfile-preamble.txt', kind: 'htmlfile-preamble', packets: [] });
function htmlfile(name, encoded, goPkt) {
  const file = 'htmlfile-' + name + '.txt';
  write(file, '<script>_(' + JSON.stringify(encoded).replace(/\//g, '\\/') + ');</script>');
  cases.push({ file, kind: 'htmlfile', packets: [goPkt] });
}
htmlfile('connect', connect, P(1, '', false, '', ''));
htmlfile('event-endpoint', parser.encodePacket({ type: 'event', endpoint: '/chat', name: 'a/b', args: ['</script>'] }),
  P(5, '', false, '/chat', '{"name":"a/b","args":["</script>"]}'));
htmlfile('not-handshaken', notHandshaken, P(7, '', false, '', '1+0'));

fs.writeFileSync(path.join(out, 'cases.json'), JSON.stringify(cases, null, 2) + '\n');
console.log(cases.length + ' cases');
