package redisadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/expressio-go/expressio/protocol/socketio"
)

// This file holds the messages of @socket.io/redis-adapter 8.3.0, byte for
// byte as Node writes them (key order included), and reads what Node, its
// older versions and the Redis emitters write:
//
//   - broadcasts, msgpack: [uid, {type, data, nsp, id?}, {rooms, except, flags}];
//   - requests and responses, JSON, except the request of a broadcast with
//     acknowledgements (BROADCAST) and its acknowledgements (BROADCAST_ACK
//     responses), msgpack because they may carry binary. Readers pick JSON
//     when the first byte is '{', msgpack otherwise, as Node does.
//
// Decoding never panics: anything malformed is an error naming the message
// kind ("redisadapter: decode broadcast: ...").

// Request types (Node's RequestType), the "type" of requests and of some
// responses.
const (
	requestSockets = iota
	requestAllRooms
	requestRemoteJoin
	requestRemoteLeave
	requestRemoteDisconnect
	requestRemoteFetch
	requestServerSideEmit
	requestBroadcast
	requestBroadcastClientCount
	requestBroadcastAck
)

// wireOpts selects sockets: Node's {rooms, except, flags}, with its Sets as
// arrays.
type wireOpts struct {
	// Rooms are the rooms whose sockets are selected; none selects every
	// socket.
	Rooms []string
	// Except are rooms whose sockets are left out.
	Except []string
	// Flags are the broadcast flags. Only broadcasts carry them: the opts
	// of the JSON requests are {rooms, except}.
	Flags wireFlags
}

// wireFlags are the broadcast flags Node sends: its flags object holds only
// the flags that were set ({"timeout":5000}), and so does the encoding of
// this struct (zero means unset). Others Node may set (expectSingleResponse)
// are ignored when decoding.
type wireFlags struct {
	// Local keeps a broadcast on one server; Node never publishes one.
	Local bool
	// Volatile lets a broadcast be dropped for clients that are not ready.
	Volatile bool
	// Compress is the compress flag, nil when unset.
	Compress *bool
	// Timeout is the acknowledgement timeout in milliseconds, 0 when unset.
	Timeout int64
}

// request is a request from one server to the others, with Node's field
// names. Zero values are absent on the wire, except as noted.
type request struct {
	// UID is the requesting server's uid (always written).
	UID string
	// RequestID identifies the request in responses; requests that are not
	// answered (REMOTE_JOIN with opts, SERVER_SIDE_EMIT without ack) have
	// none.
	RequestID string
	// Type is one of the request* constants (always written).
	Type int
	// SID and Room are the older single-socket form of REMOTE_JOIN,
	// REMOTE_LEAVE (SID, Room) and REMOTE_DISCONNECT (SID).
	SID  string
	Room string
	// Data is the event of SERVER_SIDE_EMIT, [name, ...args], one element
	// each; nil is absent, non-nil written even when empty.
	Data []json.RawMessage
	// Packet is the packet of BROADCAST, nil when absent. Its Attachments
	// need the msgpack encoding.
	Packet *socketio.Packet
	// Opts selects the sockets of REMOTE_JOIN, REMOTE_LEAVE,
	// REMOTE_DISCONNECT, REMOTE_FETCH and BROADCAST.
	Opts *wireOpts
	// Rooms are the rooms of SOCKETS, or the rooms to join or leave of
	// REMOTE_JOIN and REMOTE_LEAVE; nil is absent, non-nil written even
	// when empty.
	Rooms []string
	// Close is REMOTE_DISCONNECT's close, written for that type only.
	Close bool
}

// response answers a request. Zero values are absent on the wire, except
// as noted.
type response struct {
	// Type is only written by SERVER_SIDE_EMIT acknowledgements,
	// BROADCAST_CLIENT_COUNT and BROADCAST_ACK (0 = absent: no response
	// has type SOCKETS).
	Type int
	// RequestID is the id of the request answered.
	RequestID string
	// Sockets answers SOCKETS (an array of ids) and REMOTE_FETCH (an array
	// of socket objects); nil is absent.
	Sockets json.RawMessage
	// Rooms answers ALL_ROOMS; nil is absent, non-nil written even when
	// empty.
	Rooms []string
	// Data is the acknowledgement of a SERVER_SIDE_EMIT; nil is absent
	// (an undefined value).
	Data json.RawMessage
	// ClientCount answers BROADCAST with BROADCAST_CLIENT_COUNT, written for
	// that type only.
	ClientCount int
	// Packet is the value of a BROADCAST_ACK: the first argument of a
	// client's acknowledgement.
	Packet ackValue
}

// ackValue is one value with its binary parts: Data is JSON in which each
// binary part is a placeholder {"_placeholder":true,"num":N} for
// Attachments[N]. A nil Data is an undefined value, absent on the wire.
type ackValue struct {
	Data        json.RawMessage
	Attachments [][]byte
}

// ---------------------------------------------------------------------------
// Broadcasts

