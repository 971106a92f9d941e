package packet_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
)

// The fuzz targets are seeded with testdata/fuzz and with every golden
// file. Some goldens are a few KiB, and minimising a new input grown from
// them takes the fuzzer up to a minute each, so run with a short
// minimisation time:
//
//	go test -run '^$' -fuzz '^FuzzDecodePayload$' -fuzztime 60s -fuzzminimizetime 5s ./protocol/engineio/packet/

// addGoldenSeeds adds every golden file as a seed, in each mode.
func addGoldenSeeds(f *testing.F, add func(golden []byte, c goldenCase)) {
	f.Helper()
	for _, c := range loadGolden(f) {
		add(readGolden(f, c.File), c)
		if c.Payload != "" {
			add(readGolden(f, c.Payload), c)
		}
	}
}

// checkReencode encodes pkts in every mode of rev and decodes them back.
func checkReencode(t *testing.T, rev int, pkts []packet.Packet) {
	t.Helper()
	for _, p := range pkts {
		if !p.Type.Valid() || (p.Binary && p.Type != packet.Message) {
			t.Fatalf("decoded an impossible packet %+v", p)
		}
		if !p.Binary && !utf8.Valid(p.Data) {
			t.Fatalf("decoded a text packet that is not UTF-8: %+v", p)
		}
		frame, binary := packet.EncodeFrame(rev, p)
		q, err := packet.DecodeFrame(rev, frame, binary)
		if err != nil || !samePackets([]packet.Packet{q}, []packet.Packet{p}) {
			t.Fatalf("frame %q of %+v decodes to %+v, %v", frame, p, q, err)
		}
	}
	if rev == packet.Revision4 {
		for _, p := range pkts {
			if !p.Binary && bytes.IndexByte(p.Data, 0x1E) >= 0 {
				return // a revision-4 payload cannot carry it (documented)
			}
		}
	}
	for _, supportsBinary := range []bool{false, true} {
		body, ct := packet.EncodePayload(rev, pkts, supportsBinary)
		back, err := packet.DecodePayload(rev, body, ct == packet.ContentTypeBinary, len(pkts))
		if err != nil || !samePackets(back, pkts) {
			t.Fatalf("re-encoded payload %q (%s) decodes to %+v, %v; want %+v", body, ct, back, err, pkts)
		}
	}
}

func FuzzDecodePayload(f *testing.F) {
	addGoldenSeeds(f, func(golden []byte, c goldenCase) {
		f.Add(c.Rev == 4, c.Binary, golden)
		f.Add(c.Rev != 4, c.Binary, golden)
	})
	for _, tt := range badPayloads {
		if len(tt.body) < 1000 {
			f.Add(tt.rev == 4, tt.binary, []byte(tt.body))
		}
	}
	f.Fuzz(func(t *testing.T, rev4, binaryBody bool, body []byte) {
		rev := 3
		if rev4 {
			rev = 4
		}
		pkts, err := packet.DecodePayload(rev, body, binaryBody, 0)
		if err != nil {
			if !errors.Is(err, packet.ErrInvalidPayload) {
				t.Fatalf("error %v does not wrap ErrInvalidPayload", err)
			}
			return
		}
		if len(pkts) == 0 {
			t.Fatal("no error and no packets")
		}
		if len(pkts) > 1 {
			if _, err := packet.DecodePayload(rev, body, binaryBody, len(pkts)-1); !errors.Is(err, packet.ErrTooManyPackets) {
				t.Fatalf("limit %d: err = %v", len(pkts)-1, err)
			}
		}
		checkReencode(t, rev, pkts)
	})
}

func FuzzDecodeFrame(f *testing.F) {
	addGoldenSeeds(f, func(golden []byte, c goldenCase) {
		f.Add(c.Rev == 4, c.Binary, golden)
		f.Add(c.Rev != 4, !c.Binary, golden)
	})
	for _, s := range []string{"", "4", "b", "b4", "b4AQID", "bAQID", "2probe", "\x04\x01", "9", "4\xff"} {
		f.Add(false, false, []byte(s))
		f.Add(true, true, []byte(s))
	}
	f.Fuzz(func(t *testing.T, rev4, binary bool, data []byte) {
		rev := 3
		if rev4 {
			rev = 4
		}
		p, err := packet.DecodeFrame(rev, data, binary)
		if err != nil {
			if !errors.Is(err, packet.ErrInvalidPacket) {
				t.Fatalf("error %v does not wrap ErrInvalidPacket", err)
			}
			return
		}
		if frame, fb := packet.EncodeFrame(rev, p); (binary || data[0] != 'b') && (!bytes.Equal(frame, data) || fb != binary) {
			t.Fatalf("%+v re-encodes to %q (binary %v), decoded from %q (binary %v)", p, frame, fb, data, binary)
		}
		checkReencode(t, rev, []packet.Packet{p})
	})
}

func FuzzDecodeJSONPBody(f *testing.F) {
	addGoldenSeeds(f, func(golden []byte, c goldenCase) {
		f.Add(golden)
		if c.Kind == "payload" && !c.Binary {
			f.Add(clientForm(string(golden)))
		}
	})
	for _, s := range []string{"", "d", "d=", "d=1%3A6", `d=a\nb\\nc\\\nd`, "d=%", "d=%zz", "d=1&d=2", "x=1&d=2%3A4a"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, form []byte) {
		payload, err := packet.DecodeJSONPBody(form)
		if err != nil {
			if !errors.Is(err, packet.ErrInvalidJSONP) {
				t.Fatalf("error %v does not wrap ErrInvalidJSONP", err)
			}
			return
		}
		if len(payload) > len(form) {
			t.Fatalf("%d-byte payload from a %d-byte form", len(payload), len(form))
		}
		// What a client sends for this payload decodes back to it, except
		// for a backslash before a newline, which the escaping cannot
		// tell from an escaped \n (engine.io 3 has the same ambiguity).
		if !bytes.Contains(payload, []byte("\\\n")) && utf8.Valid(payload) {
			back, err := packet.DecodeJSONPBody(clientForm(string(payload)))
			if err != nil || !bytes.Equal(back, payload) {
				t.Fatalf("client form of %q decodes to %q, %v", payload, back, err)
			}
		}
		pkts, err := packet.DecodePayload(3, payload, false, 0)
		if err != nil {
			return
		}
		checkReencode(t, 3, pkts)
		// The JSONP answer carrying these packets is a JS string literal
		// holding exactly the text payload.
		text, _ := packet.EncodePayload(3, pkts, false)
		script := packet.EncodeJSONP("12", text)
		lit := bytes.TrimSuffix(bytes.TrimPrefix(script, []byte("___eio[12](")), []byte(");"))
		var s string
		if err := json.Unmarshal(lit, &s); err != nil || s != string(text) {
			t.Fatalf("EncodeJSONP literal %q decodes to %q, %v; want %q", lit, s, err, text)
		}
	})
}
