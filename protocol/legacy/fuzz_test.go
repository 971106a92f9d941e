package legacy_test

import (
	"bytes"
	"testing"

	"github.com/expressio-go/expressio/protocol/legacy"
)

// addSeeds adds every golden file, and the bad inputs of the tables, to f.
func addSeeds(f *testing.F) {
	for _, c := range loadGolden(f) {
		f.Add(readGolden(f, c.File))
	}
	for _, s := range []string{
		"", "1", "1:", "9::", "5:+::x", "5:1+::/chat:{}", "3:::a:b", "\ufffd", "\ufffd0\ufffd",
		"\ufffd5\ufffd3:::😀", "\ufffd3\ufffd1::\ufffd", "5:" + string(bytes.Repeat([]byte("9"), 40)) + "::",
		"\ufffd4\ufffd3:::\xff", "\ufffd12345678901\ufffd1::",
	} {
		f.Add([]byte(s))
	}
}

// FuzzDecodePacket: Decode never panics, and what it accepts encodes back
// to something that decodes to the same packet, and encodes the same.
func FuzzDecodePacket(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := legacy.Decode(b)
		if err != nil {
			return
		}
		enc, err := p.Encode()
		if err != nil {
			t.Fatalf("Decode(%q) = %+v, which does not encode: %v", b, p, err)
		}
		q, err := legacy.Decode(enc)
		if err != nil || !samePacket(p, q) {
			t.Fatalf("Decode(%q) = %+v; re-encoded %q decodes to %+v, %v", b, p, enc, q, err)
		}
		enc2, _ := q.Encode()
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encodings differ: %q, %q", enc, enc2)
		}
		// The ack and event helpers never panic on what a packet carries.
		legacy.ParseEvent(p.Data)
		legacy.ParseAck(p.Data)
	})
}

// FuzzDecodeFrames: DecodeFrames never panics, and what it accepts frames
// back to a payload that splits the same way.
func FuzzDecodeFrames(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, err := legacy.DecodeFrames(b)
		if err != nil {
			return
		}
		enc := legacy.EncodeFrames(frames...)
		again, err := legacy.DecodeFrames(enc)
		if len(frames) == 1 && bytes.HasPrefix(frames[0], []byte("\ufffd")) {
			// A bare payload that starts with U+FFFD cannot come back bare;
			// such a packet never decodes anyway.
			if _, perr := legacy.Decode(frames[0]); perr == nil {
				t.Fatalf("packet %q starting with U+FFFD decoded", frames[0])
			}
			return
		}
		if err != nil || len(again) != len(frames) {
			t.Fatalf("DecodeFrames(%q) = %q; re-framed %q gives %q, %v", b, frames, enc, again, err)
		}
		for i := range frames {
			if !bytes.Equal(frames[i], again[i]) {
				t.Fatalf("frame %d: %q, then %q", i, frames[i], again[i])
			}
		}
		if enc2 := legacy.EncodeFrames(again...); !bytes.Equal(enc, enc2) {
			t.Fatalf("framings differ: %q, %q", enc, enc2)
		}
	})
}