// encodeBroadcast returns the broadcast message of p for the other servers,
// msgpack [uid, {type, data, nsp, id}, {rooms, except, flags}]. The packet
// is written as Node's adapter holds it: an event or ack with attachments
// keeps type 2 or 3 (Node's parser makes it BINARY_EVENT or BINARY_ACK only
// when encoding for clients), the attachments inlined as bin; "id" is only
// written when p.ID is not negative, "data" when p.Data is not nil; an
// empty Namespace is "/".
func encodeBroadcast(uid string, p socketio.Packet, o wireOpts) (msg []byte, err error) {
	var buf bytes.Buffer
	w := mpWriter{enc: msgpack.NewEncoder(&buf)}
	w.arrayLen(3)
	w.str(uid)
	w.packet(&p)
	w.opts(&o, true)
	if w.err != nil {
		return nil, fmt.Errorf("redisadapter: encode broadcast: %w", w.err)
	}
	return buf.Bytes(), nil
}

// decodeBroadcast reads a broadcast message. The packet's Data has
// placeholders for its binary parts, which are its Attachments; an EVENT or
// ACK with attachments is made BinaryEvent or BinaryAck, so that
// Packet.Encode writes the binary form, and a binary type without
// attachments the plain one. A missing nsp is "/". Unknown keys are
// ignored; missing or nil rooms, except and flags are empty.
func decodeBroadcast(msg []byte) (uid string, p socketio.Packet, o wireOpts, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("redisadapter: decode broadcast: %w", err)
		}
	}()
	r := bytes.NewReader(msg)
	dec := msgpack.NewDecoder(r)
	c, err := dec.PeekCode()
	if err != nil {
		return "", p, o, err
	}
	if !isArray(c) {
		return "", p, o, fmt.Errorf("not an array (msgpack code 0x%02x)", c)
	}
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return "", p, o, err
	}
	if n != 3 {
		return "", p, o, fmt.Errorf("an array of %d, not [uid, packet, opts]", n)
	}
	uid, ok, err := readString(dec)
	if err == nil && !ok {
		err = errors.New("undefined")
	}
	if err != nil {
		return "", p, o, fmt.Errorf("uid: %w", err)
	}
	if p, err = readPacket(dec); err != nil {
		return "", p, o, fmt.Errorf("packet: %w", err)
	}
	opts, err := readOpts(dec)
	if err != nil {
		return "", p, o, fmt.Errorf("opts: %w", err)
	}
	if opts != nil {
		o = *opts
	}
	if r.Len() > 0 {
		return "", p, o, fmt.Errorf("%d trailing bytes", r.Len())
	}
	return uid, p, o, nil
}

// ---------------------------------------------------------------------------
// Requests

// encodeRequestJSON returns r as Node's JSON.stringify writes it, keys in the
// order uid, requestId, type, sid, room, data, packet, opts, rooms, close,
// which is the order of every request Node sends: for example a REMOTE_JOIN
// is {"uid":..,"type":2,"opts":{"rooms":[..],"except":[..]},"rooms":[..]}.
// opts are {rooms, except}, plus flags if any is set (Node sends none). A
// Packet with attachments cannot be JSON: use encodeRequestMsgpack.
func encodeRequestJSON(r request) ([]byte, error) {
	j := jsonRequestOut{UID: r.UID, RequestID: r.RequestID, Type: r.Type, SID: r.SID, Room: r.Room}
	if r.Data != nil {
		j.Data = &r.Data
	}
	if r.Packet != nil {
		if len(r.Packet.Attachments) > 0 {
			return nil, errors.New("redisadapter: encode request: a binary packet needs msgpack")
		}
		j.Packet = newJSONPacket(r.Packet)
	}
	if r.Opts != nil {
		j.Opts = newJSONOpts(r.Opts)
	}
	if r.Rooms != nil {
		j.Rooms = &r.Rooms
	}
	if r.Type == requestRemoteDisconnect {
		j.Close = &r.Close
	}
	msg, err := marshalJSON(j)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: encode request: %w", err)
	}
	return msg, nil
}

// encodeRequestMsgpack returns r as notepack.io writes Node's request object:
// the fields of encodeRequestJSON in the same order, a map for opts with
// flags always, and Packet as in encodeBroadcast. Node sends BROADCAST so:
// {uid, requestId, type: 7, packet, opts}.
func encodeRequestMsgpack(r request) ([]byte, error) {
	var buf bytes.Buffer
	w := mpWriter{enc: msgpack.NewEncoder(&buf)}
	n := 2 + count(r.RequestID != "", r.SID != "", r.Room != "", r.Data != nil, r.Packet != nil,
		r.Opts != nil, r.Rooms != nil, r.Type == requestRemoteDisconnect)
	w.mapLen(n)
	w.str("uid")
	w.str(r.UID)
	if r.RequestID != "" {
		w.str("requestId")
		w.str(r.RequestID)
	}
	w.str("type")
	w.int(int64(r.Type))
	if r.SID != "" {
		w.str("sid")
		w.str(r.SID)
	}
	if r.Room != "" {
		w.str("room")
		w.str(r.Room)
	}
	if r.Data != nil {
		w.str("data")
		w.arrayLen(len(r.Data))
		for _, v := range r.Data {
			w.json(v, nil)
		}
	}
	if r.Packet != nil {
		w.str("packet")
		w.packet(r.Packet)
	}
	if r.Opts != nil {
		w.str("opts")
		w.opts(r.Opts, true)
	}
	if r.Rooms != nil {
		w.str("rooms")
		w.strs(r.Rooms)
	}
	if r.Type == requestRemoteDisconnect {
		w.str("close")
		w.bool(r.Close)
	}
	if w.err != nil {
		return nil, fmt.Errorf("redisadapter: encode request: %w", w.err)
	}
	return buf.Bytes(), nil
}

