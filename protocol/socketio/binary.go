package socketio

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Binary attachments travel outside the JSON text: in the payload each one is
// replaced by a placeholder object {"_placeholder":true,"num":N}, N being its
// index among the attachments sent after the text frame.

// maxArgsDepth bounds the nesting BuildArgs follows, which also stops cycles.
const maxArgsDepth = 1000

// BuildArgs encodes values as a JSON array, ready for Packet.Data, with every
// []byte replaced by a placeholder, and returns the attachments in placeholder
// order (they alias the values' byte slices). Set them as Packet.Attachments:
// Encode then sends the packet as binary. For an event, pass the name first:
// BuildArgs("upload", name, data).
//
// Byte slices are found at the top level and inside []any, map[string]any, and
// any slice, array, pointer, interface, map with string keys, or struct reached
// through them. A nil []byte is null, as JSON.stringify writes a null Buffer.
// Struct fields follow encoding/json's names, "-" and omitempty/omitzero tag
// options; a struct with embedded fields or ",string" options, and any value
// implementing json.Marshaler or encoding.TextMarshaler (such as json.RawMessage,
// which is copied in as is, or net.IP), are encoded by encoding/json, where a
// []byte becomes a base64 string. Strings and numbers are written as
// JSON.stringify writes them (no HTML escaping). NaN, infinities, channels,
// functions and cycles fail with ErrUnsupportedValue.
func BuildArgs(values ...any) (data json.RawMessage, attachments [][]byte, err error) {
	e := argsEncoder{buf: make([]byte, 0, 64)}
	e.buf = append(e.buf, '[')
	for i, v := range values {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.encode(v, 0); err != nil {
			return nil, nil, err
		}
	}
	e.buf = append(e.buf, ']')
	return e.buf, e.atts, nil
}

// argsEncoder holds the state of one BuildArgs call.
type argsEncoder struct {
	buf  []byte
	atts [][]byte
	tmp  *bytes.Buffer // encoding/json fallback, made on first use
	enc  *json.Encoder
}

func (e *argsEncoder) placeholder(b []byte) {
	e.buf = append(e.buf, `{"_placeholder":true,"num":`...)
	e.buf = strconv.AppendInt(e.buf, int64(len(e.atts)), 10)
	e.buf = append(e.buf, '}')
	e.atts = append(e.atts, b)
}

func (e *argsEncoder) float(f float64) error {
	b, ok := appendJSNumber(e.buf, f)
	if !ok {
		return fmt.Errorf("%w: %v", ErrUnsupportedValue, f)
	}
	e.buf = b
	return nil
}

