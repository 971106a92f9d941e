package redisadapter

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// addGoldenSeeds adds every golden message of testdata/redisadapter, msgpack
// (.bin) and JSON (.json), as seeds.
func addGoldenSeeds(f *testing.F, exts ...string) {
	for _, ext := range exts {
		files, err := filepath.Glob(filepath.Join(goldenDir, "*"+ext))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			if filepath.Base(file) == "cases.json" {
				continue
			}
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// FuzzDecodeBroadcast: no input panics, and what decodes re-encodes into a
// message that decodes to the same broadcast and re-encodes to itself.
func FuzzDecodeBroadcast(f *testing.F) {
	addGoldenSeeds(f, ".bin")
	f.Fuzz(func(t *testing.T, msg []byte) {
		uid, p, o, err := decodeBroadcast(msg)
		if err != nil {
			return
		}
		enc, err := encodeBroadcast(uid, p, o)
		if err != nil {
			t.Fatalf("decoded %q %+v %+v, does not re-encode: %v", uid, p, o, err)
		}
		uid2, p2, o2, err := decodeBroadcast(enc)
		if err != nil {
			t.Fatalf("re-encoded %x does not decode: %v", enc, err)
		}
		if uid2 != uid || !reflect.DeepEqual(p2, p) || !sameOpts(o2, o) {
			t.Fatalf("round trip\n got %q %+v %+v\nwant %q %+v %+v", uid2, p2, o2, uid, p, o)
		}
		if enc2, err := encodeBroadcast(uid2, p2, o2); err != nil || !bytes.Equal(enc2, enc) {
			t.Fatalf("not a fixed point: %x, %v", enc2, err)
		}
	})
}

// sameOpts compares opts as the wire does: nil and empty lists alike.
func sameOpts(a, b wireOpts) bool {
	return reflect.DeepEqual(a.Flags, b.Flags) && len(a.Rooms) == len(b.Rooms) && len(a.Except) == len(b.Except) &&
		(len(a.Rooms) == 0 || reflect.DeepEqual(a.Rooms, b.Rooms)) &&
		(len(a.Except) == 0 || reflect.DeepEqual(a.Except, b.Except))
}

// FuzzDecodeRequest: no input panics, and what decodes re-encodes (in the
// encoding it came in) into a message that decodes back to a fixed point.
func FuzzDecodeRequest(f *testing.F) {
	addGoldenSeeds(f, ".bin", ".json")
	f.Add([]byte(`{"uid":"u","requestId":"r","type":2,"sid":"s","room":7}`))
	f.Add([]byte(`{"type":7,"packet":{"type":2,"data":["a"],"nsp":"/x","id":1},"opts":{"rooms":[1],"flags":{"compress":false}}}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := decodeRequest(msg)
		if err != nil {
			return
		}
		encode := encodeRequestMsgpack
		if msg[0] == '{' {
			encode = encodeRequestJSON
		}
		enc, err := encode(r)
		if err != nil {
			t.Fatalf("decoded %+v, does not re-encode: %v", r, err)
		}
		r2, err := decodeRequest(enc)
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", enc, err)
		}
		enc2, err := encode(r2)
		if err != nil || !bytes.Equal(enc2, enc) {
			t.Fatalf("not a fixed point:\n%q\n%q, %v", enc, enc2, err)
		}
	})
}

// FuzzDecodeResponse: as FuzzDecodeRequest, for responses.
func FuzzDecodeResponse(f *testing.F) {
	addGoldenSeeds(f, ".bin", ".json")
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := decodeResponse(msg)
		if err != nil {
			return
		}
		encode := encodeResponseMsgpack
		if msg[0] == '{' {
			encode = encodeResponseJSON
		}
		enc, err := encode(r)
		if err != nil {
			t.Fatalf("decoded %+v, does not re-encode: %v", r, err)
		}
		r2, err := decodeResponse(enc)
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", enc, err)
		}
		enc2, err := encode(r2)
		if err != nil || !bytes.Equal(enc2, enc) {
			t.Fatalf("not a fixed point:\n%q\n%q, %v", enc, enc2, err)
		}
	})
}

// FuzzMsgpackToJSON: no input panics; what fromMsgpack reads is valid JSON
// that toMsgpack writes back into msgpack reading as the same JSON and
// attachments.
func FuzzMsgpackToJSON(f *testing.F) {
	addGoldenSeeds(f, ".bin")
	f.Fuzz(func(t *testing.T, msg []byte) {
		data, atts, err := fromMsgpack(msgpack.NewDecoder(bytes.NewReader(msg)))
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("not valid JSON: %s", data)
		}
		var buf bytes.Buffer
		if err := toMsgpack(msgpack.NewEncoder(&buf), data, atts); err != nil {
			t.Fatalf("%s with %d attachments does not encode: %v", data, len(atts), err)
		}
		r := bytes.NewReader(buf.Bytes())
		data2, atts2, err := fromMsgpack(msgpack.NewDecoder(r))
		if err != nil {
			t.Fatalf("re-encoded %x does not decode: %v", buf.Bytes(), err)
		}
		if r.Len() != 0 {
			t.Fatalf("%d bytes left", r.Len())
		}
		if !bytes.Equal(data2, data) || !equalAtts(atts2, atts) {
			t.Fatalf("round trip\n got %s %x\nwant %s %x", data2, atts2, data, atts)
		}
	})
}
