package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net"
	"testing"
	"time"
)

type blob []byte

type upload struct {
	Name    string `json:"name"`
	Data    []byte `json:"data"`
	Thumb   []byte `json:"thumb,omitempty"`
	Skip    []byte `json:"-"`
	Size    int    `json:",omitzero"`
	private []byte
}

type plain struct {
	A string
	B []byte // no other byte slice: encoding/json writes base64
}

type embedded struct {
	plain
	C []byte
}

func TestBuildArgs(t *testing.T) {
	a, b := []byte("A"), []byte("B")
	ph := func(n string) string { return `{"_placeholder":true,"num":` + n + `}` }
	tests := []struct {
		name string
		args []any
		want string
		atts [][]byte
	}{
		{"none", nil, `[]`, nil},
		{"scalars", []any{"s", 1, int64(-2), int32(3), uint64(4), 1.5, true, nil}, `["s",1,-2,3,4,1.5,true,null]`, nil},
		{"other ints", []any{int8(-1), uint16(2), uint(3)}, `[-1,2,3]`, nil},
		{"float32", []any{float32(0.1)}, `[0.1]`, nil},
		{"js numbers", []any{1e21, 1e-7, -0.0, 123456789012345680000.0}, `[1e+21,1e-7,0,123456789012345680000]`, nil},
		{"no html escaping", []any{"<a href='x'>&</a>\u2028"}, "[\"<a href='x'>&</a>\u2028\"]", nil},
		{"control chars", []any{"\x00\x1f\t\"\\\x7f"}, `["\u0000\u001f\t\"\\` + "\x7f" + `"]`, nil},
		{"invalid utf8", []any{"a\xffb"}, `["a\ufffdb"]`, nil},
		{"top-level bytes", []any{"up", a, b}, `["up",` + ph("0") + `,` + ph("1") + `]`, [][]byte{a, b}},
		{"nil bytes", []any{[]byte(nil)}, `[null]`, nil},
		{"empty bytes", []any{[]byte{}}, `[` + ph("0") + `]`, [][]byte{{}}},
		{"nested any", []any{map[string]any{"z": []any{a, map[string]any{"b": b}}, "a": 1}},
			`[{"a":1,"z":[` + ph("0") + `,{"b":` + ph("1") + `}]}]`, [][]byte{a, b}},
		{"named byte slice", []any{blob("x")}, `[` + ph("0") + `]`, [][]byte{[]byte("x")}},
		{"slice of bytes", []any{[][]byte{a, nil, b}}, `[[` + ph("0") + `,null,` + ph("1") + `]]`, [][]byte{a, b}},
		{"typed map", []any{map[string][]byte{"b": b, "a": a}}, `[{"a":` + ph("0") + `,"b":` + ph("1") + `}]`, [][]byte{a, b}},
		{"pointer", []any{&a}, `[` + ph("0") + `]`, [][]byte{a}},
		{"struct", []any{upload{Name: "f", Data: a, Skip: b, private: b}}, `[{"name":"f","data":` + ph("0") + `}]`, [][]byte{a}},
		{"struct pointer with all", []any{&upload{Name: "f", Data: a, Thumb: b, Size: 2}},
			`[{"name":"f","data":` + ph("0") + `,"thumb":` + ph("1") + `,"Size":2}]`, [][]byte{a, b}},
		{"struct in map", []any{map[string]any{"u": upload{Data: a}}}, `[{"u":{"name":"","data":` + ph("0") + `}}]`, [][]byte{a}},
		{"embedded struct left to encoding/json", []any{embedded{C: a}}, `[{"A":"","B":null,"C":"QQ=="}]`, nil},
		{"raw message", []any{json.RawMessage(`{"x":[1]}`)}, `[{"x":[1]}]`, nil},
		{"nil raw message", []any{json.RawMessage(nil)}, `[null]`, nil},
		{"text marshaler", []any{net.IPv4(1, 2, 3, 4)}, `["1.2.3.4"]`, nil},
		{"time", []any{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}, `["2024-01-02T03:04:05Z"]`, nil},
		{"typed slices", []any{[]string{"a"}, []int{1, 2}, map[string]int{"b": 1}}, `[["a"],[1,2],{"b":1}]`, nil},
		{"nil containers", []any{[]any(nil), map[string]any(nil), (*upload)(nil), [][]byte(nil)}, `[null,null,null,null]`, nil},
		{"byte array is numbers", []any{[2]byte{1, 2}}, `[[1,2]]`, nil},
		{"int-keyed map", []any{map[int]string{2: "b", 1: "a"}}, `[{"1":"a","2":"b"}]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, atts, err := BuildArgs(tt.args...)
			if err != nil || string(data) != tt.want || !equalBins(atts, tt.atts) {
				t.Fatalf("BuildArgs = %s, %q, %v\nwant %s, %q", data, atts, err, tt.want, tt.atts)
			}
			if !json.Valid(data) {
				t.Fatalf("invalid JSON %s", data)
			}
		})
	}
}

func TestBuildArgsErrors(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	list := []any{nil}
	list[0] = list
	for _, v := range []any{math.NaN(), math.Inf(1), float32(math.Inf(-1)), make(chan int), func() {}, cyclic, list, json.RawMessage(`{`)} {
		if _, _, err := BuildArgs(v); !errors.Is(err, ErrUnsupportedValue) {
			t.Errorf("BuildArgs(%T) error = %v, want ErrUnsupportedValue", v, err)
		}
	}
}

func TestReconstructArgs(t *testing.T) {
	a, b := []byte("A"), []byte("B")
	_, args, err := SplitEvent(raw(`["up",{"_placeholder":true,"num":1},{"x":[{"_placeholder":true,"num":0}],"n":1.5},"s"]`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReconstructArgs(args, [][]byte{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[0].([]byte), b) {
		t.Errorf("arg 0 = %v", got[0])
	}
	m := got[1].(map[string]any)
	if !bytes.Equal(m["x"].([]any)[0].([]byte), a) || m["n"] != 1.5 {
		t.Errorf("arg 1 = %v", m)
	}
	if got[2] != "s" {
		t.Errorf("arg 2 = %v", got[2])
	}

	// Without attachments (a non-binary packet), placeholders stay plain objects.
	got, err = ReconstructArgs(args, nil)
	if err != nil || !IsPlaceholder(got[0]) {
		t.Fatalf("non-binary: %v, %v", got, err)
	}

	for _, bad := range []string{`"splice"`, `-1`, `1.5`, `2`, `99`, `null`, `"0"`, `{}`} {
		args := []json.RawMessage{raw(`{"_placeholder":true,"num":` + bad + `}`)}
		if _, err := ReconstructArgs(args, [][]byte{a, b}); !errors.Is(err, ErrIllegalAttachments) {
			t.Errorf("num %s: error = %v, want ErrIllegalAttachments", bad, err)
		}
	}
	if _, err := ReconstructArgs([]json.RawMessage{raw(`{`)}, nil); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("invalid JSON: %v", err)
	}
}

func TestPlaceholderHelpers(t *testing.T) {
	ph := map[string]any{"_placeholder": true, "num": 1.0}
	if !IsPlaceholder(ph) || IsPlaceholder(map[string]any{"_placeholder": "true", "num": 1.0}) || IsPlaceholder([]any{}) {
		t.Error("IsPlaceholder is wrong")
	}
	if n, err := PlaceholderNum(ph, 2); n != 1 || err != nil {
		t.Errorf("PlaceholderNum = %d, %v", n, err)
	}
	if n, err := PlaceholderNum(map[string]any{"_placeholder": true, "num": json.Number("0")}, 1); n != 0 || err != nil {
		t.Errorf("PlaceholderNum(json.Number) = %d, %v", n, err)
	}
	for _, bad := range []any{"splice", -1.0, 1.5, 2.0, math.Inf(1), math.NaN(), json.Number("1e400"), nil} {
		if _, err := PlaceholderNum(map[string]any{"_placeholder": true, "num": bad}, 2); !errors.Is(err, ErrIllegalAttachments) {
			t.Errorf("PlaceholderNum(%v) error = %v", bad, err)
		}
	}
	if _, err := PlaceholderNum("x", 2); !errors.Is(err, ErrIllegalAttachments) {
		t.Errorf("PlaceholderNum(not a placeholder) error = %v", err)
	}
}

func TestInlineAttachments(t *testing.T) {
	data := raw(`["up",{"_placeholder":true,"num":1},{"x":{"_placeholder":true,"num":0,"y":{"_placeholder":true,"num":"bad"}}}]`)
	got, err := InlineAttachments(data, [][]byte{[]byte("A"), []byte("hello")})
	if want := `["up","aGVsbG8=",{"x":"QQ=="}]`; err != nil || string(got) != want {
		t.Fatalf("InlineAttachments = %s, %v; want %s", got, err, want)
	}
	var v struct {
		X []byte `json:"x"`
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(got, &arr); err != nil || json.Unmarshal(arr[2], &v) != nil || string(v.X) != "A" {
		t.Fatalf("round trip through encoding/json: %v %q", err, v.X)
	}
	if got, err := InlineAttachments(data, nil); err != nil || string(got) != string(data) {
		t.Errorf("without attachments: %s, %v", got, err)
	}
	if _, err := InlineAttachments(raw(`[{"_placeholder":true,"num":5}]`), [][]byte{{}}); !errors.Is(err, ErrIllegalAttachments) {
		t.Errorf("bad num: %v", err)
	}
	if _, err := InlineAttachments(raw(`[`), [][]byte{{}}); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("bad JSON: %v", err)
	}
}