// decodeRequest reads a request: JSON when msg starts with '{', msgpack
// otherwise, as Node reads it. Unknown keys are ignored; the type must be
// an integer, and is not checked further (Node ignores unknown types). A
// BROADCAST packet is read as decodeBroadcast reads its packet.
func decodeRequest(msg []byte) (r request, err error) {
	if len(msg) > 0 && msg[0] == '{' {
		r, err = decodeRequestJSON(msg)
	} else {
		r, err = decodeRequestMsgpack(msg)
	}
	if err != nil {
		return request{}, fmt.Errorf("redisadapter: decode request: %w", err)
	}
	return r, nil
}

func decodeRequestJSON(msg []byte) (request, error) {
	var j struct {
		UID       string          `json:"uid"`
		RequestID string          `json:"requestId"`
		Type      json.RawMessage `json:"type"`
		SID       string          `json:"sid"`
		Room      json.RawMessage `json:"room"`
		Data      json.RawMessage `json:"data"`
		Packet    json.RawMessage `json:"packet"`
		Opts      json.RawMessage `json:"opts"`
		Rooms     json.RawMessage `json:"rooms"`
		Close     bool            `json:"close"`
	}
	if err := json.Unmarshal(msg, &j); err != nil {
		return request{}, err
	}
	r := request{UID: j.UID, RequestID: j.RequestID, SID: j.SID, Close: j.Close}
	var err error
	if r.Type, err = jsonType(j.Type, true); err != nil {
		return request{}, fmt.Errorf("type: %w", err)
	}
	if isPresent(j.Room) {
		if r.Room, err = jsonRoom(j.Room); err != nil {
			return request{}, fmt.Errorf("room: %w", err)
		}
	}
	if isPresent(j.Data) {
		if err := json.Unmarshal(j.Data, &r.Data); err != nil {
			return request{}, fmt.Errorf("data: %w", err)
		}
		if r.Data == nil {
			r.Data = []json.RawMessage{}
		}
	}
	if isPresent(j.Packet) {
		p, err := jsonPacket(j.Packet)
		if err != nil {
			return request{}, fmt.Errorf("packet: %w", err)
		}
		r.Packet = &p
	}
	if isPresent(j.Opts) {
		if r.Opts, err = jsonOpts(j.Opts); err != nil {
			return request{}, fmt.Errorf("opts: %w", err)
		}
	}
	if isPresent(j.Rooms) {
		if r.Rooms, err = jsonRooms(j.Rooms); err != nil {
			return request{}, fmt.Errorf("rooms: %w", err)
		}
	}
	return r, nil
}

func decodeRequestMsgpack(msg []byte) (r request, err error) {
	rd := bytes.NewReader(msg)
	dec := msgpack.NewDecoder(rd)
	n, err := readMapLen(dec, "request")
	if err != nil {
		return request{}, err
	}
	hasType := false
	for range n {
		key, err := readKey(dec)
		if err != nil {
			return request{}, err
		}
		switch k := string(key); k {
		case "uid":
			r.UID, _, err = readString(dec)
		case "requestId":
			r.RequestID, _, err = readString(dec)
		case "sid":
			r.SID, _, err = readString(dec)
		case "room":
			r.Room, _, err = readRoom(dec)
		case "type":
			var t int64
			t, hasType, err = readInt(dec)
			r.Type = int(t)
			if err == nil && (t < math.MinInt32 || t > math.MaxInt32) {
				err = errors.New("out of range")
			}
		case "close":
			r.Close, err = readBool(dec)
		case "rooms":
			r.Rooms, err = readRooms(dec)
		case "opts":
			r.Opts, err = readOpts(dec)
		case "packet":
			var p socketio.Packet
			if p, err = readPacket(dec); err == nil {
				r.Packet = &p
			}
		case "data":
			r.Data, err = readArgs(dec)
		default:
			err = skipValue(dec)
		}
		if err != nil {
			return request{}, fmt.Errorf("%s: %w", key, err)
		}
	}
	if !hasType {
		return request{}, errors.New("type: missing")
	}
	if rd.Len() > 0 {
		return request{}, fmt.Errorf("%d trailing bytes", rd.Len())
	}
	return r, nil
}

// ---------------------------------------------------------------------------
// Responses

// encodeResponseJSON returns r as Node's JSON.stringify writes it, keys in
// the order type, requestId, sockets, rooms, data, clientCount, packet:
// {"requestId":..,"sockets":[..]}, {"type":8,"requestId":..,"clientCount":1}.
// A Packet with attachments cannot be JSON: use encodeResponseMsgpack.
func encodeResponseJSON(r response) ([]byte, error) {
	if len(r.Packet.Attachments) > 0 {
		return nil, errors.New("redisadapter: encode response: a binary value needs msgpack")
	}
	j := jsonResponseOut{Type: r.Type, RequestID: r.RequestID, Sockets: r.Sockets, Data: r.Data, Packet: r.Packet.Data}
	if r.Rooms != nil {
		j.Rooms = &r.Rooms
	}
	if r.Type == requestBroadcastClientCount {
		j.ClientCount = &r.ClientCount
	}
	msg, err := marshalJSON(j)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: encode response: %w", err)
	}
	return msg, nil
}