// encode writes v; the common types avoid reflection.
func (e *argsEncoder) encode(v any, depth int) error {
	if depth > maxArgsDepth {
		return fmt.Errorf("%w: nested deeper than %d (a cycle?)", ErrUnsupportedValue, maxArgsDepth)
	}
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = appendString(e.buf, x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, x, 10)
	case float64:
		return e.float(x)
	case []byte:
		if x == nil {
			e.buf = append(e.buf, "null"...)
		} else {
			e.placeholder(x)
		}
	case json.RawMessage:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if !json.Valid(x) {
			return fmt.Errorf("%w: json.RawMessage is not valid JSON", ErrUnsupportedValue)
		}
		e.buf = append(e.buf, x...)
	case []any:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.buf = append(e.buf, '[')
		for i, el := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.encode(el, depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
	case map[string]any:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.buf = append(e.buf, '{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendString(e.buf, k)
			e.buf = append(e.buf, ':')
			if err := e.encode(x[k], depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
	default:
		return e.reflect(reflect.ValueOf(v), depth)
	}
	return nil
}

func (e *argsEncoder) reflect(rv reflect.Value, depth int) error {
	if depth > maxArgsDepth {
		return fmt.Errorf("%w: nested deeper than %d (a cycle?)", ErrUnsupportedValue, maxArgsDepth)
	}
	if !rv.IsValid() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	t := rv.Type()
	if isMarshaler(t) {
		return e.fallback(rv)
	}
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.encodeElem(rv.Elem(), depth+1)
	case reflect.Float32:
		// Shortest float32 digits, as encoding/json writes them, in JS form.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(rv.Float(), 'g', -1, 32), 64)
		return e.float(f)
	case reflect.Float64:
		return e.float(rv.Float())
	case reflect.Slice:
		if isByteSlice(t) {
			if rv.IsNil() {
				e.buf = append(e.buf, "null"...)
			} else {
				e.placeholder(rv.Bytes())
			}
			return nil
		}
		if rv.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		fallthrough
	case reflect.Array:
		if !mayHoldBinary(t.Elem(), 0) {
			return e.fallback(rv)
		}
		e.buf = append(e.buf, '[')
		for i := range rv.Len() {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.encodeElem(rv.Index(i), depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
		return nil
	case reflect.Map:
		if !mayHoldBinary(t, 0) {
			return e.fallback(rv)
		}
		if rv.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendString(e.buf, k.String())
			e.buf = append(e.buf, ':')
			if err := e.encodeElem(rv.MapIndex(k), depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
		return nil
	case reflect.Struct:
		if !mayHoldBinary(t, 0) {
			return e.fallback(rv)
		}
		e.buf = append(e.buf, '{')
		n := 0
		for i := range t.NumField() {
			f := fieldOf(t.Field(i))
			if f.skip {
				continue
			}
			fv := rv.Field(i)
			if (f.omitEmpty && isEmptyValue(fv)) || (f.omitZero && fv.IsZero()) {
				continue
			}
			if n > 0 {
				e.buf = append(e.buf, ',')
			}
			n++
			e.buf = appendString(e.buf, f.name)
			e.buf = append(e.buf, ':')
			if err := e.encodeElem(fv, depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
		return nil
	}
	return e.fallback(rv)
}

// encodeElem encodes a value reached by reflection, going back to the fast path
// for the common dynamic types.
func (e *argsEncoder) encodeElem(rv reflect.Value, depth int) error {
	if rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		rv = rv.Elem()
	}
	if rv.CanInterface() {
		switch rv.Type() {
		case reflect.TypeFor[[]any](), reflect.TypeFor[map[string]any](), reflect.TypeFor[string](), reflect.TypeFor[[]byte]():
			return e.encode(rv.Interface(), depth)
		}
	}
	return e.reflect(rv, depth)
}

// fallback writes rv with encoding/json, without HTML escaping.
func (e *argsEncoder) fallback(rv reflect.Value) error {
	if !rv.CanInterface() {
		return fmt.Errorf("%w: unexported %v", ErrUnsupportedValue, rv.Type())
	}
	if e.tmp == nil {
		e.tmp = new(bytes.Buffer)
		e.enc = json.NewEncoder(e.tmp)
		e.enc.SetEscapeHTML(false)
	}
	e.tmp.Reset()
	if err := e.enc.Encode(rv.Interface()); err != nil {
		return fmt.Errorf("%w: %w", ErrUnsupportedValue, err)
	}
	e.buf = append(e.buf, bytes.TrimSuffix(e.tmp.Bytes(), []byte{'\n'})...)
	return nil
}

// isMarshaler reports whether encoding/json encodes t through a method.
func isMarshaler(t reflect.Type) bool {
	return t.Implements(reflect.TypeFor[json.Marshaler]()) ||
		t.Implements(reflect.TypeFor[encoding.TextMarshaler]())
}

// isByteSlice reports whether t is a slice of bytes that is not encoded by a method.
func isByteSlice(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 &&
		!isMarshaler(t) && !isMarshaler(t.Elem())
}

// mayHoldBinary reports whether a value of type t can contain a byte slice that
// BuildArgs would turn into an attachment. Types that cannot are handed to
// encoding/json whole.
func mayHoldBinary(t reflect.Type, depth int) bool {
	if depth > 16 {
		return true // deep or recursive type: walk it
	}
	if isMarshaler(t) {
		return false
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Slice:
		return isByteSlice(t) || mayHoldBinary(t.Elem(), depth+1)
	case reflect.Array, reflect.Pointer:
		return mayHoldBinary(t.Elem(), depth+1)
	case reflect.Map:
		return t.Key().Kind() == reflect.String && !isMarshaler(t.Key()) && mayHoldBinary(t.Elem(), depth+1)
	case reflect.Struct:
		if !walkableStruct(t) {
			return false
		}
		for i := range t.NumField() {
			if sf := t.Field(i); !fieldOf(sf).skip && mayHoldBinary(sf.Type, depth+1) {
				return true
			}
		}
	}
	return false
}

// field is a struct field as encoding/json names it.
type field struct {
	name                string
	omitEmpty, omitZero bool
	skip                bool // unexported or tagged "-"
	custom              bool // embedded or ",string": left to encoding/json
}

// fieldOf reads the encoding/json view of sf.
func fieldOf(sf reflect.StructField) field {
	if sf.Anonymous {
		return field{custom: true}
	}
	tag := sf.Tag.Get("json")
	if !sf.IsExported() || tag == "-" {
		return field{skip: true}
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = sf.Name
	}
	f := field{name: name}
	for opts != "" {
		var opt string
		opt, opts, _ = strings.Cut(opts, ",")
		switch opt {
		case "omitempty":
			f.omitEmpty = true
		case "omitzero":
			f.omitZero = true
		case "string":
			f.custom = true
		}
	}
	return f
}

// walkableStruct reports whether BuildArgs encodes struct type t itself: no
// embedded fields, no ",string" options.
func walkableStruct(t reflect.Type) bool {
	for i := range t.NumField() {
		if fieldOf(t.Field(i)).custom {
			return false
		}
	}
	return true
}

// isEmptyValue is encoding/json's omitempty test.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// ReconstructArgs decodes the arguments of an incoming packet (as returned by
// SplitEvent, or the elements of an Ack's Data) into Go values, with each
// placeholder replaced by its attachment as a []byte (aliasing attachments).
//
// Values are decoded as encoding/json does into an any: objects become
// map[string]any, arrays []any, and numbers float64, the type JavaScript gives
// them. When attachments is empty, the packet was not binary and placeholder
// objects stay plain maps, as Node leaves them. A placeholder whose num is not an
// integer in [0, len(attachments)) fails with ErrIllegalAttachments; an argument
// that is not valid JSON, or holds a number beyond float64, with
// ErrInvalidPayload.
func ReconstructArgs(args []json.RawMessage, attachments [][]byte) ([]any, error) {
	out := make([]any, len(args))
	for i, raw := range args {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("%w: argument %d: %w", ErrInvalidPayload, i, err)
		}
		if len(attachments) > 0 {
			var err error
			if v, err = replacePlaceholders(v, attachments); err != nil {
				return nil, err
			}
		}
		out[i] = v
	}
	return out, nil
}

// replacePlaceholders returns v with its placeholders replaced, editing maps and
// slices in place. Like Node, it does not look inside a placeholder.
func replacePlaceholders(v any, attachments [][]byte) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if IsPlaceholder(x) {
			n, err := PlaceholderNum(x, len(attachments))
			if err != nil {
				return nil, err
			}
			return attachments[n], nil
		}
		for k, el := range x {
			r, err := replacePlaceholders(el, attachments)
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
	case []any:
		for i, el := range x {
			r, err := replacePlaceholders(el, attachments)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
	}
	return v, nil
}

// IsPlaceholder reports whether v, a value decoded from JSON into an any, is a
// placeholder: an object whose "_placeholder" member is true.
func IsPlaceholder(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m["_placeholder"] == true
}

// PlaceholderNum returns the attachment index of the placeholder v for a packet
// with n attachments. Its num must be an integer in [0, n), as a float64 or a
// json.Number; anything else (CVE-2022-2421: "splice", -1, 1.5, n) fails with
// ErrIllegalAttachments, as does a v that is not a placeholder.
func PlaceholderNum(v any, n int) (int, error) {
	if !IsPlaceholder(v) {
		return 0, fmt.Errorf("%w: not a placeholder", ErrIllegalAttachments)
	}
	num := v.(map[string]any)["num"]
	var f float64
	ok := false
	switch x := num.(type) {
	case float64:
		f, ok = x, true
	case json.Number:
		var err error
		f, err = x.Float64()
		ok = err == nil
	}
	i, ok := floatIndex(f, ok && !math.IsInf(f, 0), n)
	if !ok {
		return 0, fmt.Errorf("%w: placeholder num %v with %d attachments", ErrIllegalAttachments, num, n)
	}
	return i, nil
}

// InlineAttachments returns data with each placeholder replaced by its
// attachment as a base64 JSON string, so that json.Unmarshal can decode a binary
// packet into structs with []byte fields. data is returned unchanged when
// attachments is empty (a non-binary packet: placeholders stay objects) or holds
// no placeholder. Errors wrap ErrInvalidPayload (data is not JSON) or
// ErrIllegalAttachments (a num out of range).
func InlineAttachments(data json.RawMessage, attachments [][]byte) (json.RawMessage, error) {
	if !json.Valid(data) {
		return nil, fmt.Errorf("%w: not valid JSON", ErrInvalidPayload)
	}
	if len(attachments) == 0 {
		return data, nil
	}
	refs := findPlaceholders(data, nil)
	if len(refs) == 0 {
		return data, nil
	}
	size := len(data)
	idx := make([]int, len(refs))
	for i, ref := range refs {
		n, ok := attachmentIndex(ref.num, len(attachments))
		if !ok {
			return nil, fmt.Errorf("%w: placeholder num %s with %d attachments", ErrIllegalAttachments, excerpt(ref.num), len(attachments))
		}
		idx[i] = n
		size += base64.StdEncoding.EncodedLen(len(attachments[n])) + 2
	}
	out := make([]byte, 0, size)
	prev := 0
	for i, ref := range refs {
		out = append(out, data[prev:ref.start]...)
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, attachments[idx[i]])
		out = append(out, '"')
		prev = ref.end
	}
	return append(out, data[prev:]...), nil
}
