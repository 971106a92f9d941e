package redisadapter

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

const goldenDir = "../../testdata/redisadapter"

// goldenCase is one entry of testdata/redisadapter/cases.json, written by
// gen.js with the real @socket.io/redis-adapter 8.3.0 and notepack.io 3.0.1.
type goldenCase struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"` // broadcast, request, response, value
	Channel string `json:"channel"`
	File    string `json:"file"`
	Note    string `json:"note"`
	// For msgpack files: what Node makes of the whole message as JSON, with
	// placeholders for the attachments (hex), and whether Go is expected to
	// write the same bytes from that JSON.
	JSON        *string  `json:"json"`
	Attachments []string `json:"attachments"`
	Encode      bool     `json:"encode"`

	bytes []byte
	atts  [][]byte
}

func loadGoldens(t testing.TB) []goldenCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(goldenDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Versions map[string]string `json:"versions"`
		Cases    []goldenCase      `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Versions["adapter"] != "8.3.0" || doc.Versions["notepack"] != "3.0.1" {
		t.Fatalf("goldens written by %v", doc.Versions)
	}
	for i := range doc.Cases {
		c := &doc.Cases[i]
		if c.bytes, err = os.ReadFile(filepath.Join(goldenDir, c.File)); err != nil {
			t.Fatal(err)
		}
		for _, h := range c.Attachments {
			b, err := hex.DecodeString(h)
			if err != nil {
				t.Fatal(err)
			}
			c.atts = append(c.atts, b)
		}
	}
	// Every file in the directory is a case.
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*"))
	for _, f := range files {
		name := filepath.Base(f)
		if name == "cases.json" || name == "gen.js" || name == "README.md" {
			continue
		}
		if !slices.ContainsFunc(doc.Cases, func(c goldenCase) bool { return c.File == name }) {
			t.Errorf("%s is not in cases.json", name)
		}
	}
	return doc.Cases
}

func decodeAll(t testing.TB, msg []byte) (json.RawMessage, [][]byte, error) {
	t.Helper()
	r := bytes.NewReader(msg)
	data, atts, err := fromMsgpack(msgpack.NewDecoder(r))
	if err == nil && r.Len() != 0 {
		t.Errorf("%d bytes left", r.Len())
	}
	return data, atts, err
}

func encodeJSON(data string, atts [][]byte) ([]byte, error) {
	var buf bytes.Buffer
	err := toMsgpack(msgpack.NewEncoder(&buf), json.RawMessage(data), atts)
	return buf.Bytes(), err
}

func equalAtts(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}

// TestGoldenMsgpackJSON decodes every msgpack golden as one value: the JSON
// must be what Node makes of it, and where Node's bytes are canonical,
// encoding that JSON must give them back.
func TestGoldenMsgpackJSON(t *testing.T) {
	for _, c := range loadGoldens(t) {
		if c.JSON == nil {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			data, atts, err := decodeAll(t, c.bytes)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != *c.JSON {
				t.Errorf("JSON\n got %s\nwant %s", data, *c.JSON)
			}
			if !equalAtts(atts, c.atts) {
				t.Errorf("attachments %x, want %x", atts, c.atts)
			}
			msg, err := encodeJSON(*c.JSON, c.atts)
			if err != nil {
				t.Fatal(err)
			}
			if c.Encode && !bytes.Equal(msg, c.bytes) {
				t.Errorf("encoded\n got %x\nwant %x", msg, c.bytes)
			}
			// Whatever Node wrote, ours decodes to the same JSON.
			data2, atts2, err := decodeAll(t, msg)
			if err != nil || string(data2) != *c.JSON || !equalAtts(atts2, c.atts) {
				t.Errorf("re-decoded %s %x, %v", data2, atts2, err)
			}
		})
	}
}

func TestToMsgpack(t *testing.T) {
	a0, a1 := []byte{1, 2}, []byte("xyz")
	tests := []struct {
		name string
		json string
		atts [][]byte
		want string // hex; "" when an error is expected
	}{
		{"fixint", `[0,127,128,255,256,65535,65536,4294967295,4294967296]`, nil,
			"99 00 7f cc80 ccff cd0100 cdffff ce00010000 ceffffffff cf0000000100000000"},
		{"negative", `[-1,-32,-33,-128,-129,-32768,-32769,-2147483648,-2147483649]`, nil,
			"99 ff e0 d0df d080 d1ff7f d18000 d2ffff7fff d280000000 d3ffffffff7fffffff"},
		{"int64 and uint64 limits", `[9223372036854775807,-9223372036854775808,18446744073709551615]`, nil,
			"93 cf7fffffffffffffff d38000000000000000 cfffffffffffffffff"},
		{"integral floats are ints", `[1.0,1e2,-0,-0.0,1E0,2.5e1]`, nil, "96 01 64 00 00 01 19"},
		{"floats", `[1.5,-0.25,1e-7]`, nil, "93 cb3ff8000000000000 cbbfd0000000000000 cb3e7ad7f29abcaf48"},
		{"1e19 is a uint64", `1e19`, nil, "cf8ac7230489e80000"},
		{"beyond uint64 is a float64", `[18446744073709551616,1e21,-1e19]`, nil,
			"93 cb43f0000000000000 cb444b1ae4d6e2ef50 cbc3e158e460913d00"},
		{"beyond float64 is infinity", `1e400`, nil, "cb7ff0000000000000"},
		{"literals", `[true,false,null]`, nil, "93 c3 c2 c0"},
		{"strings", `["", "a", "\u00e9\n\"", "\ud83d\ude00", "\ud800"]`, nil,
			"95 a0 a161 a4c3a90a22 a4f09f9880 a3efbfbd"},
		{"str8", `"` + strings.Repeat("x", 32) + `"`, nil, "d920" + strings.Repeat("78", 32)},
		{"whitespace", " { \"a\" : [ 1 , {} ] , \"b\" : \"c\" } ", nil, "82 a161 92 01 80 a162 a163"},
		{"key order kept", `{"b":1,"a":2,"1":3}`, nil, "83 a162 01 a161 02 a131 03"},
		{"duplicate keys kept", `{"a":1,"a":2}`, nil, "82 a161 01 a161 02"},
		{"placeholders", `["x",{"_placeholder":true,"num":1},{"f":{"_placeholder":true,"num":0}}]`, [][]byte{a0, a1},
			"93 a178 c40378797a 81 a166 c4020102"},
		{"placeholder with other keys and num 1.0", `{"num":1.0,"x":[{}],"_placeholder":true}`, [][]byte{a0, a1}, "c403 78797a"},
		{"escaped placeholder keys", `{"\u005fplaceholder":true,"n\u0075m":0}`, [][]byte{a0}, "c4020102"},
		{"nil attachment is empty bin", `{"_placeholder":true,"num":0}`, [][]byte{nil}, "c400"},
		{"last _placeholder wins", `{"_placeholder":true,"_placeholder":false,"num":0}`, [][]byte{a0},
			"83 ac5f706c616365686f6c646572 c3 ac5f706c616365686f6c646572 c2 a36e756d 00"},
		{"no attachments: placeholders are maps", `{"_placeholder":true,"num":0}`, nil,
			"82 ac5f706c616365686f6c646572 c3 a36e756d 00"},
		{"placeholder num out of range", `{"_placeholder":true,"num":2}`, [][]byte{a0, a1}, ""},
		{"inside a placeholder nothing counts", `{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}`, [][]byte{a0}, "c4020102"},
		{"placeholder num negative", `{"_placeholder":true,"num":-1}`, [][]byte{a0}, ""},
		{"placeholder num fraction", `{"_placeholder":true,"num":0.5}`, [][]byte{a0}, ""},
		{"placeholder num string", `{"_placeholder":true,"num":"0"}`, [][]byte{a0}, ""},
		{"placeholder without num", `{"_placeholder":true}`, [][]byte{a0}, ""},
		{"invalid JSON", `[1,`, nil, ""},
		{"empty", ``, nil, ""},
		{"two values", `1 2`, nil, ""},
		{"deepest", strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth), nil,
			strings.Repeat("91", maxDepth-1) + "90"},
		{"too deep", strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1), nil, ""},
		{"too deep objects", strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeJSON(tt.json, tt.atts)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("no error, got %x", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, _ := hex.DecodeString(strings.ReplaceAll(tt.want, " ", ""))
			if !bytes.Equal(got, want) {
				t.Errorf("got  %x\nwant %x", got, want)
			}
		})
	}
}

func TestFromMsgpack(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want string // "" when an error is expected
		atts []string
	}{
		{"uint64 keeps its digits", "92 cfffffffffffffffff d38000000000000000", "[18446744073709551615,-9223372036854775808]", nil},
		{"float32", "ca3fc00000", "1.5", nil},
		{"floats as JavaScript prints them", "96 cb3eb0c6f7a0b5ed8d cb3eb0c6f7a0b5ed8c cb4415af1d78b58c40 cb444b1ae4d6e2ef50 cb4340000000000000 cbc3e158e460913d00",
			"[0.000001,9.999999999999997e-7,100000000000000000000,1e+21,9007199254740992,-10000000000000000000]", nil},
		{"NaN and infinities", "93 cb7ff8000000000000 cb7ff0000000000000 cbfff0000000000000", "[null,null,null]", nil},
		{"escapes", "a8 22 5c 08 0c 00 1f 7f 3c", `"\"\\\b\f\u0000\u001f` + "\x7f" + `<"`, nil},
		{"U+2028 is not escaped", "a3 e280a8", "\"\u2028\"", nil},
		{"invalid UTF-8", "a9 c0 e0 80 f0 9f 98 ed a0 80", `"` + strings.Repeat("\uFFFD", 7) + `"`, nil},
		{"empty containers", "92 90 80", "[[],{}]", nil},
		{"map16 and array32", "de0001 a161 dd00000001 01", `{"a":[1]}`, nil},
		{"undefined everywhere", "93 d40000 81 a161 d40000 82 a161 d40000 a162 02", `[null,{},{"b":2}]`, nil},
		{"bin8, bin16, bin32", "93 c40100 c5000101 c60000000102", `[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`,
			[]string{"00", "01", "02"}},
		{"empty bin", "c400", `{"_placeholder":true,"num":0}`, []string{""}},
		{"ext32 ArrayBuffer", "c9 00000002 00 abcd", `{"_placeholder":true,"num":0}`, []string{"abcd"}},
		{"timestamp32", "d6ff 00000000", `"1970-01-01T00:00:00.000Z"`, nil},
		{"timestamp96 max", "c70cff 00000000 000007dba8218000", `"+275760-09-13T00:00:00.000Z"`, nil},
		{"timestamp96 beyond", "c70cff 00000000 000007dba8218001", "null", nil},
		{"timestamp96 year 0", "c70cff 00000000 fffffff1868b8400", `"0000-01-01T00:00:00.000Z"`, nil},
		{"placeholder-like map without binary", "82 ac5f706c616365686f6c646572 c3 a36e756d 00", `{"_placeholder":true,"num":0}`, nil},

		{"placeholder-like map next to binary", "92 82 ac5f706c616365686f6c646572 c3 a36e756d 00 c400", "", nil},
		{"int key", "81 01 02", "", nil},
		{"nil key", "81 c0 02", "", nil},
		{"undefined key", "81 d40000 02", "", nil},
		{"unknown ext", "d4 05 00", "", nil},
		{"fixext16 timestamp", "d8ff 00000000000000000000000000000000", "", nil},
		{"ext8 timestamp of 8 bytes", "c708ff 0000000000000000", "", nil},
		{"fixext2 type 0", "d500 0000", "", nil},
		{"never used code", "c1", "", nil},
		{"empty input", "", "", nil},
		{"truncated array", "93 01 02", "", nil},
		{"truncated str", "a5 6162", "", nil},
		{"truncated timestamp", "d7ff 0000", "", nil},
		{"array32 claiming 2^32-1 elements", "ddffffffff c0", "", nil},
		{"map32 claiming 2^32-1 members", "dfffffffff a161 c0", "", nil},
		{"str32 claiming 4 GiB", "dbffffffff 61", "", nil},
		{"bin32 claiming 4 GiB", "c6ffffffff 00", "", nil},
		{"ext32 claiming 4 GiB", "c9ffffffff 00 00", "", nil},
		{"deepest", strings.Repeat("91", maxDepth-1) + "90", strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth), nil},
		{"too deep", strings.Repeat("91", maxDepth) + "90", "", nil},
		{"deepest maps", strings.Repeat("81a161", maxDepth) + "01", strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth), nil},
		{"too deep maps", strings.Repeat("81a161", maxDepth+1) + "01", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := hex.DecodeString(strings.ReplaceAll(tt.hex, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			data, atts, err := decodeAll(t, msg)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("no error, got %s", data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tt.want {
				t.Errorf("got  %s\nwant %s", data, tt.want)
			}
			if !json.Valid(data) {
				t.Errorf("not valid JSON: %s", data)
			}
			var want [][]byte
			for _, h := range tt.atts {
				b, _ := hex.DecodeString(h)
				want = append(want, b)
			}
			if !equalAtts(atts, want) {
				t.Errorf("attachments %x, want %x", atts, want)
			}
		})
	}
}

// TestFromMsgpackAllocation checks that lengths announced by the input do
// not become allocations.
func TestFromMsgpackAllocation(t *testing.T) {
	for _, h := range []string{"dbffffffff61", "c6ffffffff00", "c9ffffffff0000", "ddffffffffc0", "dfffffffffa161c0", "c6000fffff00"} {
		msg, _ := hex.DecodeString(h)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range 10 {
			if _, _, err := fromMsgpack(msgpack.NewDecoder(bytes.NewReader(msg))); err == nil {
				t.Fatalf("%s: no error", h)
			}
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 10*(readChunk+16<<10) {
			t.Errorf("%s: %d bytes allocated for 10 decodes", h, n)
		}
	}
}

// TestRoundTrip encodes JSON values and decodes them back: the JSON comes
// back as JSON.stringify would print it.
func TestRoundTrip(t *testing.T) {
	a0 := []byte{0, 1, 2}
	tests := []struct{ in, out string }{
		{`["chat","hello"]`, ``},
		{`{"a":{"b":[1,2.5,-3,"x",null,true,false,{}]},"c":[]}`, ``},
		{` [ 1.0 , 1e2 , -0 , 0.1 , 1e21 , 123456789012345678901234567890 ] `, `[1,100,0,0.1,1e+21,1.2345678901234568e+29]`},
		{`"\u00e9\u2028\ud83d\ude00\/"`, "\"é\u2028😀/\""},
		{`{"_placeholder":true,"num":0}`, ``},
		{`[{"_placeholder":true,"num":0},{"k":[{"_placeholder":true,"num":0}]}]`, `[{"_placeholder":true,"num":0},{"k":[{"_placeholder":true,"num":1}]}]`},
	}
	for _, tt := range tests {
		atts := [][]byte(nil)
		if strings.Contains(tt.in, "_placeholder") && strings.HasPrefix(tt.in, "[") {
			atts = [][]byte{a0}
		}
		msg, err := encodeJSON(tt.in, atts)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		data, _, err := decodeAll(t, msg)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		want := tt.out
		if want == "" {
			want = tt.in
		}
		if string(data) != want {
			t.Errorf("%s: got %s, want %s", tt.in, data, want)
		}
	}
}

func TestAppendJSNumber(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-1, "-1"}, {1.5, "1.5"}, {-0.25, "-0.25"},
		{0.1, "0.1"}, {0.30000000000000004, "0.30000000000000004"}, {123.456, "123.456"},
		{1e-6, "0.000001"}, {1e-7, "1e-7"}, {1.5e-7, "1.5e-7"}, {5e-324, "5e-324"},
		{1e20, "100000000000000000000"}, {1e21, "1e+21"}, {1.5e21, "1.5e+21"}, {math.MaxFloat64, "1.7976931348623157e+308"},
		{9007199254740993, "9007199254740992"}, {-1e300, "-1e+300"}, {float64(float32(0.1)), "0.10000000149011612"},
		{math.NaN(), "null"}, {math.Inf(1), "null"}, {math.Inf(-1), "null"},
	}
	for _, tt := range tests {
		if got := string(appendJSNumber(nil, tt.f)); got != tt.want {
			t.Errorf("%v: got %s, want %s", tt.f, got, tt.want)
		}
	}
}

func TestMaximalSubpart(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"\x80", 1}, {"\xc0\x80", 1}, {"\xc2", 1}, {"\xe0\x80", 1}, {"\xe0\xa0", 2}, {"\xe2\x82A", 2},
		{"\xed\xa0\x80", 1}, {"\xed\x9f", 2}, {"\xf0\x8f", 1}, {"\xf0\x9f\x98", 3}, {"\xf4\x90", 1}, {"\xf5", 1}, {"\xff", 1},
	}
	for _, tt := range tests {
		if got := maximalSubpart([]byte(tt.in)); got != tt.want {
			t.Errorf("%q: got %d, want %d", tt.in, got, tt.want)
		}
	}
}