// encodeResponseMsgpack returns r as notepack.io writes Node's response
// object, with the keys of encodeResponseJSON; Node sends BROADCAST_ACK so:
// {type: 9, requestId, packet}, packet absent for an undefined value.
func encodeResponseMsgpack(r response) ([]byte, error) {
	var buf bytes.Buffer
	w := mpWriter{enc: msgpack.NewEncoder(&buf)}
	w.mapLen(count(r.Type != 0, r.RequestID != "", r.Sockets != nil, r.Rooms != nil, r.Data != nil,
		r.Type == requestBroadcastClientCount, r.Packet.Data != nil))
	if r.Type != 0 {
		w.str("type")
		w.int(int64(r.Type))
	}
	if r.RequestID != "" {
		w.str("requestId")
		w.str(r.RequestID)
	}
	if r.Sockets != nil {
		w.str("sockets")
		w.json(r.Sockets, nil)
	}
	if r.Rooms != nil {
		w.str("rooms")
		w.strs(r.Rooms)
	}
	if r.Data != nil {
		w.str("data")
		w.json(r.Data, nil)
	}
	if r.Type == requestBroadcastClientCount {
		w.str("clientCount")
		w.int(int64(r.ClientCount))
	}
	if r.Packet.Data != nil {
		w.str("packet")
		w.json(r.Packet.Data, r.Packet.Attachments)
	}
	if w.err != nil {
		return nil, fmt.Errorf("redisadapter: encode response: %w", w.err)
	}
	return buf.Bytes(), nil
}

// decodeResponse reads a response: JSON when msg starts with '{', msgpack
// otherwise, as Node reads it. Unknown keys are ignored. Only the packet of
// a msgpack response may hold binary data.
func decodeResponse(msg []byte) (r response, err error) {
	if len(msg) > 0 && msg[0] == '{' {
		r, err = decodeResponseJSON(msg)
	} else {
		r, err = decodeResponseMsgpack(msg)
	}
	if err != nil {
		return response{}, fmt.Errorf("redisadapter: decode response: %w", err)
	}
	return r, nil
}

func decodeResponseJSON(msg []byte) (response, error) {
	var j struct {
		Type        json.RawMessage `json:"type"`
		RequestID   string          `json:"requestId"`
		Sockets     json.RawMessage `json:"sockets"`
		Rooms       json.RawMessage `json:"rooms"`
		Data        json.RawMessage `json:"data"`
		ClientCount json.RawMessage `json:"clientCount"`
		Packet      json.RawMessage `json:"packet"`
	}
	if err := json.Unmarshal(msg, &j); err != nil {
		return response{}, err
	}
	r := response{RequestID: j.RequestID, Sockets: j.Sockets, Data: j.Data, Packet: ackValue{Data: j.Packet}}
	var err error
	if r.Type, err = jsonType(j.Type, false); err != nil {
		return response{}, fmt.Errorf("type: %w", err)
	}
	if isPresent(j.ClientCount) {
		if r.ClientCount, err = jsonType(j.ClientCount, false); err != nil {
			return response{}, fmt.Errorf("clientCount: %w", err)
		}
	}
	if isPresent(j.Rooms) {
		if r.Rooms, err = jsonRooms(j.Rooms); err != nil {
			return response{}, fmt.Errorf("rooms: %w", err)
		}
	}
	return r, nil
}

func decodeResponseMsgpack(msg []byte) (r response, err error) {
	rd := bytes.NewReader(msg)
	dec := msgpack.NewDecoder(rd)
	n, err := readMapLen(dec, "response")
	if err != nil {
		return response{}, err
	}
	for range n {
		key, err := readKey(dec)
		if err != nil {
			return response{}, err
		}
		switch string(key) {
		case "type", "clientCount":
			var v int64
			v, _, err = readInt(dec)
			if err == nil && (v < math.MinInt32 || v > math.MaxInt32) {
				err = errors.New("out of range")
			}
			if string(key) == "type" {
				r.Type = int(v)
			} else {
				r.ClientCount = int(v)
			}
		case "requestId":
			r.RequestID, _, err = readString(dec)
		case "sockets":
			r.Sockets, err = readPlainJSON(dec)
		case "rooms":
			r.Rooms, err = readRooms(dec)
		case "data":
			r.Data, err = readPlainJSON(dec)
		case "packet":
			r.Packet.Data, r.Packet.Attachments, _, err = decodeJSONValue(dec)
		default:
			err = skipValue(dec)
		}
		if err != nil {
			return response{}, fmt.Errorf("%s: %w", key, err)
		}
	}
	if rd.Len() > 0 {
		return response{}, fmt.Errorf("%d trailing bytes", rd.Len())
	}
	return r, nil
}

// ---------------------------------------------------------------------------
// msgpack writing

// mpWriter writes msgpack and keeps the first error.
type mpWriter struct {
	enc *msgpack.Encoder
	err error
}

func (w *mpWriter) do(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *mpWriter) str(s string) {
	if w.err == nil {
		w.do(w.enc.EncodeString(s))
	}
}

