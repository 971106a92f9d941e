package packet_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
)

// goldenDir holds the wire bytes written by Node's codecs (see its README).
const goldenDir = "../../../testdata/engineio"

// goldenCase is one entry of cases.json.
type goldenCase struct {
	File          string         `json:"file"`
	Kind          string         `json:"kind"`
	Rev           int            `json:"rev"`
	Binary        bool           `json:"binary"`
	SupportsBin   bool           `json:"supportsBinary"`
	EncodeOnly    bool           `json:"encodeOnly"`
	DecodeOnly    bool           `json:"decodeOnly"`
	Index         string         `json:"index"`
	Payload       string         `json:"payload"`
	GoldenPackets []goldenPacket `json:"packets"`
	Open          *struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int64    `json:"maxPayload"`
	} `json:"open"`
}

// goldenPacket is a packet in cases.json: text, or binary as base64.
type goldenPacket struct {
	Type   string  `json:"type"`
	Text   *string `json:"text"`
	Base64 *string `json:"base64"`
}

var typeByName = map[string]packet.Type{
	"open": packet.Open, "close": packet.Close, "ping": packet.Ping, "pong": packet.Pong,
	"message": packet.Message, "upgrade": packet.Upgrade, "noop": packet.Noop,
}

func (c goldenCase) packets(t testing.TB) []packet.Packet {
	t.Helper()
	var pkts []packet.Packet
	for _, g := range c.GoldenPackets {
		typ, ok := typeByName[g.Type]
		if !ok {
			t.Fatalf("%s: unknown type %q", c.File, g.Type)
		}
		p := packet.Packet{Type: typ}
		switch {
		case g.Base64 != nil:
			data, err := base64.StdEncoding.DecodeString(*g.Base64)
			if err != nil {
				t.Fatalf("%s: %v", c.File, err)
			}
			p.Data, p.Binary = data, true
		case g.Text != nil:
			p.Data = []byte(*g.Text)
		}
		pkts = append(pkts, p)
	}
	return pkts
}

func loadGolden(t testing.TB) []goldenCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(goldenDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no golden cases")
	}
	return cases
}

func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// samePackets reports whether a and b hold the same packets, treating nil
// and empty data alike.
func samePackets(a, b []packet.Packet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Binary != b[i].Binary || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

func TestGolden(t *testing.T) {
	for _, c := range loadGolden(t) {
		t.Run(c.File, func(t *testing.T) {
			golden := readGolden(t, c.File)
			want := c.packets(t)
			switch c.Kind {
			case "frame":
				if !c.DecodeOnly {
					got, binary := packet.EncodeFrame(c.Rev, want[0])
					if !bytes.Equal(got, golden) || binary != c.Binary {
						t.Errorf("EncodeFrame = %q binary=%v, Node wrote %q binary=%v", got, binary, golden, c.Binary)
					}
				}
				p, err := packet.DecodeFrame(c.Rev, golden, c.Binary)
				if err != nil || !samePackets([]packet.Packet{p}, want) {
					t.Errorf("DecodeFrame = %+v, %v; want %+v", p, err, want[0])
				}
			case "payload":
				got, ct := packet.EncodePayload(c.Rev, want, c.SupportsBin)
				wantCT := packet.ContentTypeText
				if c.Binary {
					wantCT = packet.ContentTypeBinary
				}
				if !bytes.Equal(got, golden) || ct != wantCT {
					t.Errorf("EncodePayload = %q (%s), Node wrote %q (%s)", got, ct, golden, wantCT)
				}
				if c.EncodeOnly {
					return
				}
				pkts, err := packet.DecodePayload(c.Rev, golden, c.Binary, 0)
				if err != nil || !samePackets(pkts, want) {
					t.Errorf("DecodePayload = %+v, %v; want %+v", pkts, err, want)
				}
			case "jsonp":
				payload := readGolden(t, c.Payload)
				if got, _ := packet.EncodePayload(3, want, false); !bytes.Equal(got, payload) {
					t.Errorf("EncodePayload = %q, Node wrote %q", got, payload)
				}
				if got := packet.EncodeJSONP(c.Index, payload); !bytes.Equal(got, golden) {
					t.Errorf("EncodeJSONP = %q, Node wrote %q", got, golden)
				}
			case "jsonp-post":
				payload := readGolden(t, c.Payload)
				got, err := packet.DecodeJSONPBody(golden)
				if err != nil || !bytes.Equal(got, payload) {
					t.Fatalf("DecodeJSONPBody = %q, %v; want %q", got, err, payload)
				}
				pkts, err := packet.DecodePayload(3, got, false, 0)
				if err != nil || !samePackets(pkts, want) {
					t.Errorf("DecodePayload = %+v, %v; want %+v", pkts, err, want)
				}
			case "open":
				o := c.Open
				got := packet.OpenData(o.SID, o.Upgrades, time.Duration(o.PingInterval)*time.Millisecond,
					time.Duration(o.PingTimeout)*time.Millisecond, o.MaxPayload)
				if !bytes.Equal(got, golden) {
					t.Errorf("OpenData = %s, Node wrote %s", got, golden)
				}
			default:
				t.Fatalf("unknown kind %q", c.Kind)
			}
		})
	}
}
