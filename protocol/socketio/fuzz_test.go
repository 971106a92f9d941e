package socketio

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// badFrames are the protocol violations of BAD-INPUT.md and the upstream tests,
// used as fuzz seeds (TestDecodeInvalid checks their errors).
var badFrames = []string{
	`442["some","data"`, `2["some","data"`, `0/admin,"invalid"`, `0[]`, `1/admin,{}`, `2/admin,{}`,
	`2[true,"foo"]`, `2[null,"bar"]`, `2[{"toString":"foo"}]`, `4abc`, `44["handle me please"]`, `4["handle me please"]`,
	`999`, `5`, `51`, `5a-`, `51.23-`, `5woooot`, `50-["a"]`, `5-["a"]`, `511-["a"]`,
	`51-["hello",{"_placeholder":true,"num":"splice"}]`, `51-["hello",{"_placeholder":true,"num":-1}]`,
	`52-["hello",{"_placeholder":true,"num":1.5}]`, `51-["hello",{"_placeholder":true,"num":99}]`,
	`299999999999999999999999["a"]`, `99999991:4222`, `2["connect"]`, `2["disconnecting"]`, `2["conn\u0065ct"]`,
	`0/admin,{}`, `0/admin?token=abc,`, `2 ["a"]`, `01{}`, `3["a"]`, ``,
	"2/" + strings.Repeat("n", MaxNamespaceLen) + `,["a"]`,
}

// decodeErrors are the sentinels Decode may return.
var decodeErrors = []error{
	ErrUnknownPacketType, ErrInvalidPayload, ErrReservedEventName, ErrIllegalAttachments,
	ErrTooManyAttachments, ErrInvalidNamespace, ErrInvalidAckID, ErrUnexpectedBinary, ErrUnexpectedText,
}

func FuzzDecodeV4(f *testing.F) { fuzzDecode(f, V4) }

func FuzzDecodeV5(f *testing.F) { fuzzDecode(f, V5) }

// fuzzDecode feeds a text message and then n%5 binary messages (a0, a1, a0, a1)
// to a Decoder. It must never panic; errors must wrap a sentinel; a decoded
// packet must satisfy the codec's limits, re-encode, and decode to itself.
func fuzzDecode(f *testing.F, rev Revision) {
	for _, g := range readGoldens(f) {
		var a0, a1 []byte
		if len(g.bins) > 0 {
			a0 = g.bins[0]
		}
		if len(g.bins) > 1 {
			a1 = g.bins[1]
		}
		f.Add(g.text, a0, a1, uint8(len(g.bins)))
	}
	for _, s := range badFrames {
		f.Add([]byte(s), []byte{1}, []byte{2}, uint8(1))
	}
	f.Fuzz(func(t *testing.T, text, a0, a1 []byte, n uint8) {
		d := Decoder{Revision: rev}
		var got *Packet
		p, err := d.Decode(text, false)
		for i := 0; err == nil && i < int(n%5); i++ {
			if p != nil {
				got = p
			}
			p, err = d.Decode([][]byte{a0, a1}[i%2], true)
		}
		if p != nil {
			got = p
		}
		if err != nil {
			if !isDecodeError(err) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			if d.Pending() {
				t.Fatal("decoder pending after an error")
			}
			if got == nil || !errors.Is(err, ErrUnexpectedBinary) {
				return
			}
		}
		if got == nil {
			return
		}
		checkPacket(t, rev, got)
	})
}

func isDecodeError(err error) bool {
	for _, s := range decodeErrors {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// checkPacket verifies the invariants of a decoded packet and its round trip.
func checkPacket(t *testing.T, rev Revision, p *Packet) {
	t.Helper()
	if p.Type > BinaryAck {
		t.Fatalf("type %v", p.Type)
	}
	if !strings.HasPrefix(p.Namespace, "/") || len(p.Namespace) > MaxNamespaceLen || len(p.Query) > MaxQueryLen {
		t.Fatalf("namespace %q query %q", p.Namespace, p.Query)
	}
	if rev == V5 && p.Query != "" {
		t.Fatalf("v5 query %q", p.Query)
	}
	if p.ID != NoID && (p.ID < 0 || p.ID > MaxAckID) {
		t.Fatalf("id %d", p.ID)
	}
	if p.Type.IsBinary() != (len(p.Attachments) > 0) {
		t.Fatalf("%v with %d attachments", p.Type, len(p.Attachments))
	}
	if p.Data != nil && !json.Valid(p.Data) {
		t.Fatalf("invalid data %q", p.Data)
	}
	if p.Type.IsEvent() {
		name, args, err := SplitEvent(p.Data)
		if err != nil || IsReservedEvent(name) {
			t.Fatalf("decoded event does not split: %q %v", name, err)
		}
		if _, err := ReconstructArgs(args, p.Attachments); err != nil && !errors.Is(err, ErrInvalidPayload) {
			t.Fatalf("ReconstructArgs: %v", err)
		}
	}
	if p.Type.IsBinary() {
		if _, err := InlineAttachments(p.Data, p.Attachments); err != nil {
			t.Fatalf("InlineAttachments: %v", err)
		}
	}

	text, bins := p.Encode()
	if string(p.AppendText(nil)) != string(text) {
		t.Fatal("AppendText differs from Encode")
	}
	d := Decoder{Revision: rev}
	q, err := decodeAll(&d, text, bins)
	if err != nil || !samePacket(p, q) {
		t.Fatalf("round trip of %+v\nencoded %q + %d\ndecoded %+v, %v", p, text, len(bins), q, err)
	}
}

// FuzzSplitEvent checks that SplitEvent never panics, agrees with the decoder
// on what an event is, and that its results put back together split the same.
func FuzzSplitEvent(f *testing.F) {
	for _, g := range readGoldens(f) {
		d := Decoder{Revision: g.rev}
		if p, err := decodeAll(&d, g.text, g.bins); err == nil && p.Type.IsEvent() {
			f.Add([]byte(p.Data))
		}
	}
	for _, s := range []string{`[]`, `["a"]`, ` [ "a" , 1 ] `, `[1e400]`, `[-0]`, `[true,"foo"]`, `[null,"bar"]`,
		`[{"toString":"foo"}]`, `["connect"]`, `["conn\u0065ct"]`, `["a",[1,"]"],{"b":"}"}]`, `["\ud800"]`, `{"a":1}`, `["a"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		name, args, err := SplitEvent(data)
		if len(data) > 0 && data[0] == '[' {
			var d Decoder
			_, derr := d.Decode(append([]byte("2"), data...), false)
			if (err == nil) != (derr == nil) || (err != nil && errors.Is(err, ErrReservedEventName) != errors.Is(derr, ErrReservedEventName)) {
				t.Fatalf("SplitEvent error %v, Decode error %v", err, derr)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidPayload) && !errors.Is(err, ErrReservedEventName) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if IsReservedEvent(name) {
			t.Fatalf("reserved name %q accepted", name)
		}
		joined := appendString([]byte{'['}, name)
		for _, a := range args {
			if !json.Valid(a) {
				t.Fatalf("argument %q is not JSON", a)
			}
			joined = append(append(joined, ','), a...)
		}
		joined = append(joined, ']')
		name2, args2, err := SplitEvent(joined)
		if err != nil || name2 != name || len(args2) != len(args) {
			t.Fatalf("rejoined %q: %q %d %v", joined, name2, len(args2), err)
		}
		for i := range args {
			if string(args[i]) != string(args2[i]) {
				t.Fatalf("argument %d: %q != %q", i, args[i], args2[i])
			}
		}
	})
}