func (w *mpWriter) int(n int64) {
	if w.err == nil {
		w.do(w.enc.EncodeInt(n))
	}
}

func (w *mpWriter) bool(b bool) {
	if w.err == nil {
		w.do(w.enc.EncodeBool(b))
	}
}

func (w *mpWriter) arrayLen(n int) {
	if w.err == nil {
		w.do(w.enc.EncodeArrayLen(n))
	}
}

func (w *mpWriter) mapLen(n int) {
	if w.err == nil {
		w.do(w.enc.EncodeMapLen(n))
	}
}

// json writes a JSON value (with placeholders for atts) as msgpack.
func (w *mpWriter) json(v json.RawMessage, atts [][]byte) {
	if w.err == nil {
		w.do(toMsgpack(w.enc, v, atts))
	}
}

// strs writes an array of strings, [] for nil.
func (w *mpWriter) strs(s []string) {
	w.arrayLen(len(s))
	for _, v := range s {
		w.str(v)
	}
}

// packet writes the map {type, data, nsp, id} of a socket.io packet as Node's
// adapter holds it (see encodeBroadcast).
func (w *mpWriter) packet(p *socketio.Packet) {
	t := p.Type
	switch t {
	case socketio.BinaryEvent:
		t = socketio.Event
	case socketio.BinaryAck:
		t = socketio.Ack
	}
	if t > socketio.BinaryAck {
		w.do(fmt.Errorf("packet type %d", p.Type))
		return
	}
	w.mapLen(2 + count(p.Data != nil, p.ID >= 0))
	w.str("type")
	w.int(int64(t))
	if p.Data != nil {
		w.str("data")
		if w.err == nil {
			if err := toMsgpack(w.enc, p.Data, p.Attachments); err != nil {
				w.do(fmt.Errorf("packet data: %w", err))
			}
		}
	}
	w.str("nsp")
	if p.Namespace == "" {
		w.str("/")
	} else {
		w.str(p.Namespace)
	}
	if p.ID >= 0 {
		w.str("id")
		w.int(p.ID)
	}
}

// opts writes {rooms, except, flags}, flags with the set flags only, in the
// order local, volatile, compress, timeout.
func (w *mpWriter) opts(o *wireOpts, withFlags bool) {
	w.mapLen(2 + count(withFlags))
	w.str("rooms")
	w.strs(o.Rooms)
	w.str("except")
	w.strs(o.Except)
	if !withFlags {
		return
	}
	f := &o.Flags
	w.str("flags")
	w.mapLen(count(f.Local, f.Volatile, f.Compress != nil, f.Timeout != 0))
	if f.Local {
		w.str("local")
		w.bool(true)
	}
	if f.Volatile {
		w.str("volatile")
		w.bool(true)
	}
	if f.Compress != nil {
		w.str("compress")
		w.bool(*f.Compress)
	}
	if f.Timeout != 0 {
		w.str("timeout")
		w.int(f.Timeout)
	}
}

// count returns how many of conds are true.
func count(conds ...bool) int {
	n := 0
	for _, c := range conds {
		if c {
			n++
		}
	}
	return n
}

// ---------------------------------------------------------------------------
// msgpack reading

func isArray(c byte) bool {
	return msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32
}

func isMap(c byte) bool {
	return msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32
}

// absent reports whether the next value is nil or undefined, and consumes
// it if so; nil reports which. Any other ext type is an error.
func absent(dec *msgpack.Decoder) (ok bool, err error) {
	c, err := dec.PeekCode()
	if err != nil {
		return false, err
	}
	switch c {
	case msgpcode.Nil:
		return true, dec.DecodeNil()
	case msgpcode.FixExt1:
		id, _, err := dec.DecodeExtHeader()
		if err != nil {
			return false, err
		}
		var b [1]byte
		if err := dec.ReadFull(b[:]); err != nil {
			return false, err
		}
		if id != 0 {
			return false, fmt.Errorf("unsupported msgpack ext type %d", id)
		}
		return true, nil
	}
	return false, nil
}

// readMapLen reads the header of the map a message must be.
func readMapLen(dec *msgpack.Decoder, what string) (int, error) {
	c, err := dec.PeekCode()
	if err != nil {
		return 0, err
	}
	if !isMap(c) {
		return 0, fmt.Errorf("%s is not a map (msgpack code 0x%02x)", what, c)
	}
	return dec.DecodeMapLen()
}

// readString reads a string; ok is false for nil or undefined.
func readString(dec *msgpack.Decoder) (s string, ok bool, err error) {
	if none, err := absent(dec); none || err != nil {
		return "", false, err
	}
	c, err := dec.PeekCode()
	if err != nil {
		return "", false, err
	}
	if !msgpcode.IsString(c) {
		return "", false, fmt.Errorf("not a string (msgpack code 0x%02x)", c)
	}
	b, err := readStr(dec)
	return string(b), err == nil, err
}

