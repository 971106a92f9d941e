package packet_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
)

// badPayloads are polling bodies that must be rejected.
var badPayloads = []struct {
	rev    int
	binary bool
	body   string
}{
	// Revision 3, text payload.
	{3, false, ""},
	{3, false, "9"},
	{3, false, "4"},
	{3, false, ":"},
	{3, false, ":4"},
	{3, false, "99999999999999999999:4x"},
	{3, false, strings.Repeat("9", 100000) + ":4x"},
	{3, false, strings.Repeat("0", 100000) + "1:4"},
	{3, false, "3:4a"},
	{3, false, "2:4ab"},
	{3, false, "2:4a2:"},
	{3, false, "1:41:"},
	{3, false, "2:4\xff"},
	{3, false, "3:4\xc0\x80"},
	{3, false, "4:4\xed\xa0\x80"}, // an encoded surrogate
	{3, false, "2:4😀"},            // the length splits a surrogate pair
	{3, false, "b4!!!"},
	{3, false, "6:b4!!!!"},
	{3, false, "5:b4AQ="},
	{3, false, "9:b4AQ\nID="},
	{3, false, "1:b"},
	{3, false, "6:b2AQID"},
	{3, false, "0:"},
	{3, false, "1:40:"},
	{3, false, "01:4"},
	{3, false, "1:9"},
	{3, false, "1:b"},
	{3, false, "x:4"},
	{3, false, "-1:4"},
	{3, false, "+1:4"},
	{3, false, " 1:4"},
	{3, false, "1.0:4"},
	{3, false, "0x1:4"},
	{3, false, "1e0:4"},
	{3, false, "\x00\x01\xff4"}, // a binary payload sent as text
	// Revision 3, XHR2 binary payload.
	{3, true, ""},
	{3, true, "\x00"},
	{3, true, "\x00\x01"},
	{3, true, "\x01\x01\x02\x03\x04"}, // no 0xFF
	{3, true, "\x00" + strings.Repeat("\x09", 311) + "\xff4"},
	{3, true, "\x00" + strings.Repeat("\x09", 100000)},
	{3, true, "\x02\x01\xff4"},
	{3, true, "\x00\xff4"},
	{3, true, "\x00\x00\xff"},
	{3, true, "\x00\x00\x01\xff4"},
	{3, true, "\x00\x0a\xff4444444444"},
	{3, true, "\x00\x02\xff4"},
	{3, true, "\x01\x01\xff\x02"},
	{3, true, "\x01\x02\xff\x06x"},
	{3, true, "\x00\x01\xff9"},
	{3, true, "\x00\x02\xff4\xff"},
	{3, true, "\x00\x01\xff4\x00"},
	{3, true, "\x00\x01\xff4\x00\x01"},
	{3, true, "\x00\x05\xffb4!!!"},
	{3, true, "1:4"}, // a text payload sent as binary
	// Revision 4.
	{4, false, ""},
	{4, false, "\x1e"},
	{4, false, "4a\x1e"},
	{4, false, "\x1e4a"},
	{4, false, "4a\x1e\x1e4b"},
	{4, false, "9"},
	{4, false, "7x"},
	{4, false, "4\xff"},
	{4, false, "b!!!"},
	{4, false, "bAQ"},
	{4, false, "bAQ\nI="},
	{4, true, "4a"}, // revision 4 has no binary payload
}

func TestDecodePayloadRejects(t *testing.T) {
	for _, tt := range badPayloads {
		name := fmt.Sprintf("v%d/binary=%v/%.40q", tt.rev, tt.binary, tt.body)
		t.Run(name, func(t *testing.T) {
			pkts, err := packet.DecodePayload(tt.rev, []byte(tt.body), tt.binary, 0)
			if err == nil {
				t.Fatalf("decoded to %+v, want an error", pkts)
			}
			if !errors.Is(err, packet.ErrInvalidPayload) {
				t.Fatalf("err = %v, does not wrap ErrInvalidPayload", err)
			}
			if len(err.Error()) > 200 {
				t.Fatalf("error message of %d bytes: it must not echo the body", len(err.Error()))
			}
		})
	}
}

func TestDecodeFrameRejects(t *testing.T) {
	tests := []struct {
		rev    int
		binary bool
		data   string
	}{
		{3, false, ""},
		{3, false, "9"},
		{3, false, "7"},
		{3, false, "b"},
		{3, false, "b2AQID"},
		{3, false, "b4!!!"},
		{3, false, "b4AQ"},
		{3, false, "4\xff"},
		{3, false, "x"},
		{3, true, ""},
		{3, true, "\x02abc"},
		{3, true, "4abc"},
		{4, false, ""},
		{4, false, "b!"},
		{4, false, "b====="},
		{4, false, "4\xc0\x80"},
		{4, false, "\x1e"},
	}
	for _, tt := range tests {
		p, err := packet.DecodeFrame(tt.rev, []byte(tt.data), tt.binary)
		if err == nil || !errors.Is(err, packet.ErrInvalidPacket) {
			t.Errorf("DecodeFrame(%d, %q, %v) = %+v, %v; want ErrInvalidPacket", tt.rev, tt.data, tt.binary, p, err)
		}
	}
}

// TestNoBigAllocation checks that a crafted body cannot make the decoder
// allocate much more than the body itself.
func TestNoBigAllocation(t *testing.T) {
	huge := strings.Repeat("9", 1<<20)
	bodies := []struct {
		rev    int
		binary bool
		body   []byte
	}{
		{3, false, []byte(huge + ":4")},
		{3, false, []byte("999999999999:4")},
		{3, false, []byte("99999999:4" + strings.Repeat("a", 1000))},
		{3, true, []byte("\x00" + strings.Repeat("\x09", 1<<20) + "\xff4")},
		{3, true, []byte("\x00\x09\x09\x09\x09\x09\x09\x09\x09\xff4")},
		{4, false, []byte("b" + strings.Repeat("A", 1<<20) + "!")},
		{4, false, []byte(strings.Repeat("\x1e", 1<<20))},
	}
	for i, tt := range bodies {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := packet.DecodePayload(tt.rev, tt.body, tt.binary, 100)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("body %d: no error", i)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("body %d: allocated %d bytes for a %d-byte body", i, n, len(tt.body))
		}
	}
}

func TestDecodeJSONPBodyRejects(t *testing.T) {
	for _, form := range []string{"", "x=1", "dd=1", "D=1", "d=1&d=2", "d=1&%64=2", "d=%", "d=%4", "d=%zz", "d=a%g1"} {
		got, err := packet.DecodeJSONPBody([]byte(form))
		if !errors.Is(err, packet.ErrInvalidJSONP) {
			t.Errorf("DecodeJSONPBody(%q) = %q, %v; want ErrInvalidJSONP", form, got, err)
		}
	}
}
