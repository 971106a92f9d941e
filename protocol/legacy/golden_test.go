package legacy_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/expressio-go/expressio/protocol/legacy"
)

const goldenDir = "../../testdata/legacy"

type goldenPacket struct {
	Type     int    `json:"type"`
	ID       string `json:"id"`
	Ack      bool   `json:"ack"`
	Endpoint string `json:"endpoint"`
	Data     string `json:"data"`
}

func (g goldenPacket) packet() legacy.Packet {
	return pkt(legacy.Type(g.Type), g.ID, g.Ack, g.Endpoint, g.Data)
}

type goldenCase struct {
	File    string         `json:"file"`
	Kind    string         `json:"kind"`
	Index   string         `json:"index"`
	Packets []goldenPacket `json:"packets"`
}

func loadGolden(t testing.TB) []goldenCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func readGolden(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encodeAll(t testing.TB, pkts []goldenPacket) [][]byte {
	t.Helper()
	var out [][]byte
	for _, g := range pkts {
		b, err := g.packet().Encode()
		if err != nil {
			t.Fatalf("encode %+v: %v", g, err)
		}
		out = append(out, b)
	}
	return out
}

// TestGoldenCodec checks the codec against the bytes Node's parser wrote:
// encoding gives the file, decoding the file gives the packets.
func TestGoldenCodec(t *testing.T) {
	n := 0
	for _, c := range loadGolden(t) {
		want := readGolden(t, c.File)
		switch c.Kind {
		case "packet":
			got, err := c.Packets[0].packet().Encode()
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: Encode = %q, %v; want %q", c.File, got, err, want)
			}
			p, err := legacy.Decode(want)
			if err != nil || !samePacket(p, c.Packets[0].packet()) {
				t.Errorf("%s: Decode = %+v, %v; want %+v", c.File, p, err, c.Packets[0].packet())
			}
		case "payload":
			if got := legacy.EncodeFrames(encodeAll(t, c.Packets)...); !bytes.Equal(got, want) {
				t.Errorf("%s: EncodeFrames = %q, want %q", c.File, got, want)
			}
			frames, err := legacy.DecodeFrames(want)
			if err != nil || len(frames) != len(c.Packets) {
				t.Fatalf("%s: DecodeFrames = %q, %v", c.File, frames, err)
			}
			for i, f := range frames {
				if p, err := legacy.Decode(f); err != nil || !samePacket(p, c.Packets[i].packet()) {
					t.Errorf("%s: packet %d = %+v, %v", c.File, i, p, err)
				}
			}
		default:
			continue // transport bodies: TestGoldenTransports
		}
		n++
	}
	if n < 20 {
		t.Errorf("only %d codec cases", n)
	}
}

// TestGoldenTransports has the server write the JSONP and htmlfile bodies
// Node's transports wrote, and read the form Node's client posted.
func TestGoldenTransports(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, c := range loadGolden(t) {
		want := readGolden(t, c.File)
		switch c.Kind {
		case "jsonp":
			sid, s := ts.connect(t)
			var pkts []legacy.Packet
			for _, g := range c.Packets {
				pkts = append(pkts, g.packet())
			}
			if err := s.Send(pkts...); err != nil {
				t.Fatal(err)
			}
			res := ts.get(t, "/socket.io/1/jsonp-polling/"+sid+"?t=1&i="+c.Index)
			if res.body != string(want) {
				t.Errorf("%s: body %q, want %q", c.File, res.body, want)
			}
		case "form":
			sid, _ := ts.connect(t)
			res := ts.do(t, "POST", "/socket.io/1/jsonp-polling/"+sid, string(want),
				http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
			if res.status != 200 || res.body != "1" {
				t.Errorf("%s: POST = %d %q", c.File, res.status, res.body)
			}
			for _, g := range c.Packets {
				if g.Type == int(legacy.Heartbeat) {
					continue // the server's own business
				}
				if p := ts.rec.packet(t); !samePacket(p, g.packet()) {
					t.Errorf("%s: packet %+v, want %+v", c.File, p, g.packet())
				}
			}
		case "htmlfile-preamble", "htmlfile":
			sid := ts.handshake(t)
			res, err := ts.client.Get(ts.URL + "/socket.io/1/htmlfile/" + sid)
			if err != nil {
				t.Fatal(err)
			}
			preamble := readGolden(t, "htmlfile-preamble.txt")
			connect := readGolden(t, "htmlfile-connect.txt")
			buf := make([]byte, len(preamble)+len(connect))
			if _, err := io.ReadFull(res.Body, buf); err != nil || !bytes.Equal(buf, append(preamble, connect...)) {
				t.Errorf("%s: stream starts %q, %v", c.File, buf, err)
			}
			s := ts.rec.session(t)
			if c.Kind == "htmlfile" {
				s.Send(c.Packets[0].packet())
				buf = make([]byte, len(want))
				if _, err := io.ReadFull(res.Body, buf); err != nil || !bytes.Equal(buf, want) {
					t.Errorf("%s: chunk %q, %v; want %q", c.File, buf, err, want)
				}
			}
			res.Body.Close()
			ts.rec.closed(t)
		}
	}
}