// readNumber reads a number as an int64 when it is an integer (i) or a
// float64 (f, isFloat); ok is false for nil or undefined.
func readNumber(dec *msgpack.Decoder) (i int64, f float64, isFloat, ok bool, err error) {
	if none, err := absent(dec); none || err != nil {
		return 0, 0, false, false, err
	}
	c, err := dec.PeekCode()
	if err != nil {
		return 0, 0, false, false, err
	}
	switch {
	case msgpcode.IsFixedNum(c), c == msgpcode.Int8, c == msgpcode.Int16, c == msgpcode.Int32, c == msgpcode.Int64:
		i, err = dec.DecodeInt64()
		return i, 0, false, err == nil, err
	case c == msgpcode.Uint8, c == msgpcode.Uint16, c == msgpcode.Uint32, c == msgpcode.Uint64:
		u, err := dec.DecodeUint64()
		if err != nil {
			return 0, 0, false, false, err
		}
		if u > math.MaxInt64 {
			return 0, float64(u), true, true, nil
		}
		return int64(u), 0, false, true, nil
	case c == msgpcode.Float:
		f32, err := dec.DecodeFloat32()
		return 0, float64(f32), true, err == nil, err
	case c == msgpcode.Double:
		f, err = dec.DecodeFloat64()
		return 0, f, true, err == nil, err
	}
	return 0, 0, false, false, fmt.Errorf("not a number (msgpack code 0x%02x)", c)
}

// readInt reads an integer: an int, or a float holding an integer in int64
// range; ok is false for nil or undefined.
func readInt(dec *msgpack.Decoder) (n int64, ok bool, err error) {
	i, f, isFloat, ok, err := readNumber(dec)
	if err != nil || !ok || !isFloat {
		return i, ok, err
	}
	if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false, fmt.Errorf("not an integer: %v", f)
	}
	return int64(f), true, nil
}

// readBool reads a boolean; nil and undefined are false.
func readBool(dec *msgpack.Decoder) (bool, error) {
	if none, err := absent(dec); none || err != nil {
		return false, err
	}
	c, err := dec.PeekCode()
	if err != nil {
		return false, err
	}
	if c != msgpcode.True && c != msgpcode.False {
		return false, fmt.Errorf("not a boolean (msgpack code 0x%02x)", c)
	}
	return dec.DecodeBool()
}

// readRoom reads a room: a string, or a number JavaScript turns into its
// string form ("1", "1.5"), as Node's Set of rooms may hold numbers.
func readRoom(dec *msgpack.Decoder) (room string, ok bool, err error) {
	c, err := dec.PeekCode()
	if err != nil {
		return "", false, err
	}
	if msgpcode.IsString(c) || c == msgpcode.Nil || c == msgpcode.FixExt1 {
		return readString(dec)
	}
	i, f, isFloat, ok, err := readNumber(dec)
	if err != nil {
		return "", false, fmt.Errorf("room: %w", err)
	}
	if isFloat {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "", false, fmt.Errorf("room %v", f)
		}
		return string(appendJSNumber(nil, f)), ok, nil
	}
	return strconv.FormatInt(i, 10), ok, nil
}

// readRooms reads an array of rooms; nil and undefined are nil.
func readRooms(dec *msgpack.Decoder) ([]string, error) {
	if none, err := absent(dec); none || err != nil {
		return nil, err
	}
	c, err := dec.PeekCode()
	if err != nil {
		return nil, err
	}
	if !isArray(c) {
		return nil, fmt.Errorf("not an array (msgpack code 0x%02x)", c)
	}
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	rooms := []string{} // not make(n): n comes from the input
	for range n {
		room, ok, err := readRoom(dec)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errors.New("room: null")
		}
		rooms = append(rooms, room)
	}
	return rooms, nil
}

// readOpts reads {rooms, except, flags}; nil and undefined are nil.
func readOpts(dec *msgpack.Decoder) (*wireOpts, error) {
	if none, err := absent(dec); none || err != nil {
		return nil, err
	}
	n, err := readMapLen(dec, "opts")
	if err != nil {
		return nil, err
	}
	var o wireOpts
	for range n {
		key, err := readKey(dec)
		if err != nil {
			return nil, err
		}
		switch string(key) {
		case "rooms":
			o.Rooms, err = readRooms(dec)
		case "except":
			o.Except, err = readRooms(dec)
		case "flags":
			err = readFlags(dec, &o.Flags)
		default:
			err = skipValue(dec)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	return &o, nil
}

// readFlags reads the flags object; nil and undefined are no flags.
func readFlags(dec *msgpack.Decoder, f *wireFlags) error {
	if none, err := absent(dec); none || err != nil {
		return err
	}
	n, err := readMapLen(dec, "flags")
	if err != nil {
		return err
	}
	for range n {
		key, err := readKey(dec)
		if err != nil {
			return err
		}
		switch string(key) {
		case "local":
			f.Local, err = readBool(dec)
		case "volatile":
			f.Volatile, err = readBool(dec)
		case "compress":
			f.Compress = nil
			var none bool
			if none, err = absent(dec); err == nil && !none {
				var b bool
				b, err = readBool(dec)
				f.Compress = &b
			}
		case "timeout":
			f.Timeout, err = readTimeout(dec)
		default:
			err = skipValue(dec)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return nil
}

// readTimeout reads a timeout in ms; a fraction is dropped, as setTimeout
// does.
func readTimeout(dec *msgpack.Decoder) (int64, error) {
	i, f, isFloat, _, err := readNumber(dec)
	if err != nil || !isFloat {
		return i, err
	}
	if math.IsNaN(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, fmt.Errorf("%v ms", f)
	}
	return int64(f), nil
}

// readPacket reads the map {type, data, nsp, id} of a socket.io packet into
// a Packet (see decodeBroadcast).
func readPacket(dec *msgpack.Decoder) (socketio.Packet, error) {
	p := socketio.Packet{Namespace: "/", ID: socketio.NoID}
	n, err := readMapLen(dec, "packet")
	if err != nil {
		return p, err
	}
	var typ int64
	hasType := false
	for range n {
		key, err := readKey(dec)
		if err != nil {
			return p, err
		}
		switch string(key) {
		case "type":
			typ, hasType, err = readInt(dec)
		case "data":
			p.Data, p.Attachments, _, err = decodeJSONValue(dec)
		case "nsp":
			var s string
			var ok bool
			if s, ok, err = readString(dec); ok {
				p.Namespace = s
			}
		case "id":
			var id int64
			var ok bool
			if id, ok, err = readInt(dec); err == nil {
				p.ID = socketio.NoID
				switch {
				case ok && id < 0:
					err = fmt.Errorf("negative: %d", id)
				case ok:
					p.ID = id
				}
			}
		default:
			err = skipValue(dec)
		}
		if err != nil {
			return p, fmt.Errorf("%s: %w", key, err)
		}
	}
	if !hasType {
		return p, errors.New("type: missing")
	}
	return finishPacket(p, typ)
}

// finishPacket checks a packet read from msgpack or JSON and sets its type.
func finishPacket(p socketio.Packet, typ int64) (socketio.Packet, error) {
	if typ < int64(socketio.Connect) || typ > int64(socketio.BinaryAck) {
		return p, fmt.Errorf("type %d", typ)
	}
	p.Type = socketio.Type(typ)
	if p.ID != socketio.NoID && (p.ID < 0 || p.ID > socketio.MaxAckID) {
		return p, fmt.Errorf("id %d", p.ID)
	}
	binary := len(p.Attachments) > 0
	switch p.Type {
	case socketio.Event, socketio.BinaryEvent, socketio.Ack, socketio.BinaryAck:
		if len(p.Data) == 0 || p.Data[0] != '[' {
			return p, fmt.Errorf("%s data is not an array", p.Type)
		}
		if p.Type.IsEvent() && string(p.Data) == "[]" {
			return p, errors.New("event without a name")
		}
		switch {
		case p.Type.IsEvent() && binary:
			p.Type = socketio.BinaryEvent
		case p.Type.IsEvent():
			p.Type = socketio.Event
		case binary:
			p.Type = socketio.BinaryAck
		default:
			p.Type = socketio.Ack
		}
	default:
		if binary {
			return p, fmt.Errorf("binary data in a %s packet", p.Type)
		}
	}
	return p, nil
}

// readArgs reads SERVER_SIDE_EMIT's data, an array of plain values, one
// JSON value each; nil and undefined are nil.
func readArgs(dec *msgpack.Decoder) ([]json.RawMessage, error) {
	data, err := readPlainJSON(dec)
	if err != nil || data == nil || string(data) == "null" {
		return nil, err
	}
	var args []json.RawMessage
	if err := json.Unmarshal(data, &args); err != nil {
		return nil, errors.New("not an array")
	}
	if args == nil {
		args = []json.RawMessage{}
	}
	return args, nil
}

// readPlainJSON reads a value without binary parts as JSON; nil for
// undefined.
func readPlainJSON(dec *msgpack.Decoder) (json.RawMessage, error) {
	data, atts, _, err := decodeJSONValue(dec)
	if err == nil && len(atts) > 0 {
		err = errors.New("binary data")
	}
	return data, err
}

// skipValue reads a value of a key this package does not use.
func skipValue(dec *msgpack.Decoder) error {
	_, _, _, err := decodeJSONValue(dec)
	return err
}

// ---------------------------------------------------------------------------
// JSON

// jsonRequestOut is a request as encodeRequestJSON writes it: pointers and
// omitempty make absent what is nil.
type jsonRequestOut struct {
	UID       string             `json:"uid"`
	RequestID string             `json:"requestId,omitempty"`
	Type      int                `json:"type"`
	SID       string             `json:"sid,omitempty"`
	Room      string             `json:"room,omitempty"`
	Data      *[]json.RawMessage `json:"data,omitempty"`
	Packet    *jsonPacketOut     `json:"packet,omitempty"`
	Opts      *jsonOptsOut       `json:"opts,omitempty"`
	Rooms     *[]string          `json:"rooms,omitempty"`
	Close     *bool              `json:"close,omitempty"`
}

type jsonPacketOut struct {
	Type int             `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
	Nsp  string          `json:"nsp"`
	ID   *int64          `json:"id,omitempty"`
}

func newJSONPacket(p *socketio.Packet) *jsonPacketOut {
	j := &jsonPacketOut{Type: int(p.Type), Data: p.Data, Nsp: p.Namespace}
	switch p.Type {
	case socketio.BinaryEvent:
		j.Type = int(socketio.Event)
	case socketio.BinaryAck:
		j.Type = int(socketio.Ack)
	}
	if j.Nsp == "" {
		j.Nsp = "/"
	}
	if p.ID >= 0 {
		j.ID = &p.ID
	}
	return j
}

type jsonOptsOut struct {
	Rooms  []string       `json:"rooms"`
	Except []string       `json:"except"`
	Flags  *jsonFlagsJSON `json:"flags,omitempty"`
}

type jsonFlagsJSON struct {
	Local    bool  `json:"local,omitempty"`
	Volatile bool  `json:"volatile,omitempty"`
	Compress *bool `json:"compress,omitempty"`
	Timeout  int64 `json:"timeout,omitempty"`
}

func newJSONOpts(o *wireOpts) *jsonOptsOut {
	j := &jsonOptsOut{Rooms: o.Rooms, Except: o.Except}
	if j.Rooms == nil {
		j.Rooms = []string{}
	}
	if j.Except == nil {
		j.Except = []string{}
	}
	if f := o.Flags; f != (wireFlags{}) {
		j.Flags = &jsonFlagsJSON{Local: f.Local, Volatile: f.Volatile, Compress: f.Compress, Timeout: f.Timeout}
	}
	return j
}

type jsonResponseOut struct {
	Type        int             `json:"type,omitempty"`
	RequestID   string          `json:"requestId,omitempty"`
	Sockets     json.RawMessage `json:"sockets,omitempty"`
	Rooms       *[]string       `json:"rooms,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	ClientCount *int            `json:"clientCount,omitempty"`
	Packet      json.RawMessage `json:"packet,omitempty"`
}

// marshalJSON writes v as JSON.stringify would: no HTML escaping, no
// trailing newline. (encoding/json still escapes U+2028 and U+2029, which
// JSON.parse reads the same.)
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// isPresent reports whether a raw member was in the JSON and not null.
func isPresent(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// jsonType reads an integer member such as type; required says whether it
// may be absent (0) or null.
func jsonType(raw json.RawMessage, required bool) (int, error) {
	if !isPresent(raw) {
		if required {
			return 0, errors.New("missing")
		}
		return 0, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, errors.New("not a number")
	}
	if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, fmt.Errorf("not an integer: %s", raw)
	}
	return int(f), nil
}

// jsonRoom reads a room: a string or a number (see readRoom).
func jsonRoom(raw json.RawMessage) (string, error) {
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return "", errors.New("not a string or a number")
	}
	if math.IsInf(f, 0) {
		return "", fmt.Errorf("room %s", raw)
	}
	return string(appendJSNumber(nil, f)), nil
}

// jsonRooms reads an array of rooms.
func jsonRooms(raw json.RawMessage) ([]string, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New("not an array")
	}
	rooms := make([]string, 0, len(items))
	for _, item := range items {
		if !isPresent(item) {
			return nil, errors.New("room: null")
		}
		room, err := jsonRoom(item)
		if err != nil {
			return nil, err
		}
		rooms = append(rooms, room)
	}
	return rooms, nil
}

// jsonOpts reads {rooms, except, flags}.
func jsonOpts(raw json.RawMessage) (*wireOpts, error) {
	var j struct {
		Rooms  json.RawMessage `json:"rooms"`
		Except json.RawMessage `json:"except"`
		Flags  *struct {
			Local    bool            `json:"local"`
			Volatile bool            `json:"volatile"`
			Compress *bool           `json:"compress"`
			Timeout  json.RawMessage `json:"timeout"`
		} `json:"flags"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	var o wireOpts
	var err error
	if isPresent(j.Rooms) {
		if o.Rooms, err = jsonRooms(j.Rooms); err != nil {
			return nil, fmt.Errorf("rooms: %w", err)
		}
	}
	if isPresent(j.Except) {
		if o.Except, err = jsonRooms(j.Except); err != nil {
			return nil, fmt.Errorf("except: %w", err)
		}
	}
	if f := j.Flags; f != nil {
		o.Flags = wireFlags{Local: f.Local, Volatile: f.Volatile, Compress: f.Compress}
		if isPresent(f.Timeout) {
			var ms float64
			if err := json.Unmarshal(f.Timeout, &ms); err != nil || ms < -(1<<63) || ms >= 1<<63 {
				return nil, fmt.Errorf("flags: timeout %s", f.Timeout)
			}
			o.Flags.Timeout = int64(ms)
		}
	}
	return &o, nil
}

// jsonPacket reads a socket.io packet {type, data, nsp, id} from JSON, which
// has no binary parts.
func jsonPacket(raw json.RawMessage) (socketio.Packet, error) {
	var j struct {
		Type json.RawMessage `json:"type"`
		Data json.RawMessage `json:"data"`
		Nsp  *string         `json:"nsp"`
		ID   json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return socketio.Packet{}, err
	}
	p := socketio.Packet{Namespace: "/", ID: socketio.NoID}
	if j.Nsp != nil {
		p.Namespace = *j.Nsp
	}
	if isPresent(j.Data) {
		p.Data = j.Data
	}
	typ, err := jsonType(j.Type, true)
	if err != nil {
		return p, fmt.Errorf("type: %w", err)
	}
	if isPresent(j.ID) {
		var f float64
		if err := json.Unmarshal(j.ID, &f); err != nil || f != math.Trunc(f) || f < 0 || f > socketio.MaxAckID {
			return p, fmt.Errorf("id %s", j.ID)
		}
		p.ID = int64(f)
	}
	return finishPacket(p, int64(typ))
}
